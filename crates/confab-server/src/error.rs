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
    error_response(status, message.into(), kind, None, code)
}

pub fn bad_request(message: impl Into<String>, code: &str) -> Response {
    openai_error(
        StatusCode::BAD_REQUEST,
        message,
        "invalid_request_error",
        Some(code),
    )
}

/// A 400 about one request field, named in `param` (e.g. `model`, `messages[1].content[0]`).
pub fn bad_param(message: impl Into<String>, param: &str, code: &str) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        message.into(),
        "invalid_request_error",
        Some(param),
        Some(code),
    )
}

fn error_response(
    status: StatusCode,
    message: String,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    let body = json!({"error": {
        "message": message,
        "type": kind,
        "param": param,
        "code": code,
    }});
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
