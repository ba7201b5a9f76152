//! The embedded exchange behind nginx, every role's upstream pointing at it.

use crate::{Answer, answer, assert_secured, client, failure_envelope};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};
use system_tests::app::{TestApp, spawn_local_app};
use system_tests::http::{Api, Auth, Reply};
use system_tests::names::unique;
use system_tests::trader::{PASSWORD, Trader};
use test_services::nginx::{TestNginx, Upstreams};

/// The exchange's body limit (`MAX_BODY_BYTES` in services/platform/src/json_body.rs), which
/// nginx's `client_max_body_size` must equal.
const MAX_BODY_BYTES: usize = 16 * 1024;
/// nginx's register/login burst: this many requests pass at once before the first 429.
const AUTH_BURST: u32 = 200;
/// nginx's register/login rate per client address, once the burst is spent.
const AUTH_RATE_PER_SECOND: f64 = 100.0;
/// How long the login flood may take to reach the limit.
const FLOOD_DEADLINE: Duration = Duration::from_secs(60);
/// Threads sending the login flood.
const FLOOD_THREADS: u32 = 4;
/// Keys whose values differ between two users doing the same thing.
const PER_USER_KEYS: [&str; 7] = [
    "token",
    "stock_name",
    "stock_id",
    "stock_tx_id",
    "wallet_tx_id",
    "parent_stock_tx_id",
    "time_stamp",
];

/// nginx in front of a fresh embedded exchange. Fields drop in order: nginx first.
struct Gateway {
    nginx: TestNginx,
    app: TestApp,
}

impl Gateway {
    fn start() -> Self {
        let app = spawn_local_app();
        let address: SocketAddr = app
            .base_url()
            .trim_start_matches("http://")
            .parse()
            .unwrap_or_else(|error| panic!("{}: not an address: {error}", app.base_url()));
        let nginx = TestNginx::start(&Upstreams::all_at(address));
        Self { nginx, app }
    }

    fn proxied(&self) -> Api {
        Api::new(&self.nginx.base_url())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.nginx.base_url())
    }
}

/// One request of a scripted flow and what came back.
#[derive(Debug, PartialEq)]
struct Step {
    request: String,
    status: u16,
    body: Value,
}

/// Runs the course's steps for one new user through `api`, recording every answer.
struct Flow<'a> {
    api: &'a Api,
    steps: Vec<Step>,
}

impl Flow<'_> {
    fn send(&mut self, method: Method, path: &str, auth: Auth<'_>, body: Option<String>) -> Value {
        let reply = self
            .api
            .try_request(method, path, auth, body)
            .unwrap_or_else(|error| panic!("{path}: request failed: {error}"));
        let body = reply.json();
        self.steps.push(Step {
            request: reply.request,
            status: reply.status,
            body: body.clone(),
        });
        body
    }

    fn post(&mut self, path: &str, auth: Auth<'_>, body: &Value) -> Value {
        self.send(Method::POST, path, auth, Some(body.to_string()))
    }

    fn get(&mut self, path: &str, auth: Auth<'_>) -> Value {
        self.send(Method::GET, path, auth, None)
    }
}

/// A new user through `api`: register, login, deposit, balance, a stock, a sell order and its
/// cancel, reads after each, and the usual mistakes. Returns the answers and the user's token.
fn course_flow(api: &Api) -> (Vec<Step>, String) {
    let mut flow = Flow {
        api,
        steps: Vec::new(),
    };
    let user = unique("gw");
    let register = json!({"user_name": user, "password": PASSWORD, "name": "Gate Way"});
    flow.post("/authentication/register", Auth::None, &register);
    flow.post("/authentication/register", Auth::None, &register);
    let wrong = json!({"user_name": user, "password": "wrong-password"});
    flow.post("/authentication/login", Auth::None, &wrong);
    let login = json!({"user_name": user, "password": PASSWORD});
    let token = flow.post("/authentication/login", Auth::None, &login)["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login gave no token"))
        .to_string();
    let auth = Auth::Token(&token);
    flow.post(
        "/transaction/addMoneyToWallet",
        auth,
        &json!({"amount": 1000}),
    );
    flow.post("/transaction/addMoneyToWallet", auth, &json!({"amount": 0}));
    flow.get("/transaction/getWalletBalance", Auth::None);
    flow.get("/transaction/getWalletBalance", auth);
    let stock = json!({"stock_name": unique("GateStock")});
    let stock_id = flow.post("/setup/createStock", auth, &stock)["data"]["stock_id"].clone();
    flow.post(
        "/setup/addStockToUser",
        auth,
        &json!({"stock_id": stock_id, "quantity": 10}),
    );
    let sell = json!({"stock_id": stock_id, "is_buy": false, "order_type": "LIMIT",
                      "quantity": 4, "price": 50});
    flow.post("/engine/placeStockOrder", auth, &sell);
    flow.get("/transaction/getStockPortfolio", auth);
    let orders = flow.get("/transaction/getStockTransactions", auth);
    let order_id = orders["data"][0]["stock_tx_id"].clone();
    let cancel = json!({"stock_tx_id": order_id});
    flow.post("/engine/cancelStockTransaction", auth, &cancel);
    flow.post("/engine/cancelStockTransaction", auth, &cancel);
    flow.get("/transaction/getStockTransactions", auth);
    flow.get("/transaction/getWalletTransactions", auth);
    flow.send(
        Method::POST,
        "/engine/placeStockOrder",
        auth,
        Some("{".into()),
    );
    flow.get("/transaction/noSuchThing", auth);
    flow.get("/engine/placeStockOrder", auth);
    (flow.steps, token)
}

/// `value` with the values of [`PER_USER_KEYS`] replaced by their key name.
fn redact_per_user(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let item = if PER_USER_KEYS.contains(&key.as_str()) && !item.is_null() {
                        Value::String(format!("<{key}>"))
                    } else {
                        redact_per_user(item)
                    };
                    (key.clone(), item)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_per_user).collect()),
        other => other.clone(),
    }
}

/// Every read a user can make, as exact body text.
fn reads(api: &Api, token: &str) -> BTreeMap<&'static str, (u16, String)> {
    [
        "/transaction/getWalletBalance",
        "/transaction/getWalletTransactions",
        "/transaction/getStockPortfolio",
        "/transaction/getStockTransactions",
        "/transaction/getStockPrices",
    ]
    .into_iter()
    .map(|path| {
        let reply: Reply = api.get(path, Auth::Token(token));
        (path, (reply.status, reply.text))
    })
    .collect()
}

#[test]
fn a_course_flow_through_nginx_answers_exactly_as_the_exchange_does_directly() {
    let gateway = Gateway::start();
    let proxied = gateway.proxied();
    let direct = gateway.app.api();

    // The same steps for two new users, one through each door: the same answers.
    let (through_nginx, proxied_token) = course_flow(&proxied);
    let (straight, direct_token) = course_flow(&direct);
    assert_eq!(through_nginx.len(), straight.len());
    for (via_nginx, via_direct) in through_nginx.iter().zip(&straight) {
        assert_eq!(
            (via_nginx.status, redact_per_user(&via_nginx.body)),
            (via_direct.status, redact_per_user(&via_direct.body)),
            "{} through nginx vs directly",
            via_nginx.request
        );
    }
    let statuses: Vec<u16> = through_nginx.iter().map(|step| step.status).collect();
    assert_eq!(
        statuses,
        [
            200, 400, 400, 200, 200, 400, 401, 200, 200, 200, 200, 200, 200, 200, 400, 200, 200,
            400, 404, 405
        ],
        "the flow exercised what it means to: {through_nginx:#?}"
    );

    // Every read of both users, byte for byte, through nginx and directly.
    for token in [&proxied_token, &direct_token] {
        assert_eq!(reads(&proxied, token), reads(&direct, token));
    }
}

#[test]
fn a_body_over_the_exchanges_limit_is_413_in_its_envelope_and_one_at_the_limit_passes() {
    let gateway = Gateway::start();
    let trader = Trader::register(&gateway.proxied(), "big");
    let http = client();
    let deposit = |base: &str, bytes: usize| -> Answer {
        // {"amount":5,"pad":"xxx..."} padded to exactly `bytes` bytes.
        let frame = r#"{"amount":5,"pad":""}"#;
        let body = format!(
            r#"{{"amount":5,"pad":"{}"}}"#,
            "x".repeat(bytes - frame.len())
        );
        assert_eq!(body.len(), bytes);
        let builder = http
            .post(format!("{base}/transaction/addMoneyToWallet"))
            .header("token", &trader.token)
            .header("content-type", "application/json")
            .body(body);
        answer(
            &format!("POST addMoneyToWallet of {bytes} bytes to {base}"),
            builder,
        )
    };
    let via_nginx = gateway.nginx.base_url();
    let direct = gateway.app.base_url().to_string();

    let at_limit = deposit(&via_nginx, MAX_BODY_BYTES);
    assert_ne!(at_limit.status, 413, "{}", at_limit.text);
    let at_limit_direct = deposit(&direct, MAX_BODY_BYTES);
    assert_eq!(
        (at_limit.status, &at_limit.text),
        (at_limit_direct.status, &at_limit_direct.text)
    );

    let over = deposit(&via_nginx, MAX_BODY_BYTES + 1);
    assert_secured(&over, 413);
    let over_direct = deposit(&direct, MAX_BODY_BYTES + 1);
    assert_eq!(over_direct.status, 413);
    assert_eq!(over.text, over_direct.text, "nginx's 413 is the exchange's");
    assert_eq!(over.text, failure_envelope("request body too large"));

    let far_over = deposit(&via_nginx, 4 * MAX_BODY_BYTES);
    assert_secured(&far_over, 413);
    assert_eq!(far_over.text, over.text);
}

#[test]
fn logins_past_the_rate_limit_are_429_in_the_envelope() {
    let gateway = Gateway::start();
    let url = gateway.url("/authentication/login");
    let body = json!({"user_name": unique("nobody"), "password": "guess"}).to_string();
    let limited = AtomicBool::new(false);
    let answered = Mutex::new(BTreeMap::<u16, u32>::new());
    let first_429 = Mutex::new(None::<Answer>);
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..FLOOD_THREADS {
            scope.spawn(|| {
                let http = client();
                while !limited.load(Ordering::SeqCst) && started.elapsed() < FLOOD_DEADLINE {
                    let builder = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone());
                    let reply = answer("POST /authentication/login", builder);
                    let mut counts = answered.lock().unwrap_or_else(|e| e.into_inner());
                    *counts.entry(reply.status).or_default() += 1;
                    if reply.status == 429 {
                        limited.store(true, Ordering::SeqCst);
                        first_429
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .get_or_insert(reply);
                    }
                }
            });
        }
    });
    let flood_seconds = started.elapsed().as_secs_f64();
    let counts = answered.into_inner().unwrap_or_else(|e| e.into_inner());
    let rejected = first_429
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .unwrap_or_else(|| panic!("no 429 within {FLOOD_DEADLINE:?}: {counts:?}"));
    assert_secured(&rejected, 429);
    assert_eq!(rejected.text, failure_envelope("too many requests"));
    let wrong_password = counts.get(&400).copied().unwrap_or_default();
    assert!(
        wrong_password >= AUTH_BURST,
        "the burst passes before the limit: {counts:?}"
    );
    // Leaky bucket: the burst, plus the rate over the flood's duration, plus one request in
    // flight per thread.
    let allowed = f64::from(AUTH_BURST) + AUTH_RATE_PER_SECOND * flood_seconds;
    assert!(
        f64::from(wrong_password) <= allowed + f64::from(FLOOD_THREADS),
        "at most {allowed:.0} pass in {flood_seconds:.2}s: {counts:?}"
    );
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        [400, 429],
        "only the exchange's 400 and nginx's 429: {counts:?}"
    );
}

#[test]
fn every_answer_carries_the_security_headers_errors_included() {
    let gateway = Gateway::start();
    let trader = Trader::register(&gateway.proxied(), "headers");
    let http = client();
    let get = |path: &str, token: Option<&str>| {
        let builder = http.get(gateway.url(path));
        let builder = match token {
            Some(token) => builder.header("token", token),
            None => builder,
        };
        answer(&format!("GET {path}"), builder)
    };
    let token = Some(trader.token.as_str());
    assert_secured(&get("/transaction/getWalletBalance", token), 200);
    assert_secured(&get("/health", None), 200);
    assert_secured(&get("/transaction/getWalletBalance", None), 401);
    assert_secured(
        &get("/transaction/getWalletBalance", Some("not-a-jwt")),
        401,
    );
    // nginx's own 404 (no route) and the exchange's (a routed prefix, an unknown path).
    let unknown = get("/nowhere", token);
    assert_secured(&unknown, 404);
    assert_eq!(unknown.text, failure_envelope("not found"));
    assert_secured(&get("/engine/nowhere", token), 404);
    assert_secured(&get("/engine/placeStockOrder", token), 405);
    let bad_deposit = http
        .post(gateway.url("/transaction/addMoneyToWallet"))
        .header("token", &trader.token)
        .header("content-type", "application/json")
        .body(r#"{"amount": -5}"#);
    assert_secured(&answer("POST addMoneyToWallet -5", bad_deposit), 400);
}
