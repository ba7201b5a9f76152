//! The Redis half of the protocol: lookups, guarded populates, and the two steps around each
//! write. Every failure to reach Redis comes back wrapped in [`Unavailable`].

use std::time::Duration;

use platform::error::Unavailable;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind};

use super::CacheSettings;
use super::keys::{Entry, Keys, Scope};
use super::scripts::Scripts;

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A current entry.
    Hit {
        /// The generation it was read under.
        generation: String,
        /// Its text.
        value: String,
    },
    /// No current entry; populate under `generation` after reading the inner store.
    Miss {
        /// The generation to populate under.
        generation: String,
    },
    /// A write is in flight: read the inner store and do not populate.
    Pending,
}

/// A write between its two steps: who it is and what it touches.
pub(crate) struct Ticket {
    writer: String,
    scopes: Vec<Scope>,
}

/// The connection, the key names, the scripts and the TTLs.
pub(crate) struct RedisSide {
    connection: ConnectionManager,
    keys: Keys,
    scripts: Scripts,
    entry_ttl_ms: u64,
    generation_ttl_ms: u64,
    pending_ttl_ms: u64,
}

/// A random token (128 bits, hex): never repeats, so no generation can come back.
fn token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

impl RedisSide {
    /// Connects (the first connection is made now, so a wrong URL or a Redis that is down is
    /// reported at start); later reconnects are the connection manager's.
    pub(crate) async fn connect(
        url: &str,
        prefix: &str,
        settings: &CacheSettings,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::Error::new(e).context("invalid Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.connect_timeout))
            .set_response_timeout(Some(settings.response_timeout))
            .set_number_of_retries(settings.reconnect_attempts)
            .set_max_delay(settings.connect_timeout);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failure)?;
        Ok(Self {
            connection,
            keys: Keys::new(prefix),
            scripts: Scripts::new(),
            entry_ttl_ms: millis(settings.entry_ttl),
            generation_ttl_ms: millis(settings.generation_ttl),
            pending_ttl_ms: millis(settings.pending_ttl),
        })
    }

    /// The generation, pending writers and entry of `user_id`, in one script.
    pub(crate) async fn lookup(&self, user_id: u64, entry: Entry) -> anyhow::Result<Lookup> {
        let mut call = self.scripts.lookup.prepare_invoke();
        self.user_keys(&mut call, user_id, entry);
        call.arg(token()).arg(token()).arg(self.generation_ttl_ms);
        let call = &call;
        let reply: Vec<String> = self
            .retrying(|mut c| async move { call.invoke_async(&mut c).await })
            .await?;
        match reply.as_slice() {
            [state, _] if state == "pending" => Ok(Lookup::Pending),
            [state, generation] if state == "miss" => Ok(Lookup::Miss {
                generation: generation.clone(),
            }),
            [state, generation, value] if state == "hit" => Ok(Lookup::Hit {
                generation: generation.clone(),
                value: value.clone(),
            }),
            other => anyhow::bail!("unexpected cache lookup reply {other:?}"),
        }
    }

    /// Stores `value` if `generation` is still current and no writer is pending; true when
    /// stored.
    pub(crate) async fn populate(
        &self,
        user_id: u64,
        entry: Entry,
        generation: &str,
        value: &str,
    ) -> anyhow::Result<bool> {
        let mut call = self.scripts.populate.prepare_invoke();
        self.user_keys(&mut call, user_id, entry);
        call.arg(generation).arg(value).arg(self.entry_ttl_ms);
        let call = &call;
        let stored: i64 = self
            .retrying(|mut c| async move { call.invoke_async(&mut c).await })
            .await?;
        Ok(stored == 1)
    }

    /// Step 1: marks a writer pending on every scope and invalidates their entries.
    pub(crate) async fn begin_write(&self, scopes: Vec<Scope>) -> anyhow::Result<Ticket> {
        let ticket = Ticket {
            writer: token(),
            scopes,
        };
        let pending_ttl_ms = self.pending_ttl_ms;
        self.write_step(&ticket, &self.scripts.begin_write, |call| {
            call.arg(&ticket.writer)
                .arg(token())
                .arg(pending_ttl_ms)
                .arg(self.generation_ttl_ms);
        })
        .await?;
        Ok(ticket)
    }

    /// Step 2: the writer is no longer pending; fresh generations, entries deleted.
    pub(crate) async fn end_write(&self, ticket: &Ticket) -> anyhow::Result<()> {
        self.write_step(ticket, &self.scripts.end_write, |call| {
            call.arg(&ticket.writer)
                .arg(token())
                .arg(self.generation_ttl_ms);
        })
        .await
    }

    /// One script call per scope of `ticket`, pipelined (a settle batch touches many users),
    /// preceded by loading the script (after a Redis restart it is gone).
    async fn write_step(
        &self,
        ticket: &Ticket,
        script: &redis::Script,
        args: impl Fn(&mut redis::ScriptInvocation<'_>),
    ) -> anyhow::Result<()> {
        let mut pipe = redis::pipe();
        pipe.load_script(script).ignore();
        for scope in &ticket.scopes {
            let mut call = script.prepare_invoke();
            call.key(self.keys.generation(*scope))
                .key(self.keys.pending(*scope));
            for entry in self.keys.entries(*scope) {
                call.key(entry);
            }
            args(&mut call);
            pipe.invoke_script(&call).ignore();
        }
        let pipe = &pipe;
        self.retrying(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await
    }

    fn user_keys(&self, call: &mut redis::ScriptInvocation<'_>, user_id: u64, entry: Entry) {
        call.key(self.keys.generation(Scope::User(user_id)))
            .key(self.keys.pending(Scope::User(user_id)))
            .key(self.keys.generation(Scope::All))
            .key(self.keys.pending(Scope::All))
            .key(self.keys.entry(user_id, entry));
    }

    /// Runs `call` on the shared connection; sends it once more when the connection turned
    /// out to be broken (e.g. Redis restarted since the last call: the first call only
    /// discovers that and starts the reconnect), but not when Redis refused to connect (it is
    /// down: answer 503 now). Safe because every script is idempotent for fixed arguments.
    async fn retrying<T, F, Fut>(&self, call: F) -> anyhow::Result<T>
    where
        F: Fn(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match call(self.connection.clone()).await {
            Ok(value) => Ok(value),
            Err(error) if is_outage(&error) && !error.is_connection_refusal() => {
                tracing::debug!(%error, "Redis call failed, retrying once on a new connection");
                call(self.connection.clone()).await.map_err(failure)
            }
            Err(error) => Err(failure(error)),
        }
    }
}

/// True when `error` means Redis cannot be reached or cannot serve now, as opposed to a
/// command Redis refused (a bug here).
fn is_outage(error: &RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_cluster_error()
        || error.is_unrecoverable_error()
        || error.code() == Some("OOM")
        || matches!(
            error.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::ReadOnly
                )
        )
}

/// A Redis error as the port reports it: outages carry the [`Unavailable`] marker (a 503).
fn failure(error: RedisError) -> anyhow::Error {
    let outage = is_outage(&error);
    let error = anyhow::Error::new(error);
    if outage {
        error.context(Unavailable("redis"))
    } else {
        error.context("Redis refused a cache command")
    }
}
