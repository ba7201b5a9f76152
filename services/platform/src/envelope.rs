//! The success envelope `{"success": true, "data": <payload or null>}`.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A successful answer carrying `data` (use `ApiOk(())` for `"data": null`).
#[derive(Debug)]
pub struct ApiOk<T>(pub T);

#[derive(Serialize)]
struct Envelope<T> {
    success: bool,
    data: T,
}

impl<T: Serialize> IntoResponse for ApiOk<T> {
    fn into_response(self) -> Response {
        Json(Envelope {
            success: true,
            data: self.0,
        })
        .into_response()
    }
}

/// The answer of every handler.
pub type ApiResult<T> = Result<ApiOk<T>, crate::error::ApiError>;
