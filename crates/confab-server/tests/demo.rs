//! The offline demo model, end to end over HTTP.

mod common;

use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

async fn post(server: &Server, body: &Value) -> reqwest::Response {
    client()
        .post(server.url("/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn stream_of(server: &Server, text: &str) -> (Vec<Value>, Result<(), String>) {
    let res = post(
        server,
        &json!({"model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
                "messages": [user(text)]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let (events, end) = read_sse(res).await;
    (datas(&events), end)
}

#[tokio::test]
async fn streams_several_chunks_then_usage_then_done() {
    let server = start(demo_config()).await;
    let (d, end) = stream_of(&server, "Tell me | about Confab").await;
    assert!(end.is_ok());
    assert!(d.len() > 10, "only {} events", d.len());
    assert_eq!(d.last().unwrap(), "[DONE]");
    assert_eq!(d[0]["choices"][0]["delta"]["role"], "assistant");
    let id = d[0]["id"].as_str().unwrap().to_string();
    for chunk in &d[..d.len() - 1] {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], id.as_str());
        assert_eq!(chunk["model"], "gpt-4o");
    }
    // Small deltas: a few words each.
    for chunk in &d[1..d.len() - 3] {
        let c = chunk["choices"][0]["delta"]["content"].as_str().unwrap();
        assert!(c.split_whitespace().count() <= 3, "{c:?}");
        assert_eq!(chunk["choices"][0]["finish_reason"], Value::Null);
    }
    let finish = &d[d.len() - 3];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &d[d.len() - 2];
    assert_eq!(usage["choices"], json!([]));
    let u = &usage["usage"];
    assert!(u["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap()
    );

    let text = content_of(&d);
    assert!(text.starts_with("## "), "{text}");
    assert!(text.contains("> Tell me | about Confab"));
    assert!(text.contains("| last user message | Tell me \\| about Confab |"));
    assert!(text.contains("| model | `gpt-4o` |"));
    assert!(text.contains("| messages | 1 (1 user) |"));
    assert!(text.contains("```rust"));
    assert!(text.contains("$E = mc^2$"));
}

#[tokio::test]
async fn no_usage_chunk_unless_asked_and_non_streaming_matches() {
    let server = start(demo_config()).await;
    let body = json!({"stream": true, "messages": [user("hi")]});
    let (events, _) = read_sse(post(&server, &body).await).await;
    let d = datas(&events);
    assert!(d.iter().all(|c| c.get("usage").is_none()));
    assert_eq!(d[d.len() - 2]["choices"][0]["finish_reason"], "stop");
    assert_eq!(d[0]["model"], "confab-demo");
    let streamed = content_of(&d);

    let res = post(&server, &json!({"messages": [user("hi")]})).await;
    assert_eq!(res.status(), 200);
    let full: Value = res.json().await.unwrap();
    assert_eq!(full["object"], "chat.completion");
    assert_eq!(full["choices"][0]["message"]["role"], "assistant");
    assert_eq!(full["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        full["choices"][0]["message"]["content"],
        streamed.replace("| stream | `true` |\n", "").as_str()
    );
    assert!(full["usage"]["total_tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn report_lists_every_parameter_and_message_count() {
    let server = start(demo_config()).await;
    let body = json!({
        "model": "m1", "temperature": 0.25, "top_p": 0.9, "max_tokens": 77, "seed": 42,
        "stop": ["END"], "logprobs": true,
        "messages": [
            {"role": "system", "content": "be brief"},
            user("first"),
            {"role": "assistant", "content": "ok"},
            user("second question"),
        ]
    });
    let full: Value = post(&server, &body).await.json().await.unwrap();
    let text = full["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.contains("> second question"), "{text}");
    assert!(text.contains("| messages | 4 (1 system, 2 user, 1 assistant) |"));
    for row in [
        "| temperature | `0.25` |",
        "| top_p | `0.9` |",
        "| max_tokens | `77` |",
        "| seed | `42` |",
        "| stop | `[\"END\"]` |",
        "| logprobs | `true` |",
    ] {
        assert!(text.contains(row), "missing {row} in\n{text}");
    }
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]); // depth, color, ..., CRC (unchecked)
    b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
    b
}

fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8];
    // APP0 JFIF
    b.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    // DQT with one table of 64 ones
    b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    b.extend_from_slice(&[1u8; 64]);
    // SOF2 (progressive), 8-bit, height, width, 1 component
    b.extend_from_slice(&[0xFF, 0xC2, 0x00, 0x0B, 0x08]);
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[tokio::test]
async fn images_are_described_with_size_and_tokens() {
    let server = start(demo_config()).await;
    let png_bytes = png(1024, 1024);
    let jpeg_bytes = jpeg(4000, 3000);
    let body = json!({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "what are these?"},
        {"type": "image_url", "image_url": {"url": data_url("image/png", &png_bytes), "detail": "high"}},
        {"type": "image_url", "image_url": {"url": data_url("image/jpeg", &jpeg_bytes), "detail": "low"}},
        {"type": "image_url", "image_url": {"url": data_url("image/jpeg", &jpeg_bytes)}},
    ]}]});
    let full: Value = post(&server, &body).await.json().await.unwrap();
    let text = full["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.contains("| images | 3 |"), "{text}");
    let png_row = format!(
        "| 1 | PNG (declared `image/png`) | 1024 × 1024 | {} B | high | 765 |",
        png_bytes.len()
    );
    assert!(text.contains(&png_row), "missing {png_row} in\n{text}");
    let jpeg_low = format!(
        "| 2 | JPEG (declared `image/jpeg`) | 4000 × 3000 | {} B | low | 85 |",
        jpeg_bytes.len()
    );
    assert!(text.contains(&jpeg_low), "missing {jpeg_low} in\n{text}");
    // auto: 4000x3000 -> 2048x1536 -> 1024x768 -> 2x2 tiles -> 765.
    assert!(text.contains("| 3 | JPEG (declared `image/jpeg`) | 4000 × 3000 |"));
    assert!(text.contains("| auto | 765 |"));
    // The usage counts the images: 765 + 85 + 765 plus the text.
    let prompt = full["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(prompt >= 1615, "{prompt}");
    // Remote images are refused as by the proxy, so what works here works there.
    let remote = json!({"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]});
    let res = post(&server, &remote).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn echo_returns_the_forwarded_body_and_last_request_keeps_the_sent_one() {
    let fresh = start(demo_config()).await;
    let res = client()
        .get(fresh.url("/v1/demo/last-request"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // The echo is the body as the server's rules leave it: typed fields in their documented
    // order, then the fields --allow-field names, in the order they were sent.
    let mut config = demo_config();
    config.allow_fields = vec!["zeta".into(), "alpha".into()];
    let server = start(config).await;
    let raw = r#"{"stream":false,"zeta":1,"model":"m","messages":[{"role":"user","content":"/demo echo"}],"alpha":{"nested":[1,2]},"temperature":0.5,"unknown":true}"#;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    let full: Value = res.json().await.unwrap();
    let text = full["choices"][0]["message"]["content"].as_str().unwrap();
    let inner = text
        .strip_prefix("```json\n")
        .and_then(|t| t.strip_suffix("\n```\n"))
        .unwrap_or_else(|| panic!("not a json block: {text}"));
    let sent: Value = serde_json::from_str(raw).unwrap();
    let mut forwarded = sent.clone();
    forwarded.as_object_mut().unwrap().remove("unknown");
    assert_eq!(serde_json::from_str::<Value>(inner).unwrap(), forwarded);
    assert!(inner.find("\"messages\"").unwrap() < inner.find("\"model\"").unwrap());
    assert!(inner.find("\"zeta\"").unwrap() < inner.find("\"alpha\"").unwrap());

    let last: Value = client()
        .get(server.url("/v1/demo/last-request"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(last, sent);

    // Streaming echo gives the same text.
    let (d, _) = stream_of(&server, "/demo echo").await;
    // (Forwarded bodies start with `messages`, the first documented field.)
    assert!(content_of(&d).starts_with("```json\n{\n  \"messages\": [\n    {\n"));
}

#[tokio::test]
async fn scenario_long_math_code_attack_and_list() {
    let server = start(demo_config()).await;
    let (d, end) = stream_of(&server, "/demo long").await;
    assert!(end.is_ok());
    assert_eq!(d.last().unwrap(), "[DONE]");
    let long = content_of(&d);
    assert!(long.len() >= 50_000, "{}", long.len());
    assert!(
        d.len() > 500,
        "small deltas expected, got {} events",
        d.len()
    );

    let (d, _) = stream_of(&server, "/demo math").await;
    let math = content_of(&d);
    assert!(math.contains("$$") && math.contains("\\(") && math.contains("\\["));

    let (d, _) = stream_of(&server, "/demo code").await;
    let code = content_of(&d);
    for lang in ["```rust", "```python", "```javascript", "```bash", "```sql"] {
        assert!(code.contains(lang), "{lang}");
    }

    let (d, _) = stream_of(&server, "/demo markdown-attack").await;
    let attack = content_of(&d);
    for bad in [
        "](javascript:",
        "<script>",
        "onerror=",
        "![tracking pixel](https://",
    ] {
        assert!(attack.contains(bad), "{bad}");
    }

    let (d, _) = stream_of(&server, "/demo").await;
    let list = content_of(&d);
    for name in [
        "long",
        "math",
        "code",
        "slow",
        "error",
        "cut",
        "429",
        "reasoning",
        "markdown-attack",
        "echo",
        "malformed",
    ] {
        assert!(list.contains(&format!("`/demo {name}`")), "{name}");
    }
}

#[tokio::test]
async fn scenario_error_sends_an_error_event_mid_stream() {
    let server = start(demo_config()).await;
    let (d, end) = stream_of(&server, "/demo error").await;
    assert!(end.is_ok());
    assert!(!content_of(&d).is_empty());
    let last = d.last().unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    assert!(last["error"]["message"].as_str().unwrap().len() > 5);
    assert!(!d.iter().any(|v| v == "[DONE]"));
    assert!(!d
        .iter()
        .any(|v| v["choices"][0]["finish_reason"].is_string()));
}

#[tokio::test]
async fn scenario_cut_drops_the_connection() {
    let server = start(demo_config()).await;
    let (d, end) = stream_of(&server, "/demo cut").await;
    assert!(end.is_err(), "the body should end in an error");
    assert!(!content_of(&d).is_empty());
    assert!(!d.iter().any(|v| v == "[DONE]"));
    assert!(!d
        .iter()
        .any(|v| v["choices"][0]["finish_reason"].is_string()));
}

#[tokio::test]
async fn scenario_429_fails_every_time() {
    let server = start(demo_config()).await;
    for stream in [true, false, true] {
        let res = post(
            &server,
            &json!({"stream": stream, "messages": [user("/demo 429")]}),
        )
        .await;
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "2");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");
        assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    }
}

#[tokio::test]
async fn scenario_length_ends_with_finish_reason_length() {
    let server = start(demo_config()).await;
    let (d, _) = stream_of(&server, "/demo length").await;
    assert!(d
        .iter()
        .any(|v| v["choices"][0]["finish_reason"] == "length"));
    assert!(d.iter().any(|v| v == "[DONE]"));
}

#[tokio::test]
async fn once_scenarios_misbehave_only_the_first_time_a_conversation_is_seen() {
    let server = start(demo_config()).await;
    let body = json!({"stream": false, "messages": [user("/demo 429 once")]});
    assert_eq!(post(&server, &body).await.status(), 429);
    let retry = post(&server, &body).await;
    assert_eq!(
        retry.status(),
        200,
        "the retry of the same conversation succeeds"
    );
    // Another conversation with the same command fails once again.
    let other = json!({"stream": false, "messages": [user("hi"), user("/demo 429 once")]});
    assert_eq!(post(&server, &other).await.status(), 429);
}

#[tokio::test]
async fn scenario_reasoning_comes_before_content() {
    let server = start(demo_config()).await;
    let (d, _) = stream_of(&server, "/demo reasoning").await;
    let kinds: Vec<&str> = d
        .iter()
        .filter_map(|c| {
            let delta = &c["choices"][0]["delta"];
            if delta["reasoning_content"].is_string() {
                Some("r")
            } else if delta["content"].as_str().is_some_and(|s| !s.is_empty()) {
                Some("c")
            } else {
                None
            }
        })
        .collect();
    let first_c = kinds.iter().position(|k| *k == "c").unwrap();
    assert!(first_c > 2, "{kinds:?}");
    assert!(kinds[..first_c].iter().all(|k| *k == "r"));
    assert!(kinds[first_c..].iter().all(|k| *k == "c"));
    assert_eq!(d.last().unwrap(), "[DONE]");

    let full: Value = post(&server, &json!({"messages": [user("/demo reasoning")]}))
        .await
        .json()
        .await
        .unwrap();
    assert!(full["choices"][0]["message"]["reasoning_content"].is_string());
}

#[tokio::test]
async fn scenario_slow_waits_a_second_between_chunks() {
    let server = start(demo_config()).await;
    let res = post(
        &server,
        &json!({"stream": true, "messages": [user("/demo slow")]}),
    )
    .await;
    let mut stream = res.bytes_stream();
    let mut arrivals = Vec::new();
    let mut buf = Vec::new();
    while arrivals.len() < 3 {
        let b = stream.next().await.unwrap().unwrap();
        buf.extend_from_slice(&b);
        let events = buf.windows(2).filter(|w| w == b"\n\n").count();
        while arrivals.len() < events {
            arrivals.push(Instant::now());
        }
    }
    assert!(arrivals[2] - arrivals[1] >= Duration::from_millis(900));
}

#[tokio::test]
async fn bad_requests_get_openai_shaped_errors() {
    let server = start(demo_config()).await;
    let res = client()
        .post(server.url("/v1/chat/completions"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(body["error"]["message"].is_string());

    let res = post(&server, &json!({"messages": []})).await;
    assert_eq!(res.status(), 400);
    let res = post(&server, &json!({"model": "x"})).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn models_healthz_and_unknown_api_paths() {
    let server = start(demo_config()).await;
    let models: Value = client()
        .get(server.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "confab-demo");
    let health: Value = client()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok", "mode": "demo"}));
    let res = client()
        .post(server.url("/v1/embeddings"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn demo_applies_the_same_model_and_token_policy() {
    let mut config = demo_config();
    config.allowed_models = vec!["a".into(), "b".into()];
    config.max_tokens = Some(50);
    let server = start(config).await;
    let res = post(&server, &json!({"model": "c", "messages": [user("hi")]})).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_found");
    let full: Value = post(
        &server,
        &json!({"model": "b", "max_tokens": 1000, "messages": [user("hi")]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let text = full["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(text.contains("| max_tokens | `50` |"), "{text}");
}

#[tokio::test]
async fn scenario_malformed_sends_odd_frames_then_a_normal_answer() {
    let server = start(demo_config()).await;
    let res = post(
        &server,
        &json!({"stream": true, "messages": [user("/demo malformed")]}),
    )
    .await;
    let raw = res.text().await.unwrap();
    assert!(raw.contains("\"choices\":[]"));
    assert!(raw.contains("\n: keep-alive comment\n\n"));
    assert!(raw.contains("data: {this is not json\n\n"));
    assert!(raw.contains("\ndata:{"));
    assert!(raw.ends_with("data: [DONE]\n\n"));
    let mut dec = confab_core::sse::SseDecoder::new();
    let events = dec.push(raw.as_bytes()).unwrap();
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert!(text.starts_with("This answer came after"), "{text}");
}
