//! The users stores behind [`UserStore`] and [`KnownUsers`]: embedded (redb, here) and
//! distributed ([`mongo`]).

pub mod mongo;

use async_trait::async_trait;
use platform::group_commit::GroupCommitter;
use platform::identity::KnownUsers;
use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::domain::ports::{NameTaken, StoredUser, UserStore};
use crate::domain::user::{DisplayName, UserName};

/// user id -> postcard [`UserRecord`].
const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("auth_users");
/// user name -> user id.
const NAMES: TableDefinition<&str, u64> = TableDefinition::new("auth_user_names");
/// "next_user_id" -> counter.
const META: TableDefinition<&str, u64> = TableDefinition::new("auth_meta");

#[derive(Serialize, Deserialize)]
struct UserRecord {
    user_name: String,
    name: String,
    password_hash: String,
}

/// Users in redb. Token checks ask through `platform::remembered_users`, which caches the ids
/// that exist.
pub struct RedbUsers {
    committer: GroupCommitter,
}

impl RedbUsers {
    /// Creates the tables if needed.
    pub fn open(committer: GroupCommitter) -> anyhow::Result<Self> {
        let txn = committer.database().begin_write()?;
        txn.open_table(USERS)?;
        txn.open_table(NAMES)?;
        txn.open_table(META)?;
        txn.commit()?;
        Ok(Self { committer })
    }
}

fn insert_user(
    txn: &WriteTransaction,
    record: &UserRecord,
) -> anyhow::Result<Result<u64, NameTaken>> {
    let mut names = txn.open_table(NAMES)?;
    if names.get(record.user_name.as_str())?.is_some() {
        return Ok(Err(NameTaken));
    }
    let mut meta = txn.open_table(META)?;
    let user_id = meta.get("next_user_id")?.map_or(1, |v| v.value());
    meta.insert("next_user_id", user_id + 1)?;
    names.insert(record.user_name.as_str(), user_id)?;
    txn.open_table(USERS)?
        .insert(user_id, postcard::to_stdvec(record)?.as_slice())?;
    Ok(Ok(user_id))
}

#[async_trait]
impl UserStore for RedbUsers {
    async fn insert(
        &self,
        name: &UserName,
        display_name: &DisplayName,
        password_hash: String,
    ) -> anyhow::Result<Result<u64, NameTaken>> {
        let record = UserRecord {
            user_name: name.as_str().to_owned(),
            name: display_name.as_str().to_owned(),
            password_hash,
        };
        self.committer
            .run(move |txn| insert_user(txn, &record))
            .await
    }

    async fn find_by_name(&self, name: &UserName) -> anyhow::Result<Option<StoredUser>> {
        let txn = self.committer.database().begin_read()?;
        let Some(user_id) = txn
            .open_table(NAMES)?
            .get(name.as_str())?
            .map(|v| v.value())
        else {
            return Ok(None);
        };
        let Some(bytes) = txn.open_table(USERS)?.get(user_id)? else {
            return Ok(None);
        };
        let record: UserRecord = postcard::from_bytes(bytes.value())?;
        Ok(Some(StoredUser {
            user_id,
            password_hash: record.password_hash,
        }))
    }
}

#[async_trait]
impl KnownUsers for RedbUsers {
    async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
        let txn = self.committer.database().begin_read()?;
        Ok(txn.open_table(USERS)?.get(user_id)?.is_some())
    }
}
