//! Unknown routes (404) and wrong methods (405), answered in the failure envelope.

use axum::Router;

use crate::error::ApiError;

/// Adds the 404 and 405 envelopes to a fully merged router.
pub fn with_fallbacks(router: Router) -> Router {
    router
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}
