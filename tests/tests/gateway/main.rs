//! The nginx gateway (`nginx/exchange.conf.template`), started by `test_services::nginx`:
//!
//! - [`behind_nginx`]: the embedded exchange behind nginx, every role's upstream pointing at it.
//!   Every answer of a course flow is byte for byte the one the exchange gives directly; the
//!   register/login rate limit answers 429, an oversized body 413, both in the API's envelope;
//!   security headers are on every answer, errors included.
//! - [`fake_upstreams`]: small scripted upstreams show what the exchange cannot: keepalive to the
//!   upstreams, load balancing over replicas, websocket upgrades tunnelled to the feed, the
//!   gateway's own `/health`, and an envelope when no upstream is there.
//!
//! Needs Debian's nginx (`scripts/infra/nginx install`); a missing binary fails the test.

mod behind_nginx;
mod fake_upstreams;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use std::time::Duration;

/// The security headers every gateway answer carries, with the value (or a part of it).
const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "frame-ancestors 'none'"),
];

/// One answer with its headers (the shared client's `Reply` keeps none).
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body text.
    pub text: String,
    /// What was asked, for messages.
    pub request: String,
}

/// A keep-alive client with short timeouts.
pub fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|error| panic!("cannot build the HTTP client: {error}"))
}

/// Sends `builder` and keeps status, headers and body.
pub fn answer(label: &str, builder: RequestBuilder) -> Answer {
    let response = builder
        .send()
        .unwrap_or_else(|error| panic!("{label}: request failed: {error}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response
        .text()
        .unwrap_or_else(|error| panic!("{label}: reading the body failed: {error}"));
    Answer {
        status,
        headers,
        text,
        request: label.to_string(),
    }
}

/// The failure envelope the API uses, for `message`.
pub fn failure_envelope(message: &str) -> String {
    // Key order as the exchange writes it (serde_json's `json!` would sort the keys).
    format!(
        r#"{{"success":false,"data":{{"error":{}}}}}"#,
        serde_json::Value::from(message)
    )
}

/// Asserts the answer has `status`, every security header exactly once, and a JSON body.
pub fn assert_secured(answer: &Answer, status: u16) {
    assert_eq!(
        answer.status, status,
        "{}: status (body {})",
        answer.request, answer.text
    );
    for (name, expected) in SECURITY_HEADERS {
        let values: Vec<&str> = answer
            .headers
            .get_all(name)
            .iter()
            .map(|value| value.to_str().unwrap_or_default())
            .collect();
        assert_eq!(
            values.len(),
            1,
            "{}: header {name} present once, got {values:?}",
            answer.request
        );
        assert!(
            values[0].contains(expected),
            "{}: header {name} is {:?}, expected {expected:?}",
            answer.request,
            values[0]
        );
    }
    let content_type = answer
        .headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{}: content-type {content_type:?}",
        answer.request
    );
}
