//! Tests of the MongoDB users store against a real SecantusDB (one fresh database per test).

use std::sync::Arc;

use platform::identity::KnownUsers;
use test_services::mongo::TestMongo;

use super::MongoUsers;
use crate::domain::ports::{NameTaken, UserStore};
use crate::domain::user::{DisplayName, UserName};

async fn store() -> (TestMongo, MongoUsers) {
    let server = TestMongo::shared();
    let users = MongoUsers::connect(&server.url(), server.database_name())
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", server.url()));
    (server, users)
}

fn name(text: &str) -> UserName {
    UserName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn display(text: &str) -> DisplayName {
    DisplayName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

async fn insert(users: &MongoUsers, user_name: &str) -> Result<u64, NameTaken> {
    users
        .insert(
            &name(user_name),
            &display("Someone"),
            format!("hash-{user_name}"),
        )
        .await
        .unwrap_or_else(|e| panic!("insert {user_name}: {e:#}"))
}

#[tokio::test]
async fn a_taken_name_is_refused_and_users_are_found_by_name_and_id() {
    let (_server, users) = store().await;
    let first = insert(&users, "alice").await;
    assert_eq!(first, Ok(1), "ids start at 1");
    assert_eq!(insert(&users, "alice").await, Err(NameTaken));
    let found = users.find_by_name(&name("alice")).await.ok().flatten();
    assert_eq!(
        found.map(|u| (u.user_id, u.password_hash)),
        Some((1, "hash-alice".to_owned()))
    );
    assert!(matches!(users.find_by_name(&name("bob")).await, Ok(None)));
    assert_eq!(users.exists(1).await.ok(), Some(true));
    assert_eq!(users.exists(2).await.ok(), Some(false));
    assert_eq!(
        insert(&users, "bob").await.ok().map(|id| id > 1),
        Some(true)
    );
}

#[tokio::test]
async fn concurrent_registrations_get_unique_ids_and_one_name_wins_once() {
    let (_server, users) = store().await;
    let users = Arc::new(users);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let users = Arc::clone(&users);
        tasks.push(tokio::spawn(async move {
            // Eight distinct names, each registered twice at the same time.
            insert(&users, &format!("user{}", i % 8)).await
        }));
    }
    let mut ids = Vec::new();
    let mut taken = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(id)) => ids.push(id),
            Ok(Err(NameTaken)) => taken += 1,
            Err(e) => panic!("task: {e}"),
        }
    }
    ids.sort_unstable();
    let distinct = ids.len();
    ids.dedup();
    assert_eq!((distinct, ids.len(), taken), (8, 8, 8), "ids {ids:?}");
    for id in ids {
        assert_eq!(users.exists(id).await.ok(), Some(true));
    }
}
