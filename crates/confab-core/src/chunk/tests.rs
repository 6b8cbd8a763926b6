use super::*;

fn chunk(json: &str) -> ChatChunk {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

#[test]
fn choices_missing_null_or_empty() {
    assert!(chunk(r#"{"id":"x"}"#).choices.is_empty());
    assert!(chunk(r#"{"choices":null}"#).choices.is_empty());
    assert!(chunk(r#"{"choices":[]}"#).choices.is_empty());
    assert!(chunk(r#"{"choices":"weird"}"#).choices.is_empty());
    assert!(chunk(r#"{"choices":[]}"#).first_choice().is_none());
}

#[test]
fn azure_prompt_filter_first_chunk() {
    let c = chunk(
        r#"{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]}"#,
    );
    assert!(c.choices.is_empty());
    assert!(c.usage.is_none());
    assert!(c.error.is_none());
}

#[test]
fn delta_missing() {
    let c = chunk(r#"{"choices":[{"index":0,"finish_reason":"stop"}]}"#);
    let choice = c.first_choice().unwrap();
    assert!(choice.body().is_none());
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
}

#[test]
fn role_variants() {
    for (json, role) in [
        (r#"{"choices":[{"delta":{"content":"a"}}]}"#, None),
        (
            r#"{"choices":[{"delta":{"role":null,"content":"a"}}]}"#,
            None,
        ),
        (r#"{"choices":[{"delta":{"role":"","content":"a"}}]}"#, None),
        (
            r#"{"choices":[{"delta":{"role":"assistant","content":"a"}}]}"#,
            Some("assistant"),
        ),
    ] {
        let c = chunk(json);
        let d = c.first_choice().unwrap().body().unwrap();
        assert_eq!(d.role.as_deref(), role, "{json}");
        assert_eq!(d.content.as_deref(), Some("a"));
    }
}

#[test]
fn content_null_and_parts() {
    let c = chunk(r#"{"choices":[{"delta":{"content":null}}]}"#);
    assert_eq!(c.first_choice().unwrap().body().unwrap().content, None);
    let c = chunk(r#"{"choices":[{"delta":{"content":[{"type":"text","text":"x"},"y"]}}]}"#);
    assert_eq!(
        c.first_choice().unwrap().body().unwrap().content.as_deref(),
        Some("xy")
    );
    let c = chunk(r#"{"choices":[{"delta":{"content":17}}]}"#);
    assert_eq!(c.first_choice().unwrap().body().unwrap().content, None);
}

#[test]
fn reasoning_fields() {
    let c = chunk(r#"{"choices":[{"delta":{"reasoning_content":"r1","content":null}}]}"#);
    let d = c.first_choice().unwrap().body().unwrap();
    assert_eq!(d.reasoning_text().as_deref(), Some("r1"));
    let c = chunk(r#"{"choices":[{"delta":{"reasoning":"r2","content":""}}]}"#);
    let d = c.first_choice().unwrap().body().unwrap();
    assert_eq!(d.reasoning_text().as_deref(), Some("r2"));
    // OpenRouter sends both with the same text: shown once.
    let c = chunk(r#"{"choices":[{"delta":{"reasoning":"r3","reasoning_content":"r3"}}]}"#);
    let d = c.first_choice().unwrap().body().unwrap();
    assert_eq!(d.reasoning_text().as_deref(), Some("r3"));
    let c = chunk(r#"{"choices":[{"delta":{"reasoning":null,"reasoning_content":""}}]}"#);
    let d = c.first_choice().unwrap().body().unwrap();
    assert_eq!(d.reasoning_text(), None);
}

#[test]
fn finish_reasons() {
    for (wire, expected) in [
        ("\"stop\"", Some(FinishReason::Stop)),
        ("\"length\"", Some(FinishReason::Length)),
        ("\"content_filter\"", Some(FinishReason::ContentFilter)),
        ("\"tool_calls\"", Some(FinishReason::ToolCalls)),
        ("\"eos\"", Some(FinishReason::Other("eos".into()))),
        ("\"end_turn\"", Some(FinishReason::Other("end_turn".into()))),
        ("\"\"", None),
        ("null", None),
        ("3", None),
    ] {
        let c = chunk(&format!(
            r#"{{"choices":[{{"delta":{{}},"finish_reason":{wire}}}]}}"#
        ));
        assert_eq!(c.first_choice().unwrap().finish_reason, expected, "{wire}");
    }
}

#[test]
fn usage_is_tolerant() {
    let c = chunk(
        r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":0}}}"#,
    );
    assert_eq!(
        c.usage,
        Some(Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            total_tokens: 15
        })
    );
    let c = chunk(r#"{"usage":{"prompt_tokens":10,"completion_tokens":null}}"#);
    assert_eq!(
        c.usage.unwrap().normalized(),
        Usage {
            prompt_tokens: 10,
            completion_tokens: 0,
            total_tokens: 10
        }
    );
    assert!(chunk(r#"{"usage":null}"#).usage.is_none());
    assert!(chunk(r#"{"usage":"n/a"}"#).usage.is_none());
    let c = chunk(r#"{"usage":{"prompt_tokens":1.0,"completion_tokens":"2","total_tokens":-1}}"#);
    assert_eq!(
        c.usage.unwrap(),
        Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 0
        }
    );
}

#[test]
fn error_member() {
    let c = chunk(r#"{"error":{"message":"boom","type":"server_error"}}"#);
    assert!(c.error.is_some());
    assert!(chunk(r#"{"error":null,"choices":[]}"#).error.is_none());
}

#[test]
fn extra_fields_are_ignored() {
    let c = chunk(
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","system_fingerprint":"fp","obfuscation":"abc","service_tier":"default",
            "timings":{"prompt_n":5,"predicted_per_second":40.1},
            "choices":[{"index":0,"delta":{"content":"x","tool_calls":[{"index":0}]},"logprobs":null,"finish_reason":null,"content_filter_results":{}}]}"#,
    );
    assert_eq!(c.id, "chatcmpl-1");
    assert_eq!(c.model, "m");
    assert_eq!(
        c.first_choice().unwrap().body().unwrap().content.as_deref(),
        Some("x")
    );
}

#[test]
fn id_and_model_may_be_null() {
    let c = chunk(r#"{"id":null,"model":null,"choices":[]}"#);
    assert_eq!(c.id, "");
    assert_eq!(c.model, "");
}

#[test]
fn completion_message() {
    let c: Completion = serde_json::from_str(
        r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    let choice = c.first_choice().unwrap();
    assert_eq!(choice.body().unwrap().content.as_deref(), Some("hi"));
    assert_eq!(choice.body().unwrap().refusal, None);
}

#[test]
fn choice_index_missing_counts_as_zero() {
    let c = chunk(r#"{"choices":[{"delta":{"content":"a"}}]}"#);
    assert_eq!(c.first_choice().unwrap().index, 0);
}
