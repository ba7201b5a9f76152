//! nginx in front of small scripted upstreams that record every request they receive.

use crate::{answer, assert_secured, client, failure_envelope};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use system_tests::deployment::{AUTH, ORDER, PORTFOLIO, ROUTES};
use test_services::nginx::{TestNginx, Upstreams};

/// One request an upstream received.
#[derive(Clone, Debug)]
struct Seen {
    /// Which accepted connection carried it (0, 1, ...).
    connection: usize,
    /// The request line and headers, lower-cased.
    head: String,
}

/// An HTTP/1.1 upstream that answers every request with `{"success":true,"data":"<name>"}`,
/// keeps connections open, and echoes bytes back after a websocket upgrade.
struct FakeUpstream {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeUpstream {
    fn start(name: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|error| panic!("cannot bind a fake upstream: {error}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("no local address: {error}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        // The accept loop lives as long as the test process: nothing to join.
        thread::spawn(move || {
            for (connection, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let log = Arc::clone(&log);
                thread::spawn(move || serve(name, connection, stream, &log));
            }
        });
        Self { address, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn serve(name: &str, connection: usize, stream: TcpStream, log: &Mutex<Vec<Seen>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let Some(head) = read_head(&mut reader) else {
            return;
        };
        if discard_body(&mut reader, &head).is_none() {
            return;
        }
        let upgrade = head.contains("\nupgrade: websocket");
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Seen { connection, head });
        if upgrade {
            let switching = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                             Connection: Upgrade\r\n\r\n";
            if writer.write_all(switching.as_bytes()).is_err() {
                return;
            }
            echo(&mut reader, &mut writer);
            return;
        }
        let body = format!(r#"{{"success":true,"data":"{name}"}}"#);
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads and drops the `content-length` bytes of body that follow `head`.
fn discard_body(reader: &mut impl Read, head: &str) -> Option<()> {
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(Some(0), |value| value.trim().parse::<u64>().ok())?;
    let copied = std::io::copy(&mut reader.take(length), &mut std::io::sink()).ok()?;
    (copied == length).then_some(())
}

/// The request line and headers, lower-cased, or `None` at the end of the connection.
fn read_head(reader: &mut impl BufRead) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            return Some(head.to_lowercase());
        }
        head.push_str(&line);
    }
}

fn echo(reader: &mut impl Read, writer: &mut impl Write) {
    let mut buffer = [0_u8; 1024];
    while let Ok(read) = reader.read(&mut buffer) {
        if read == 0 || writer.write_all(&buffer[..read]).is_err() {
            return;
        }
    }
}

/// `data` of a fake's answer: the name of the upstream that served it.
fn served_by(nginx: &TestNginx, path: &str, http: &reqwest::blocking::Client) -> String {
    let reply = answer(
        &format!("GET {path}"),
        http.get(format!("{}{path}", nginx.base_url())),
    );
    assert_secured(&reply, 200);
    let body: serde_json::Value = serde_json::from_str(&reply.text)
        .unwrap_or_else(|error| panic!("{path}: {error}: {}", reply.text));
    body["data"].as_str().unwrap_or_default().to_string()
}

#[test]
fn the_gateway_answers_its_own_health_and_an_envelope_when_no_upstream_is_there() {
    let nginx = TestNginx::start(&Upstreams::default());
    let http = client();
    let health = answer(
        "GET /health",
        http.get(format!("{}/health", nginx.base_url())),
    );
    assert_secured(&health, 200);
    assert_eq!(health.text, r#"{"success":true,"data":null}"#);
    for path in ["/transaction/getWalletBalance", "/authentication/login"] {
        let builder = http.post(format!("{}{path}", nginx.base_url())).body("{}");
        let down = answer(&format!("POST {path}"), builder);
        assert_secured(&down, 502);
        assert_eq!(down.text, failure_envelope("service unavailable"));
    }
}

#[test]
fn every_api_path_reaches_the_role_that_owns_it() {
    let auth = FakeUpstream::start(AUTH.name);
    let portfolio = FakeUpstream::start(PORTFOLIO.name);
    let order = FakeUpstream::start(ORDER.name);
    let nginx = TestNginx::start(&Upstreams {
        auth: vec![auth.address],
        portfolio: vec![portfolio.address],
        order: vec![order.address],
        feed: Vec::new(),
    });
    let http = client();
    for (path, role) in ROUTES {
        assert_eq!(served_by(&nginx, path, &http), role.name, "{path}");
    }
    // Exact paths only: a look-alike is nginx's 404, not some role's.
    let near_miss = answer(
        "GET /transaction/getWalletBalance/",
        http.get(format!(
            "{}/transaction/getWalletBalance/",
            nginx.base_url()
        )),
    );
    assert_secured(&near_miss, 404);
}

#[test]
fn a_body_over_the_limit_is_refused_at_the_edge_and_one_at_the_limit_is_passed_on() {
    // The exchange's MAX_BODY_BYTES (services/platform/src/json_body.rs).
    const LIMIT_BYTES: usize = 16 * 1024;
    let upstream = FakeUpstream::start("portfolio");
    let nginx = TestNginx::start(&Upstreams::all_at(upstream.address));
    let http = client();
    let post = |bytes: usize| {
        let builder = http
            .post(format!("{}/transaction/addMoneyToWallet", nginx.base_url()))
            .body("x".repeat(bytes));
        answer(&format!("POST of {bytes} bytes"), builder)
    };
    assert_secured(&post(LIMIT_BYTES), 200);
    assert_eq!(upstream.seen().len(), 1);
    let refused = post(LIMIT_BYTES + 1);
    assert_secured(&refused, 413);
    assert_eq!(refused.text, failure_envelope("request body too large"));
    assert_eq!(upstream.seen().len(), 1, "the upstream never saw it");
}

#[test]
fn requests_reach_the_upstream_as_http_1_1_over_kept_alive_connections() {
    const REQUESTS: usize = 10;
    let upstream = FakeUpstream::start("all");
    let nginx = TestNginx::start(&Upstreams::all_at(upstream.address));
    let http = client();
    for _ in 0..REQUESTS {
        let builder = http
            .get(format!("{}/transaction/getWalletBalance", nginx.base_url()))
            .header("token", "raw-jwt");
        assert_secured(&answer("GET getWalletBalance", builder), 200);
    }
    let seen = upstream.seen();
    assert_eq!(seen.len(), REQUESTS, "{seen:#?}");
    for request in &seen {
        assert!(
            request
                .head
                .starts_with("get /transaction/getwalletbalance http/1.1\r\n"),
            "{}",
            request.head
        );
        assert!(!request.head.contains("\nconnection:"), "{}", request.head);
        assert!(
            request.head.contains("\ntoken: raw-jwt\r\n"),
            "{}",
            request.head
        );
        assert!(request.head.contains("\nx-forwarded-for: 127.0.0.1\r\n"));
    }
    let mut connections: Vec<usize> = seen.iter().map(|request| request.connection).collect();
    connections.dedup();
    // One per nginx worker at most (each keeps its own pool), never one per request.
    assert!(connections.len() <= 2, "connections used: {connections:?}");
}

#[test]
fn replicas_of_a_role_share_its_requests() {
    const REQUESTS: usize = 20;
    let first = FakeUpstream::start("order-a");
    let second = FakeUpstream::start("order-b");
    let nginx = TestNginx::start(&Upstreams {
        order: vec![first.address, second.address],
        ..Upstreams::default()
    });
    let http = client();
    let served: Vec<String> = (0..REQUESTS)
        .map(|_| served_by(&nginx, "/transaction/getStockPrices", &http))
        .collect();
    for replica in ["order-a", "order-b"] {
        let count = served.iter().filter(|name| *name == replica).count();
        assert!(
            count >= REQUESTS / 4,
            "{replica} served {count}: {served:?}"
        );
    }
}

#[test]
fn websocket_upgrades_are_tunnelled_to_the_feed() {
    let feed = FakeUpstream::start("feed");
    let nginx = TestNginx::start(&Upstreams {
        feed: vec![feed.address],
        ..Upstreams::default()
    });
    let mut stream = TcpStream::connect(("127.0.0.1", nginx.port()))
        .unwrap_or_else(|error| panic!("cannot reach nginx: {error}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|error| panic!("{error}"));
    let upgrade = "GET /ws/market HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
                   Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    stream
        .write_all(upgrade.as_bytes())
        .unwrap_or_else(|error| panic!("{error}"));
    let mut reader = BufReader::new(stream.try_clone().unwrap_or_else(|error| panic!("{error}")));
    let head = read_head(&mut reader).unwrap_or_else(|| panic!("nginx closed the connection"));
    assert!(head.starts_with("http/1.1 101"), "{head}");

    let seen = feed.seen();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert!(seen[0].head.starts_with("get /ws/market http/1.1\r\n"));
    assert!(
        seen[0].head.contains("\nupgrade: websocket\r\n"),
        "{}",
        seen[0].head
    );
    assert!(
        seen[0].head.contains("\nconnection: upgrade\r\n"),
        "{}",
        seen[0].head
    );

    // After the upgrade nginx is a byte tunnel both ways.
    stream
        .write_all(b"ping\n")
        .unwrap_or_else(|error| panic!("{error}"));
    let mut echoed = String::new();
    reader
        .read_line(&mut echoed)
        .unwrap_or_else(|error| panic!("no echo through the tunnel: {error}"));
    assert_eq!(echoed, "ping\n");
}
