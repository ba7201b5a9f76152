//! `POST /authentication/register` and `POST /authentication/login`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use platform::envelope::{ApiOk, ApiResult};
use platform::error::ApiError;
use platform::json_body::{JsonBody, required};
use serde::{Deserialize, Serialize};

use crate::domain::service::{AuthRefusal, AuthService};

#[cfg(test)]
mod tests;

/// The routes, with their state.
pub fn router(service: Arc<AuthService>) -> Router {
    Router::new()
        .route("/authentication/register", post(register))
        .route("/authentication/login", post(login))
        .with_state(service)
}

#[derive(Deserialize)]
struct RegisterBody {
    user_name: Option<String>,
    password: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct LoginBody {
    user_name: Option<String>,
    password: Option<String>,
}

#[derive(Serialize)]
struct TokenData {
    token: String,
}

fn refused(refusal: &AuthRefusal) -> ApiError {
    ApiError::BadRequest(refusal.message())
}

async fn register(
    State(service): State<Arc<AuthService>>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> ApiResult<()> {
    let user_name = required(body.user_name, "user_name")?;
    let password = required(body.password, "password")?;
    let name = required(body.name, "name")?;
    service
        .register(&user_name, &password, &name)
        .await?
        .map_err(|r| refused(&r))?;
    Ok(ApiOk(()))
}

async fn login(
    State(service): State<Arc<AuthService>>,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<TokenData> {
    let user_name = required(body.user_name, "user_name")?;
    let password = required(body.password, "password")?;
    let token = service
        .login(&user_name, &password)
        .await?
        .map_err(|r| refused(&r))?;
    Ok(ApiOk(TokenData { token }))
}
