use super::*;
use crate::error::ErrorKind;
use crate::protocol::MessageContent;
use serde_json::json;

fn texts(c: &Conversation) -> Vec<&str> {
    c.active_path().iter().map(|n| n.text.as_str()).collect()
}

fn no_images(_: &ImageRef) -> Option<String> {
    None
}

fn image(id: &str, detail: ImageDetail) -> ImageRef {
    ImageRef {
        id: id.into(),
        mime: "image/jpeg".into(),
        width: 1024,
        height: 768,
        bytes: 123_456,
        detail,
        name: format!("{id}.jpg"),
    }
}

/// user "q1" -> answer "a1" (finished).
fn one_exchange() -> (Conversation, NodeId, NodeId) {
    let mut c = Conversation::new("c1".into(), 1000.0);
    let u = c.push_user("q1".into(), vec![], 1001.0);
    let a = c.start_assistant(u, 1002.0);
    c.append_content(a, "a1");
    c.finish(a, FinishReason::Stop);
    (c, u, a)
}

#[test]
fn a_new_conversation_is_empty() {
    let c = Conversation::new("id".into(), 5.0);
    assert_eq!(c.format_version, 1);
    assert!(c.active_path().is_empty());
    assert_eq!(c.created_ms, 5.0);
    assert_eq!(c.title_or_default(), "New chat");
    assert!(c.is_empty());
}

#[test]
fn streaming_an_answer() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("Hi".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    assert!(c.node(a).unwrap().is_streaming());
    assert!(c.is_streaming());
    assert_eq!(c.active_leaf(), Some(a));
    for ev in [
        StreamEvent::Reasoning("think".into()),
        StreamEvent::Content("Hel".into()),
        StreamEvent::Content("lo".into()),
        StreamEvent::Finish(FinishReason::Stop),
        StreamEvent::Usage(Usage {
            prompt_tokens: 3,
            completion_tokens: 2,
            total_tokens: 5,
        }),
    ] {
        c.apply(a, &ev);
    }
    let n = c.node(a).unwrap();
    assert_eq!(n.text, "Hello");
    assert_eq!(n.reasoning, "think");
    assert_eq!(n.state, MessageState::Done);
    assert_eq!(n.finish, Some(FinishReason::Stop));
    assert_eq!(n.usage.unwrap().total_tokens, 5);
    assert_eq!(texts(&c), vec!["Hi", "Hello"]);
    assert_eq!(c.updated_ms, 2.0);
}

#[test]
fn stop_keeps_partial_text() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    c.append_content(a, "partial");
    c.stop(a);
    assert_eq!(c.node(a).unwrap().state, MessageState::Stopped);
    assert_eq!(c.node(a).unwrap().text, "partial");
    // Stopping a finished answer changes nothing.
    let (mut c, _, a) = one_exchange();
    c.stop(a);
    assert_eq!(c.node(a).unwrap().state, MessageState::Done);
}

#[test]
fn fail_keeps_partial_text_and_the_error() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    c.append_content(a, "half");
    c.apply(a, &StreamEvent::Error(ApiError::truncated()));
    let n = c.node(a).unwrap();
    assert_eq!(n.text, "half");
    assert_eq!(n.error().unwrap().kind, ErrorKind::Truncated);
}

#[test]
fn an_empty_answer_error_after_finish_leaves_it_failed() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    c.apply(a, &StreamEvent::Finish(FinishReason::Stop));
    c.apply(a, &StreamEvent::Error(ApiError::empty_answer()));
    assert!(c.node(a).unwrap().error().is_some());
    // A late finish does not hide the failure.
    c.finish(a, FinishReason::Stop);
    assert!(c.node(a).unwrap().error().is_some());
}

#[test]
fn regenerate_makes_a_sibling_answer() {
    let (mut c, u, a1) = one_exchange();
    let a2 = c.regenerate(a1, 2000.0);
    assert_eq!(c.node(a2).unwrap().parent, Some(u));
    assert!(c.node(a2).unwrap().is_streaming());
    assert_eq!(c.siblings(a2), (2, 2));
    assert_eq!(c.siblings(a1), (1, 2));
    c.append_content(a2, "a1 again");
    assert_eq!(texts(&c), vec!["q1", "a1 again"]);
    assert_eq!(c.switch_sibling(a2, -1), Some(a1));
    assert_eq!(texts(&c), vec!["q1", "a1"]);
}

#[test]
fn edit_user_keeps_the_old_branch_and_switching_restores_it() {
    let (mut c, u1, _a1) = one_exchange();
    let u2 = c.push_user("q2".into(), vec![], 3.0);
    let a2 = c.start_assistant(u2, 4.0);
    c.append_content(a2, "a2");
    c.finish(a2, FinishReason::Stop);
    assert_eq!(texts(&c), vec!["q1", "a1", "q2", "a2"]);

    // Edit the first question: a new branch from the root.
    let e = c.edit_user(u1, "q1 edited".into(), vec![], 5.0);
    assert_eq!(c.node(e).unwrap().parent, None);
    assert_eq!(c.siblings(e), (2, 2));
    assert_eq!(texts(&c), vec!["q1 edited"]);
    let ea = c.start_assistant(e, 6.0);
    c.append_content(ea, "new answer");
    assert_eq!(texts(&c), vec!["q1 edited", "new answer"]);

    // Back to the original: the whole old branch comes back, down to its last message.
    assert_eq!(c.switch_sibling(e, -1), Some(u1));
    assert_eq!(texts(&c), vec!["q1", "a1", "q2", "a2"]);
    // And forward again restores the edited branch with its answer.
    c.switch_sibling(u1, 1);
    assert_eq!(texts(&c), vec!["q1 edited", "new answer"]);
}

#[test]
fn switching_remembers_the_branch_last_seen_deep_down() {
    let (mut c, _u1, a1) = one_exchange();
    let u2 = c.push_user("q2".into(), vec![], 3.0);
    let a2 = c.start_assistant(u2, 4.0);
    c.append_content(a2, "a2 first");
    let a2b = c.regenerate(a2, 5.0);
    c.append_content(a2b, "a2 second");
    // Choose the first a2 again.
    c.switch_sibling(a2b, -1);
    assert_eq!(texts(&c), vec!["q1", "a1", "q2", "a2 first"]);
    // Make another answer to q1, then come back to a1: we land on "a2 first", the one
    // last seen, not the newest.
    let a1b = c.regenerate(a1, 6.0);
    c.append_content(a1b, "other");
    assert_eq!(texts(&c), vec!["q1", "other"]);
    c.switch_sibling(a1b, -1);
    assert_eq!(texts(&c), vec!["q1", "a1", "q2", "a2 first"]);
}

#[test]
fn switch_sibling_clamps_and_ignores_unknown_ids() {
    let (mut c, _, a1) = one_exchange();
    let a2 = c.regenerate(a1, 2.0);
    let a3 = c.regenerate(a1, 3.0);
    assert_eq!(c.siblings(a3), (3, 3));
    assert_eq!(c.switch_sibling(a3, -10), Some(a1));
    assert_eq!(c.switch_sibling(a1, 10), Some(a3));
    assert_eq!(c.switch_sibling(a3, 0), Some(a3));
    assert_eq!(c.switch_sibling(a1, 1), Some(a2));
    assert_eq!(c.switch_sibling(999, 1), None);
    assert_eq!(c.siblings(999), (0, 0));
    assert_eq!(c.siblings(a2), (2, 3));
}

#[test]
fn push_user_continues_the_active_path() {
    let (mut c, _, a1) = one_exchange();
    let a1b = c.regenerate(a1, 2.0);
    c.finish(a1b, FinishReason::Stop);
    c.switch_sibling(a1b, -1);
    let u2 = c.push_user("follow-up".into(), vec![], 3.0);
    assert_eq!(c.node(u2).unwrap().parent, Some(a1));
}

#[test]
fn request_messages_follow_the_path_with_the_system_prompt_first() {
    let (mut c, _, _) = one_exchange();
    c.settings.system_prompt = "Be brief.".into();
    let u2 = c.push_user("q2".into(), vec![], 3.0);
    let msgs = c.request_messages(u2, no_images);
    assert_eq!(
        serde_json::to_value(&msgs).unwrap(),
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        ])
    );
    // With the new, still empty answer as `upto`, it is left out.
    let a2 = c.start_assistant(u2, 4.0);
    assert_eq!(c.request_messages(a2, no_images).len(), 4);
}

#[test]
fn request_messages_skip_failed_empty_answers_and_reasoning() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let failed = c.start_assistant(u, 2.0);
    c.fail(failed, ApiError::network("offline"));
    let u2 = c.push_user("again".into(), vec![], 3.0);
    let a = c.start_assistant(u2, 4.0);
    c.append_reasoning(a, "secret thoughts");
    c.append_content(a, "answer");
    c.finish(a, FinishReason::Stop);
    let u3 = c.push_user("more".into(), vec![], 5.0);
    let msgs = c.request_messages(u3, no_images);
    let roles: Vec<_> = msgs.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        vec![Role::User, Role::User, Role::Assistant, Role::User]
    );
    let body = serde_json::to_string(&msgs).unwrap();
    assert!(!body.contains("secret thoughts"));
    // A failed answer with partial text is sent as what the model said so far.
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    c.append_content(a, "partial");
    c.fail(a, ApiError::truncated());
    assert_eq!(c.request_messages(a, no_images).len(), 2);
}

#[test]
fn no_system_message_when_the_prompt_is_blank() {
    let (mut c, u, _) = one_exchange();
    c.settings.system_prompt = "  \n".into();
    assert_eq!(c.request_messages(u, no_images)[0].role, Role::User);
}

#[test]
fn images_become_content_parts_text_first() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user(
        "What is this?".into(),
        vec![
            image("img1", ImageDetail::Low),
            image("gone", ImageDetail::High),
            image("img2", ImageDetail::Auto),
        ],
        1.0,
    );
    let msgs = c.request_messages(u, |img| {
        (img.id != "gone").then(|| format!("data:image/jpeg;base64,{}", img.id))
    });
    assert_eq!(
        serde_json::to_value(&msgs).unwrap(),
        json!([{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,img1", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,img2", "detail": "auto"}},
        ]}])
    );
}

#[test]
fn image_only_message_has_no_empty_text_part() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user(String::new(), vec![image("i", ImageDetail::High)], 1.0);
    let msgs = c.request_messages(u, |_| Some("data:x".into()));
    assert_eq!(
        serde_json::to_value(&msgs).unwrap(),
        json!([{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:x", "detail": "high"}},
        ]}])
    );
    // If no image can be produced, the message is plain text.
    let msgs = c.request_messages(u, no_images);
    assert_eq!(msgs[0].content, MessageContent::Text(String::new()));
}

#[test]
fn build_request_applies_settings_and_leaves_unset_ones_out() {
    let (mut c, u, _) = one_exchange();
    c.settings.model = "gpt-4o-mini".into();
    let body = serde_json::to_value(c.build_request(u, no_images)).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "q1"}],
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
    c.settings = Settings {
        model: "m".into(),
        system_prompt: String::new(),
        temperature: Some(0.2),
        top_p: Some(0.9),
        max_tokens: Some(256),
        presence_penalty: Some(0.5),
        frequency_penalty: Some(-0.5),
        seed: Some(42),
        stop: vec!["END".into(), String::new(), "###".into()],
        json_mode: true,
    };
    let body = serde_json::to_value(c.build_request(u, no_images)).unwrap();
    assert_eq!(body["temperature"], json!(0.2));
    assert_eq!(body["top_p"], json!(0.9));
    assert_eq!(body["max_tokens"], json!(256));
    assert_eq!(body["presence_penalty"], json!(0.5));
    assert_eq!(body["frequency_penalty"], json!(-0.5));
    assert_eq!(body["seed"], json!(42));
    assert_eq!(body["stop"], json!(["END", "###"]));
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    c.settings.stop = vec!["END".into()];
    let body = serde_json::to_value(c.build_request(u, no_images)).unwrap();
    assert_eq!(body["stop"], json!("END"));
}

#[test]
fn mark_interrupted_after_reload() {
    let mut c = Conversation::new("c".into(), 0.0);
    let u = c.push_user("q".into(), vec![], 1.0);
    let a = c.start_assistant(u, 2.0);
    c.append_content(a, "half an answer");
    let mut loaded = Conversation::from_json(&c.to_json()).unwrap();
    assert_eq!(loaded.mark_interrupted(), 1);
    let n = loaded.node(a).unwrap();
    assert_eq!(n.state, MessageState::Interrupted);
    assert_eq!(n.text, "half an answer");
    assert!(!loaded.is_streaming());
    assert_eq!(loaded.mark_interrupted(), 0);
}

#[test]
fn json_round_trip() {
    let (mut c, u, a) = one_exchange();
    c.settings.temperature = Some(0.7);
    c.settings.stop = vec!["x".into()];
    c.title = "My chat".into();
    c.set_usage(
        a,
        Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            total_tokens: 3,
        },
    );
    let a2 = c.regenerate(a, 3.0);
    c.fail(a2, parse_err());
    c.edit_user(u, "edit".into(), vec![image("i", ImageDetail::Low)], 4.0);
    let json = c.to_json();
    let back = Conversation::from_json(&json).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.to_json(), json);
}

fn parse_err() -> ApiError {
    crate::error::parse_error_body(429, r#"{"error":{"message":"slow"}}"#, Some("7"))
}

#[test]
fn json_shape_is_stable() {
    let (c, _, _) = one_exchange();
    let v: serde_json::Value = serde_json::from_str(&c.to_json()).unwrap();
    assert_eq!(
        v,
        json!({
            "format_version": 1,
            "id": "c1",
            "title": "",
            "created_ms": 1000.0,
            "updated_ms": 1002.0,
            "settings": {"model": "", "system_prompt": "", "json_mode": false},
            "nodes": [
                {"id": 0, "role": "user", "text": "q1", "state": "done", "created_ms": 1001.0, "active_child": 1},
                {"id": 1, "parent": 0, "role": "assistant", "text": "a1", "state": "done",
                 "finish": "stop", "created_ms": 1002.0}
            ],
            "active": 1
        })
    );
}

#[test]
fn older_files_with_missing_fields_load() {
    let json = r#"{"format_version":1,"id":"old","nodes":[
        {"id":0,"role":"user","text":"hello"},
        {"id":1,"parent":0,"role":"assistant","text":"hi","state":{"failed":{"kind":"network"}}}
    ],"settings":{"model":"llama3"}}"#;
    let c = Conversation::from_json(json).unwrap();
    assert_eq!(c.settings.model, "llama3");
    assert_eq!(c.settings.temperature, None);
    assert!(!c.settings.json_mode);
    // No active message recorded: the newest is shown.
    assert_eq!(texts(&c), vec!["hello", "hi"]);
    assert_eq!(c.node(1).unwrap().error().unwrap().kind, ErrorKind::Network);
}

#[test]
fn future_versions_are_refused_clearly() {
    let err =
        Conversation::from_json(r#"{"format_version":2,"id":"x","nodes":"whatever"}"#).unwrap_err();
    assert!(err.contains("newer version of Confab"), "{err}");
    assert!(err.contains("format 2"), "{err}");
    let err = Conversation::from_json(r#"{"id":"x"}"#).unwrap_err();
    assert!(err.contains("no format_version"), "{err}");
    let err = Conversation::from_json(r#"{"format_version":0,"id":"x"}"#).unwrap_err();
    assert!(err.contains("format 0"), "{err}");
    let err = Conversation::from_json("not json").unwrap_err();
    assert!(err.contains("not valid JSON"), "{err}");
    let err = Conversation::from_json(r#"{"format_version":"1","id":"x"}"#).unwrap_err();
    assert!(err.contains("not a number"), "{err}");
}

#[test]
fn damaged_trees_are_refused_or_repaired() {
    // A parent after its child could make a cycle: refused.
    let err = Conversation::from_json(
        r#"{"format_version":1,"id":"x","nodes":[{"id":0,"parent":1,"role":"user"},{"id":1,"parent":0,"role":"assistant"}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("damaged"), "{err}");
    let err = Conversation::from_json(
        r#"{"format_version":1,"id":"x","nodes":[{"id":5,"role":"user"}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("damaged"), "{err}");
    let err = Conversation::from_json(
        r#"{"format_version":1,"id":"x","nodes":[{"id":0,"role":"wizard"}]}"#,
    )
    .unwrap_err();
    assert!(err.contains("damaged"), "{err}");
    // A bad active id or branch memory is repaired.
    let c = Conversation::from_json(
        r#"{"format_version":1,"id":"x","active":42,"nodes":[{"id":0,"role":"user","text":"a","active_child":0}]}"#,
    )
    .unwrap();
    assert_eq!(c.active, Some(0));
    assert_eq!(c.node(0).unwrap().active_child, None);
}

#[test]
fn titles() {
    let mut c = Conversation::new("c".into(), 0.0);
    c.push_user(
        "  How do I\n  reverse a linked list in Rust without unsafe code?".into(),
        vec![],
        1.0,
    );
    assert_eq!(
        c.title_or_default(),
        "How do I reverse a linked list in Rust…"
    );
    assert!(c.title_or_default().chars().count() <= TITLE_CHARS + 1);
    c.title = "Linked lists".into();
    assert_eq!(c.title_or_default(), "Linked lists");
    let mut c = Conversation::new("c".into(), 0.0);
    c.push_user("Short one".into(), vec![], 1.0);
    assert_eq!(c.title_or_default(), "Short one");
    let mut c = Conversation::new("c".into(), 0.0);
    c.push_user("".into(), vec![image("i", ImageDetail::Auto)], 1.0);
    assert_eq!(c.title_or_default(), "Image");
    let mut c = Conversation::new("c".into(), 0.0);
    c.push_user(
        "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三"
            .into(),
        vec![],
        1.0,
    );
    assert_eq!(c.title_or_default().chars().count(), TITLE_CHARS + 1);
}

#[test]
fn a_thousand_messages_stream_and_load_quickly() {
    let mut c = Conversation::new("big".into(), 0.0);
    let mut last = None;
    for i in 0..500 {
        let u = c.push_user(format!("question {i}"), vec![], i as f64);
        let a = c.start_assistant(u, i as f64);
        // Many small deltas per answer: each append is O(1).
        for _ in 0..200 {
            c.append_content(a, "tok ");
        }
        c.finish(a, FinishReason::Stop);
        last = Some(a);
    }
    assert_eq!(c.active_path().len(), 1000);
    let json = c.to_json();
    let mut back = Conversation::from_json(&json).unwrap();
    back.mark_interrupted();
    let path = back.active_path();
    assert_eq!(path.len(), 1000);
    let req = back.build_request(last.unwrap(), no_images);
    assert_eq!(req.messages.len(), 1000);
    // The UI shows "n / m" on every message.
    let shown: usize = path.iter().map(|n| back.siblings(n.id).1).sum();
    assert_eq!(shown, 1000);
}

#[test]
fn states_have_the_names_the_widget_shows() {
    assert_eq!(MessageState::Streaming.as_str(), "streaming");
    assert_eq!(MessageState::Interrupted.as_str(), "interrupted");
    assert_eq!(
        MessageState::Failed(crate::error::ApiError::truncated()).as_str(),
        "failed"
    );
}
