//! The widget's configured system prompt (`data-system-prompt`) and how it meets the
//! conversation's own, checked on the exact request body.

use super::*;
use serde_json::{json, Value};

fn no_images(_: &ImageRef) -> Option<String> {
    None
}

/// A conversation with one question and the request for its answer, as JSON.
fn request_for(conversation_prompt: &str, configured: &str) -> Value {
    let mut c = Conversation::new("c1".into(), 1000.0);
    c.settings.system_prompt = conversation_prompt.into();
    let u = c.push_user("hello".into(), vec![], 1001.0);
    let mut req = c.build_request(u, no_images);
    apply_configured_system_prompt(&mut req, configured);
    serde_json::to_value(&req).unwrap()
}

#[test]
fn the_configured_prompt_is_the_first_message() {
    assert_eq!(
        request_for("", "You answer questions about Acme's shop."),
        json!({
            "messages": [
                {"role": "system", "content": "You answer questions about Acme's shop."},
                {"role": "user", "content": "hello"}
            ],
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
}

#[test]
fn the_conversations_own_prompt_wins_over_the_configured_one() {
    assert_eq!(
        request_for("Be terse.", "You answer questions about Acme's shop.")["messages"],
        json!([
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "hello"}
        ])
    );
}

#[test]
fn a_blank_configured_prompt_sends_no_system_message() {
    for blank in ["", "  ", "\n\t"] {
        assert_eq!(
            request_for("", blank)["messages"],
            json!([{"role": "user", "content": "hello"}]),
            "{blank:?}"
        );
    }
}

#[test]
fn the_configured_prompt_is_sent_as_given_on_every_request() {
    let mut c = Conversation::new("c1".into(), 1000.0);
    let u = c.push_user("q1".into(), vec![], 1001.0);
    let a = c.start_assistant(u, 1002.0);
    c.append_content(a, "a1");
    c.finish(a, FinishReason::Stop);
    let u2 = c.push_user("q2".into(), vec![], 1003.0);
    let mut req = c.build_request(u2, no_images);
    apply_configured_system_prompt(&mut req, "Line one.\nLine two.");
    // Applying it twice (a retry builds a fresh request, but be safe) adds nothing.
    apply_configured_system_prompt(&mut req, "Line one.\nLine two.");
    assert_eq!(
        serde_json::to_value(&req).unwrap()["messages"],
        json!([
            {"role": "system", "content": "Line one.\nLine two."},
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"}
        ])
    );
}
