use super::*;

#[test]
fn openai_error_body() {
    let body = r#"{
        "error": {
            "message": "Incorrect API key provided: sk-abc***. You can find your API key at https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": null,
            "code": "invalid_api_key"
        }
    }"#;
    let e = parse_error_body(401, body, None);
    assert_eq!(e.kind, ErrorKind::Http);
    assert_eq!(e.status, Some(401));
    assert!(e.message.starts_with("Incorrect API key provided"));
    assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
    assert_eq!(e.retry_after_secs, None);
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "The server refused the request: check the API key (HTTP 401): Incorrect API key"
        ),
        "{shown}"
    );
    assert!(shown.ends_with("api-keys."), "{shown}");
}

#[test]
fn openai_error_without_code_uses_the_type() {
    let body = r#"{"error":{"message":"The model `gpt-9` does not exist","type":"invalid_request_error","param":null,"code":null}}"#;
    let e = parse_error_body(404, body, None);
    assert_eq!(e.code.as_deref(), Some("invalid_request_error"));
    assert_eq!(e.message, "The model `gpt-9` does not exist");
    assert!(e.to_string().contains("check the endpoint and model name"));
}

#[test]
fn azure_error_body_with_innererror() {
    let body = r#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}"#;
    let e = parse_error_body(400, body, None);
    assert_eq!(e.code.as_deref(), Some("content_filter"));
    assert!(e.message.starts_with("The response was filtered"));
    assert!(e
        .to_string()
        .starts_with("The server rejected the request (HTTP 400): The response was filtered"));
}

#[test]
fn azure_error_with_only_innererror_code() {
    let body =
        r#"{"error":{"message":"blocked","innererror":{"code":"ResponsibleAIPolicyViolation"}}}"#;
    let e = parse_error_body(400, body, None);
    assert_eq!(e.code.as_deref(), Some("ResponsibleAIPolicyViolation"));
}

#[test]
fn azure_deployment_not_found() {
    let body = r#"{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}"#;
    let e = parse_error_body(404, body, None);
    assert_eq!(e.code.as_deref(), Some("DeploymentNotFound"));
    assert_eq!(
        e.message,
        "The API deployment for this resource does not exist."
    );
}

#[test]
fn ollama_error_string() {
    let e = parse_error_body(
        404,
        r#"{"error":"model \"llama9\" not found, try pulling it first"}"#,
        None,
    );
    assert_eq!(
        e.message,
        "model \"llama9\" not found, try pulling it first"
    );
    assert_eq!(e.code, None);
}

#[test]
fn vllm_and_fastapi_bodies() {
    let vllm = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens.","type":"BadRequestError","param":null,"code":400}"#;
    let e = parse_error_body(400, vllm, None);
    assert_eq!(
        e.message,
        "This model's maximum context length is 4096 tokens."
    );
    assert_eq!(e.code.as_deref(), Some("BadRequestError"));

    let e = parse_error_body(401, r#"{"detail":"Not authenticated"}"#, None);
    assert_eq!(e.message, "Not authenticated");

    let e = parse_error_body(
        422,
        r#"{"detail":[{"loc":["body","messages"],"msg":"field required","type":"value_error.missing"}]}"#,
        None,
    );
    assert_eq!(e.message, "field required");
}

#[test]
fn gemini_style_array_body() {
    let e = parse_error_body(
        400,
        r#"[{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}]"#,
        None,
    );
    assert_eq!(e.message, "API key not valid.");
}

#[test]
fn plain_text_is_trimmed() {
    let e = parse_error_body(500, "  \n upstream connect error  \n", None);
    assert_eq!(e.message, "upstream connect error");
    assert_eq!(
        e.to_string(),
        "The server had a problem answering (HTTP 500): upstream connect error."
    );
}

#[test]
fn html_pages_become_their_title() {
    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n";
    let e = parse_error_body(502, html, None);
    assert_eq!(e.message, "502 Bad Gateway");
}

#[test]
fn html_without_title_is_stripped_of_tags_and_scripts() {
    let html = "<!DOCTYPE html><body><script>var secret = 1;</script><style>p{}</style><h1>Access&nbsp;denied</h1><p>Ray &amp; co</p></body>";
    let e = parse_error_body(403, html, None);
    assert_eq!(e.message, "Access denied Ray & co");
}

#[test]
fn long_bodies_are_capped() {
    let body = "x".repeat(10_000);
    let e = parse_error_body(500, &body, None);
    assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS + 1);
    assert!(e.message.ends_with('…'));
    let body = "é".repeat(10_000);
    let e = parse_error_body(500, &body, None);
    assert!(e.message.ends_with('…'));
    let long_json = format!(r#"{{"error":{{"message":"{}"}}}}"#, "y".repeat(5000));
    assert!(parse_error_body(400, &long_json, None).message.len() < 1000);
}

#[test]
fn empty_body_uses_the_reason_phrase() {
    let e = parse_error_body(503, "", None);
    assert_eq!(e.message, "Service Unavailable");
    // The reason phrase is not repeated in the sentence.
    assert_eq!(
        e.to_string(),
        "The server had a problem answering (HTTP 503)."
    );
    let e = parse_error_body(599, "   ", None);
    assert_eq!(e.message, "");
    assert_eq!(
        e.to_string(),
        "The server had a problem answering (HTTP 599)."
    );
}

#[test]
fn rate_limit_with_retry_after_seconds() {
    let body = r#"{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}"#;
    let e = parse_error_body(429, body, Some(" 20 "));
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after_secs, Some(20));
    assert_eq!(
        e.to_string(),
        "Too many requests (HTTP 429): Rate limit reached for gpt-4o. Try again in 20 seconds."
    );
    assert!(e.is_retryable());
}

#[test]
fn rate_limit_retry_after_variants() {
    let e = parse_error_body(429, "", Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!(e.retry_after_secs, None);
    assert_eq!(
        e.to_string(),
        "Too many requests (HTTP 429). Wait a moment and try again."
    );
    assert_eq!(parse_error_body(429, "", None).retry_after_secs, None);
    assert_eq!(parse_error_body(429, "", Some("-3")).retry_after_secs, None);
    assert_eq!(
        parse_error_body(429, "", Some("1.5")).retry_after_secs,
        None
    );
    let e = parse_error_body(429, "", Some("1"));
    assert!(e.to_string().ends_with("Try again in 1 second."));
    let e = parse_error_body(429, "", Some("600"));
    assert!(e.to_string().ends_with("Try again in 10 minutes."), "{e}");
    let e = parse_error_body(429, "", Some("99999999999999999999999999"));
    assert_eq!(e.retry_after_secs, Some(u64::MAX));
    // 503 also carries Retry-After.
    assert_eq!(
        parse_error_body(503, "", Some("5")).retry_after_secs,
        Some(5)
    );
}

#[test]
fn gateway_timeouts_are_timeouts() {
    assert_eq!(parse_error_body(504, "", None).kind, ErrorKind::Timeout);
    assert_eq!(parse_error_body(408, "", None).kind, ErrorKind::Timeout);
    assert_eq!(
        parse_error_body(504, "", None).to_string(),
        "The server took too long to answer (HTTP 504)."
    );
}

#[test]
fn json_that_is_not_an_error_object_is_treated_as_text() {
    let e = parse_error_body(500, "42", None);
    assert_eq!(e.message, "42");
    let e = parse_error_body(500, r#"{"unrelated":true}"#, None);
    assert_eq!(e.message, "Internal Server Error");
}

#[test]
fn stream_payloads() {
    let e = ApiError::from_stream_payload(
        r#"{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}"#,
    );
    assert_eq!(e.kind, ErrorKind::Stream);
    assert_eq!(e.code.as_deref(), Some("server_error"));
    assert_eq!(
        e.to_string(),
        "The model stopped with an error: The server had an error while processing your request."
    );
    let e = ApiError::from_stream_payload("upstream went away");
    assert_eq!(e.message, "upstream went away");
    let e = ApiError::from_stream_payload(r#"{"message":"overloaded"}"#);
    assert_eq!(e.message, "overloaded");
    let e = ApiError::from_stream_payload(r#"{"error":{"code":"overloaded_error"}}"#);
    assert_eq!(
        e.to_string(),
        "The model stopped with an error (overloaded_error)."
    );
}

#[test]
fn display_sentences_for_every_kind() {
    assert_eq!(
        ApiError::network("Failed to fetch").to_string(),
        "Could not reach the server. Check the connection and the endpoint address (Failed to fetch)."
    );
    assert_eq!(
        ApiError::truncated().to_string(),
        "The answer was cut off before it finished."
    );
    assert_eq!(
        ApiError::empty_answer().to_string(),
        "The model finished without answering."
    );
    assert_eq!(
        ApiError::timeout().to_string(),
        "The server took too long to answer."
    );
    assert_eq!(
        ApiError::bad_response("a data frame is not JSON").to_string(),
        "The server sent an answer Confab could not read: a data frame is not JSON."
    );
    assert_eq!(
        ApiError::new(ErrorKind::Truncated, "").to_string(),
        "The answer was cut off before it finished."
    );
    // A message ending in its own punctuation gets no extra dot.
    assert_eq!(
        ApiError::new(ErrorKind::Stream, "Is the GPU on fire?").to_string(),
        "The model stopped with an error: Is the GPU on fire?"
    );
}

#[test]
fn retryability() {
    assert!(!parse_error_body(401, "", None).is_retryable());
    assert!(!parse_error_body(400, "", None).is_retryable());
    assert!(parse_error_body(500, "", None).is_retryable());
    assert!(parse_error_body(502, "", None).is_retryable());
    assert!(ApiError::truncated().is_retryable());
    assert!(!ApiError::bad_response("x").is_retryable());
}

#[test]
fn titles() {
    assert_eq!(parse_error_body(401, "", None).title(), "Not authorized");
    assert_eq!(parse_error_body(429, "", None).title(), "Too many requests");
    assert_eq!(ApiError::truncated().title(), "Answer cut off");
}

#[test]
fn serde_round_trip_leaves_out_empty_fields() {
    let e = parse_error_body(
        429,
        r#"{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"#,
        Some("3"),
    );
    let json = serde_json::to_string(&e).unwrap();
    assert_eq!(
        json,
        r#"{"kind":"rate_limited","status":429,"message":"slow down","code":"rate_limit_exceeded","retry_after_secs":3}"#
    );
    assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
    let minimal: ApiError = serde_json::from_str(r#"{"kind":"truncated"}"#).unwrap();
    assert_eq!(minimal.kind, ErrorKind::Truncated);
    assert_eq!(
        serde_json::to_string(&ApiError::timeout()).unwrap(),
        r#"{"kind":"timeout","message":""}"#
    );
}

/// Every status the widget may meet: its kind and whether Retry is offered.
#[test]
fn retry_is_offered_only_for_failures_of_the_moment() {
    let table: &[(u16, ErrorKind, bool)] = &[
        (400, ErrorKind::Http, false),
        (401, ErrorKind::Http, false),
        (402, ErrorKind::Http, false),
        (403, ErrorKind::Http, false),
        (404, ErrorKind::Http, false),
        (405, ErrorKind::Http, false),
        (408, ErrorKind::Timeout, true),
        (409, ErrorKind::Http, true),
        (413, ErrorKind::Http, false),
        (415, ErrorKind::Http, false),
        (422, ErrorKind::Http, false),
        (429, ErrorKind::RateLimited, true),
        (500, ErrorKind::Http, true),
        (501, ErrorKind::Http, true),
        (502, ErrorKind::Http, true),
        (503, ErrorKind::Http, true),
        (504, ErrorKind::Timeout, true),
        (599, ErrorKind::Http, true),
    ];
    for &(status, kind, retry) in table {
        let e = parse_error_body(status, r#"{"error":{"message":"x"}}"#, None);
        assert_eq!((e.kind, e.is_retryable()), (kind, retry), "HTTP {status}");
    }
    assert!(ApiError::network("Failed to fetch").is_retryable());
    assert!(ApiError::timeout().is_retryable());
    assert!(ApiError::truncated().is_retryable());
    assert!(ApiError::empty_answer().is_retryable());
    assert!(ApiError::from_stream_payload(r#"{"error":{"message":"overloaded"}}"#).is_retryable());
    assert!(!ApiError::bad_response("not JSON").is_retryable());
}

/// What confab-server answers when its proxy gets a request without a model.
const MODEL_REQUIRED_BODY: &str = r#"{"error":{"message":"No model was chosen: set data-model on the widget, or start confab-server with --model.","type":"invalid_request_error","param":"model","code":"model_required"}}"#;

#[test]
fn model_required_is_a_known_cause_and_never_retried() {
    let e = parse_error_body(400, MODEL_REQUIRED_BODY, None);
    assert_eq!(e.kind, ErrorKind::Http);
    assert_eq!(e.status, Some(400));
    assert_eq!(e.code.as_deref(), Some(MODEL_REQUIRED));
    assert_eq!(e.known_cause(), Some(KnownCause::ModelRequired));
    assert!(!e.is_retryable());
    assert_eq!(
        e.to_string(),
        "The server rejected the request (HTTP 400): No model was chosen: set data-model on the widget, or start confab-server with --model."
    );
    // The code decides, whatever the status or the way it arrived.
    let in_stream = ApiError::from_stream_payload(MODEL_REQUIRED_BODY);
    assert_eq!(in_stream.known_cause(), Some(KnownCause::ModelRequired));
    assert!(!in_stream.is_retryable());
    let e = parse_error_body(503, MODEL_REQUIRED_BODY, None);
    assert!(!e.is_retryable());
}

#[test]
fn other_codes_are_not_known_causes() {
    for body in [
        r#"{"error":{"message":"x","code":"invalid_api_key"}}"#,
        r#"{"error":{"message":"x","type":"invalid_request_error","code":null}}"#,
        r#"{"error":"model_required"}"#,
        "model_required",
        "",
    ] {
        assert_eq!(
            parse_error_body(400, body, None).known_cause(),
            None,
            "{body}"
        );
    }
    assert_eq!(ApiError::network("x").known_cause(), None);
}

#[test]
fn a_422_shows_the_servers_message() {
    let e = parse_error_body(
        422,
        r#"{"error":{"message":"model: field required","type":"invalid_request_error","param":"model","code":null}}"#,
        None,
    );
    assert_eq!(e.known_cause(), None);
    assert!(!e.is_retryable());
    assert_eq!(
        e.to_string(),
        "The server rejected the request (HTTP 422): model: field required."
    );
    // vLLM / FastAPI validation errors.
    let e = parse_error_body(
        422,
        r#"{"detail":[{"loc":["body","model"],"msg":"Field required","type":"missing"}]}"#,
        None,
    );
    assert_eq!(
        e.to_string(),
        "The server rejected the request (HTTP 422): Field required."
    );
}
