//! A small blocking HTTP client that keeps everything a test may want to check about an answer.

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use std::time::Duration;

/// How a request authenticates.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    /// No credentials at all.
    None,
    /// The course's raw JWT in a header named `token`.
    Token(&'a str),
    /// `Authorization: Bearer <jwt>`.
    Bearer(&'a str),
    /// Both headers, with different values (to check that `token` wins).
    Both {
        /// Value of the `token` header.
        token: &'a str,
        /// Value put after `Bearer `.
        bearer: &'a str,
    },
}

/// One HTTP answer: status, raw body text and (when the body is JSON) its parsed value.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The body exactly as received.
    pub text: String,
    /// What the request was, for failure messages.
    pub request: String,
}

impl Reply {
    /// The body as JSON; panics (naming the request) when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|error| {
            panic!(
                "{}: body is not JSON ({error}); status {}, body {:?}",
                self.request, self.status, self.text
            )
        })
    }
}

/// Client for one base URL (e.g. `http://127.0.0.1:41234`), keep-alive, short timeouts.
#[derive(Clone, Debug)]
pub struct Api {
    base_url: String,
    client: Client,
}

impl Api {
    /// A client for `base_url` (no trailing slash).
    pub fn new(base_url: &str) -> Self {
        Self::with_idle_connections(base_url, 4)
    }

    /// A client that opens a new connection for every request. Fault tests use it: a kept-alive
    /// connection that the server side closed fails the next request with a transport error, an
    /// answer whose outcome nobody knows; on a fresh connection to the gateway every request
    /// gets the gateway's answer (a 502 envelope at worst).
    pub fn fresh_connections(base_url: &str) -> Self {
        Self::with_idle_connections(base_url, 0)
    }

    fn with_idle_connections(base_url: &str, idle: usize) -> Self {
        let client = Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(idle)
            .build()
            .unwrap_or_else(|error| panic!("cannot build the HTTP client: {error}"));
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            client,
        }
    }

    /// The base URL this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `GET path` with `Content-Type: application/json` and no body, as the course's plans send it.
    pub fn get(&self, path: &str, auth: Auth<'_>) -> Reply {
        let builder = self.client.get(self.url(path));
        self.send(&format!("GET {path}"), with_auth(builder, auth), None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, auth: Auth<'_>, body: &Value) -> Reply {
        self.post_raw(path, auth, body.to_string())
    }

    /// `POST path` with exactly these body bytes, labelled as JSON.
    pub fn post_raw(&self, path: &str, auth: Auth<'_>, body: String) -> Reply {
        let label = format!("POST {path} {}", abbreviate(&body));
        let builder = self.client.post(self.url(path));
        self.send(&label, with_auth(builder, auth), Some(body))
    }

    /// Any method, path and optional body; the transport error is returned instead of panicking.
    pub fn try_request(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<String>,
    ) -> Result<Reply, reqwest::Error> {
        let label = format!("{method} {path}");
        let builder = with_auth(self.client.request(method, self.url(path)), auth);
        let builder = builder.header(CONTENT_TYPE, "application/json");
        let builder = match body {
            Some(body) => builder.body(body),
            None => builder,
        };
        let response = builder.send()?;
        let status = response.status().as_u16();
        let text = response.text()?;
        Ok(Reply {
            status,
            text,
            request: label,
        })
    }

    fn send(&self, label: &str, builder: RequestBuilder, body: Option<String>) -> Reply {
        let builder = builder.header(CONTENT_TYPE, "application/json");
        let builder = match body {
            Some(body) => builder.body(body),
            None => builder,
        };
        let response = builder
            .send()
            .unwrap_or_else(|error| panic!("{label}: request failed: {error}"));
        let status = response.status().as_u16();
        let text = response
            .text()
            .unwrap_or_else(|error| panic!("{label}: reading the body failed: {error}"));
        Reply {
            status,
            text,
            request: label.to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

fn with_auth(builder: RequestBuilder, auth: Auth<'_>) -> RequestBuilder {
    match auth {
        Auth::None => builder,
        Auth::Token(token) => builder.header("token", token),
        Auth::Bearer(token) => builder.header("Authorization", format!("Bearer {token}")),
        Auth::Both { token, bearer } => builder
            .header("token", token)
            .header("Authorization", format!("Bearer {bearer}")),
    }
}

fn abbreviate(body: &str) -> String {
    const LIMIT: usize = 200;
    if body.len() <= LIMIT {
        return body.to_string();
    }
    let cut = (0..=LIMIT)
        .rev()
        .find(|&index| body.is_char_boundary(index))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &body[..cut], body.len())
}
