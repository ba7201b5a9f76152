//! Register, login and the two ways to present a token.

use serde_json::json;
use system_tests::app::spawn_app;
use system_tests::checks::{expect_error, expect_ok, expect_ok_null};
use system_tests::http::Auth;
use system_tests::names::unique;
use system_tests::trader::{PASSWORD, Trader, login, register};

#[test]
fn register_then_login_returns_a_token() {
    let app = spawn_app();
    let api = app.api();
    let user_name = unique("alice");
    expect_ok_null(&register(&api, &user_name, PASSWORD, "Alice"));
    let data = expect_ok(&login(&api, &user_name, PASSWORD));
    let token = data["token"].as_str().unwrap_or_default();
    assert_eq!(
        token.split('.').count(),
        3,
        "login data is {{\"token\": <jwt>}}: {data}"
    );
    assert_eq!(data.as_object().map(|object| object.len()), Some(1));
}

#[test]
fn duplicate_user_name_is_400_whatever_the_password() {
    let app = spawn_app();
    let api = app.api();
    let user_name = unique("bob");
    expect_ok_null(&register(&api, &user_name, PASSWORD, "Bob"));
    expect_error(&register(&api, &user_name, PASSWORD, "Bob"), 400);
    expect_error(
        &register(&api, &user_name, "another-password", "Other"),
        400,
    );
    expect_ok(&login(&api, &user_name, PASSWORD));
    expect_error(&login(&api, &user_name, "another-password"), 400);
}

#[test]
fn register_with_missing_or_empty_fields_is_400() {
    let app = spawn_app();
    let api = app.api();
    let user_name = unique("carol");
    let bodies = [
        json!({"password": PASSWORD, "name": "Carol"}),
        json!({"user_name": user_name, "name": "Carol"}),
        json!({"user_name": user_name, "password": PASSWORD}),
        json!({"user_name": "", "password": PASSWORD, "name": "Carol"}),
        json!({"user_name": user_name, "password": "", "name": "Carol"}),
        json!({"user_name": user_name, "password": PASSWORD, "name": ""}),
        json!({"user_name": null, "password": PASSWORD, "name": "Carol"}),
        json!({}),
    ];
    for body in &bodies {
        expect_error(&api.post("/authentication/register", Auth::None, body), 400);
    }
    expect_error(&login(&api, &user_name, PASSWORD), 400);
    expect_ok_null(&register(&api, &user_name, PASSWORD, "Carol"));
}

#[test]
fn wrong_password_and_unknown_user_get_the_same_400() {
    let app = spawn_app();
    let api = app.api();
    let user_name = unique("dave");
    expect_ok_null(&register(&api, &user_name, PASSWORD, "Dave"));
    let wrong_password = login(&api, &user_name, "not-the-password");
    let unknown_user = login(&api, &unique("nobody"), PASSWORD);
    let wrong_password_message = expect_error(&wrong_password, 400);
    let unknown_user_message = expect_error(&unknown_user, 400);
    assert_eq!(wrong_password_message, unknown_user_message);
    assert_eq!(
        wrong_password.text, unknown_user.text,
        "the bodies must not tell the cases apart"
    );
    expect_error(
        &api.post(
            "/authentication/login",
            Auth::None,
            &json!({"user_name": user_name}),
        ),
        400,
    );
}

const PROTECTED_GETS: [&str; 5] = [
    "/transaction/getStockPrices",
    "/transaction/getStockPortfolio",
    "/transaction/getWalletBalance",
    "/transaction/getWalletTransactions",
    "/transaction/getStockTransactions",
];

const PROTECTED_POSTS: [&str; 5] = [
    "/setup/createStock",
    "/setup/addStockToUser",
    "/transaction/addMoneyToWallet",
    "/engine/placeStockOrder",
    "/engine/cancelStockTransaction",
];

#[test]
fn protected_endpoints_without_a_valid_token_are_401() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "erin");
    let tampered = tamper(&trader.token);
    let bad_tokens = ["", "not-a-jwt", "a.b.c", tampered.as_str()];
    for path in PROTECTED_GETS {
        expect_error(&api.get(path, Auth::None), 401);
        for bad in bad_tokens {
            expect_error(&api.get(path, Auth::Token(bad)), 401);
            expect_error(&api.get(path, Auth::Bearer(bad)), 401);
        }
        expect_ok(&api.get(path, Auth::Token(&trader.token)));
    }
    let body = json!({"stock_name": unique("Unauthorised"), "amount": 10});
    for path in PROTECTED_POSTS {
        expect_error(&api.post(path, Auth::None, &body), 401);
        expect_error(&api.post(path, Auth::Token(&tampered), &body), 401);
    }
    assert_eq!(trader.wallet_transactions(), json!([]));
    assert_eq!(
        trader.balance(),
        json!(0),
        "no rejected deposit went through"
    );
}

#[test]
fn bearer_is_accepted_and_the_token_header_wins() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "frank");
    let path = "/transaction/getWalletBalance";
    let expected = json!({"balance": 0});
    assert_eq!(
        expect_ok(&api.get(path, Auth::Bearer(&trader.token))),
        expected
    );
    let both_valid_token = Auth::Both {
        token: &trader.token,
        bearer: "garbage",
    };
    assert_eq!(expect_ok(&api.get(path, both_valid_token)), expected);
    let both_invalid_token = Auth::Both {
        token: "garbage",
        bearer: &trader.token,
    };
    expect_error(&api.get(path, both_invalid_token), 401);
}

#[test]
fn each_user_sees_their_own_account() {
    let app = spawn_app();
    let api = app.api();
    let first = Trader::register(&api, "grace");
    let second = Trader::register(&api, "heidi");
    first.deposit(70);
    assert_eq!(first.balance(), json!(70));
    assert_eq!(second.balance(), json!(0));
    let again = Trader::login(&api, &first.user_name);
    assert_eq!(
        again.balance(),
        json!(70),
        "a second login sees the same account"
    );
}

/// The same JWT with one signature character changed.
fn tamper(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.len() - 2; // the final char of base64url may carry padding bits only
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap_or_default()
}

#[test]
fn forged_tokens_are_401() {
    let app = spawn_app();
    let api = app.api();
    let trader = Trader::register(&api, "mallory");
    let mut parts = trader.token.split('.');
    let (_, payload) = (parts.next(), parts.next().unwrap_or_default());
    let unsigned = format!("{}.{payload}.", base64url(br#"{"alg":"none","typ":"JWT"}"#));
    let other_algorithm = format!(
        "{}.{payload}.{}",
        base64url(br#"{"alg":"HS512","typ":"JWT"}"#),
        base64url(&[7; 64])
    );
    let forged_subject = format!(
        "{}.{}.{}",
        base64url(br#"{"alg":"HS256","typ":"JWT"}"#),
        base64url(br#"{"sub":"someone","exp":4102444800,"iat":1700000000}"#),
        base64url(&[1; 32])
    );
    for forged in [unsigned, other_algorithm, forged_subject] {
        expect_error(
            &api.get("/transaction/getWalletBalance", Auth::Token(&forged)),
            401,
        );
        expect_error(
            &api.get("/transaction/getWalletBalance", Auth::Bearer(&forged)),
            401,
        );
    }
}

/// Unpadded base64url, as JWTs use it.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let block = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |block, (index, byte)| {
                block | u32::from(*byte) << (16 - 8 * index)
            });
        for index in 0..=chunk.len() {
            let sextet = (block >> (18 - 6 * index)) & 0x3f;
            text.push(char::from(ALPHABET[sextet as usize]));
        }
    }
    text
}

#[test]
fn base64url_matches_known_vectors() {
    assert_eq!(base64url(b"f"), "Zg");
    assert_eq!(base64url(b"fo"), "Zm8");
    assert_eq!(base64url(b"foo"), "Zm9v");
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    assert_eq!(base64url_decode("Zm9vYg"), b"foob");
    assert_eq!(
        base64url_decode(&base64url(&[0xfb, 0xff, 1])),
        [0xfb, 0xff, 1]
    );
}

#[test]
fn tokens_last_at_least_a_day_and_carry_sub_iat_exp() {
    let app = spawn_app();
    let trader = Trader::register(&app.api(), "patient");
    let payload = trader.token.split('.').nth(1).unwrap_or_default();
    let claims: serde_json::Value = serde_json::from_slice(&base64url_decode(payload))
        .unwrap_or_else(|error| panic!("JWT payload is not JSON ({error}): {payload}"));
    let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
    let (Some(iat), Some(exp)) = (iat, exp) else {
        panic!("JWT claims need numeric iat and exp: {claims}");
    };
    assert!(claims["sub"].is_string(), "JWT claims need a sub: {claims}");
    assert!(
        exp >= iat + 24 * 3600,
        "tokens must outlive a long load run (24 h default): {claims}"
    );
}

/// Decodes unpadded base64url (invalid characters decode as zero bits, enough for a test).
fn base64url_decode(text: &str) -> Vec<u8> {
    let sextet = |byte: u8| match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => 0,
    };
    let mut bytes = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let block = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |block, (index, byte)| {
                block | u32::from(sextet(*byte)) << (18 - 6 * index)
            });
        for index in 0..chunk.len().saturating_sub(1) {
            bytes.push(block.to_be_bytes()[index + 1]);
        }
    }
    bytes
}
