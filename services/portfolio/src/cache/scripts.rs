//! The four Lua scripts of the cache protocol (see the module doc of [`super`]). Each runs
//! atomically in Redis. All of them are idempotent for fixed arguments (tokens are chosen by
//! the caller), so a call whose answer was lost may be sent again.
//!
//! Key layout shared by the scripts that take a user: `KEYS[1]` the user's generation,
//! `KEYS[2]` the user's pending writers, `KEYS[3]` the global generation, `KEYS[4]` the global
//! pending writers, `KEYS[5]` the entry. A generation is a random token; the generation of an
//! entry is `user token .. "/" .. global token`. Pending writers are a sorted set of writer
//! tokens scored by their deadline in Redis milliseconds: a member past its deadline no longer
//! counts, so a crashed writer blocks the cache for its own deadline only.

use redis::Script;

/// Helpers every script starts with. `ms` formats a Lua number as an integer (Lua's default
/// `%.14g` would switch to exponent notation for large values).
const PRELUDE: &str = r"
local function ms(x) return string.format('%.0f', x) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function writing(key, now)
  return redis.call('ZCOUNT', key, '(' .. ms(now), '+inf') > 0
end
";

/// Reads the generation (creating a fresh one when Redis has none, e.g. after a flush), the
/// pending writers and the entry. ARGV: fresh user token, fresh global token, generation TTL
/// (ms). Returns `{'pending', gen}`, `{'hit', gen, value}` or `{'miss', gen}`.
const LOOKUP: &str = r"
local function generation(key, fresh, ttl)
  local g = redis.call('GET', key)
  if not g then
    redis.call('SET', key, fresh, 'PX', ttl)
    g = fresh
  end
  return g
end
local gen = generation(KEYS[1], ARGV[1], ARGV[3]) .. '/' .. generation(KEYS[3], ARGV[2], ARGV[3])
local now = now_ms()
if writing(KEYS[2], now) or writing(KEYS[4], now) then return {'pending', gen} end
local entry = redis.call('HMGET', KEYS[5], 'gen', 'value')
if entry[1] == gen and entry[2] then return {'hit', gen, entry[2]} end
return {'miss', gen}
";

/// Stores an entry read from the inner store, only if the generation is still the one the
/// lookup saw and no writer is pending. ARGV: generation seen, value, entry TTL (ms).
/// Returns 1 when stored, 0 when refused.
const POPULATE: &str = r"
local user = redis.call('GET', KEYS[1])
local all = redis.call('GET', KEYS[3])
if not user or not all or (user .. '/' .. all) ~= ARGV[1] then return 0 end
local now = now_ms()
if writing(KEYS[2], now) or writing(KEYS[4], now) then return 0 end
redis.call('HSET', KEYS[5], 'gen', ARGV[1], 'value', ARGV[2])
redis.call('PEXPIRE', KEYS[5], ARGV[3])
return 1
";

/// Step 1 of a write, for one scope (a user or everything). KEYS: generation, pending
/// writers, then the entries to delete (none for the global scope). ARGV: writer token, fresh
/// generation, pending TTL (ms), generation TTL (ms).
const BEGIN_WRITE: &str = r"
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms(now))
redis.call('ZADD', KEYS[2], ms(now + tonumber(ARGV[3])), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
if #KEYS > 2 then redis.call('DEL', unpack(KEYS, 3)) end
return 1
";

/// Step 2 of a write, after the inner store committed (or failed). Same KEYS as
/// [`BEGIN_WRITE`]. ARGV: writer token, fresh generation, generation TTL (ms).
const END_WRITE: &str = r"
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if #KEYS > 2 then redis.call('DEL', unpack(KEYS, 3)) end
return 1
";

/// The compiled scripts (their SHA1s are computed once).
pub(crate) struct Scripts {
    pub(crate) lookup: Script,
    pub(crate) populate: Script,
    pub(crate) begin_write: Script,
    pub(crate) end_write: Script,
}

impl Scripts {
    pub(crate) fn new() -> Self {
        let with_prelude = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
        Self {
            lookup: with_prelude(LOOKUP),
            populate: with_prelude(POPULATE),
            begin_write: with_prelude(BEGIN_WRITE),
            end_write: with_prelude(END_WRITE),
        }
    }
}
