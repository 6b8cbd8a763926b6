//! Errors in the OpenAI shape: `{"error":{"message","type","param","code"}}`, so every
//! client that understands OpenAI errors shows ours too.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An OpenAI-shaped error response.
pub fn openai_error(
    status: StatusCode,
    message: impl Into<String>,
    kind: &str,
    code: Option<&str>,
) -> Response {
    let body = json!({"error": {
        "message": message.into(),
        "type": kind,
        "param": null,
        "code": code,
    }});
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub fn bad_request(message: impl Into<String>, code: &str) -> Response {
    openai_error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        Some(code),
    )
}
