//! The distributed users store (MongoDB), behind [`UserStore`] and [`KnownUsers`].
//!
//! Collections: `users` (`_id` = user id as Int64, `user_name` under a unique index, `name`,
//! `password_hash`) and `counters` (`_id` = counter name, `last` = the last id handed out).
//! Ids come from an atomic `findOneAndUpdate` `$inc` (upsert) outside any transaction: unique,
//! increasing, with a gap when an insert then loses the name race (ids are never reused). The
//! unique index on the name decides concurrent registrations of one name: exactly one wins.
//! Every write uses write concern majority; reads use read concern majority.

use async_trait::async_trait;
use mongodb::bson::{Document, doc};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{DatabaseOptions, IndexOptions, ReadConcern, ReturnDocument, WriteConcern};
use mongodb::{Client, Collection, IndexModel};
use platform::identity::KnownUsers;

use crate::domain::ports::{NameTaken, StoredUser, UserStore};
use crate::domain::user::{DisplayName, UserName};

/// The server's code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;
/// Attempts of a counter increment (only the first upserts of the counter can race).
const COUNTER_ATTEMPTS: usize = 3;
/// The counter of user ids in `counters`.
const USER_ID_COUNTER: &str = "user_id";

/// Users in MongoDB.
pub struct MongoUsers {
    users: Collection<Document>,
    counters: Collection<Document>,
}

impl MongoUsers {
    /// Connects to `url`, uses database `db_name` and creates the indexes (idempotent).
    pub async fn connect(url: &str, db_name: &str) -> anyhow::Result<Self> {
        let client = Client::with_uri_str(url).await?;
        Self::open(&client, db_name).await
    }

    /// Uses database `db_name` of `client` and creates the indexes (idempotent).
    pub async fn open(client: &Client, db_name: &str) -> anyhow::Result<Self> {
        let options = DatabaseOptions::builder()
            .write_concern(WriteConcern::majority())
            .read_concern(ReadConcern::majority())
            .build();
        let database = client.database_with_options(db_name, options);
        let users = database.collection::<Document>("users");
        let unique_name = IndexModel::builder()
            .keys(doc! { "user_name": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build();
        users.create_index(unique_name).await?;
        let counters = database.collection::<Document>("counters");
        // Create the counter up front, so registrations do not race to create it.
        let created = counters
            .update_one(
                doc! { "_id": USER_ID_COUNTER },
                doc! { "$setOnInsert": { "last": 0_i64 } },
            )
            .upsert(true)
            .await;
        // Another process creating it at the same moment is as good.
        if let Err(error) = created
            && !is_duplicate_key(&error)
        {
            return Err(error.into());
        }
        Ok(Self { users, counters })
    }

    async fn next_user_id(&self) -> anyhow::Result<u64> {
        let mut attempt = 1;
        loop {
            let result = self
                .counters
                .find_one_and_update(
                    doc! { "_id": USER_ID_COUNTER },
                    doc! { "$inc": { "last": 1_i64 } },
                )
                .upsert(true)
                .return_document(ReturnDocument::After)
                .await;
            match result {
                Ok(Some(counter)) => return Ok(u64::try_from(counter.get_i64("last")?)?),
                // Two first upserts of the counter race: one inserts, the other fails on the
                // key (or, on SecantusDB, returns nothing). It exists now; increment again.
                Ok(None) if attempt < COUNTER_ATTEMPTS => {}
                Err(error) if attempt < COUNTER_ATTEMPTS && is_duplicate_key(&error) => {}
                Ok(None) => anyhow::bail!("the user id counter upsert returned nothing"),
                Err(error) => return Err(error.into()),
            }
            attempt += 1;
        }
    }
}

fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    matches!(
        error.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY
    )
}

#[async_trait]
impl UserStore for MongoUsers {
    async fn insert(
        &self,
        name: &UserName,
        display_name: &DisplayName,
        password_hash: String,
    ) -> anyhow::Result<Result<u64, NameTaken>> {
        // The common refusal costs no id; the unique index decides the races.
        if self.find_by_name(name).await?.is_some() {
            return Ok(Err(NameTaken));
        }
        let user_id = self.next_user_id().await?;
        let record = doc! {
            "_id": i64::try_from(user_id)?,
            "user_name": name.as_str(),
            "name": display_name.as_str(),
            "password_hash": password_hash,
        };
        match self.users.insert_one(record).await {
            Ok(_) => Ok(Ok(user_id)),
            Err(error) if is_duplicate_key(&error) => Ok(Err(NameTaken)),
            Err(error) => Err(error.into()),
        }
    }

    async fn find_by_name(&self, name: &UserName) -> anyhow::Result<Option<StoredUser>> {
        let Some(record) = self
            .users
            .find_one(doc! { "user_name": name.as_str() })
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredUser {
            user_id: u64::try_from(record.get_i64("_id")?)?,
            password_hash: record.get_str("password_hash")?.to_owned(),
        }))
    }
}

#[async_trait]
impl KnownUsers for MongoUsers {
    async fn exists(&self, user_id: u64) -> anyhow::Result<bool> {
        let Ok(id) = i64::try_from(user_id) else {
            return Ok(false);
        };
        let exists = self
            .users
            .find_one(doc! { "_id": id })
            .projection(doc! { "_id": 1 })
            .await?
            .is_some();
        Ok(exists)
    }
}

#[cfg(test)]
mod tests;
