use super::*;

fn run(input: &str) -> Vec<StreamEvent> {
    let mut s = ChatStream::new();
    let mut out = s.push(input.as_bytes());
    out.extend(s.finish());
    out
}

fn content(s: &str) -> StreamEvent {
    StreamEvent::Content(s.into())
}

fn reasoning(s: &str) -> StreamEvent {
    StreamEvent::Reasoning(s.into())
}

fn error_kind(events: &[StreamEvent]) -> Option<ErrorKind> {
    events.iter().find_map(|e| match e {
        StreamEvent::Error(e) => Some(e.kind),
        _ => None,
    })
}

fn the_error(events: &[StreamEvent]) -> ApiError {
    events
        .iter()
        .find_map(|e| match e {
            StreamEvent::Error(e) => Some(e.clone()),
            _ => None,
        })
        .expect("an error event")
}

#[test]
fn a_plain_stream_gives_text_finish_and_usage() {
    let events = run(concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(
        events,
        vec![
            content("Hello"),
            StreamEvent::Finish(FinishReason::Stop),
            StreamEvent::Usage(Usage {
                prompt_tokens: 9,
                completion_tokens: 2,
                total_tokens: 11
            }),
        ]
    );
}

#[test]
fn text_arrives_chunk_by_chunk() {
    let mut s = ChatStream::new();
    assert_eq!(
        s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n"),
        vec![content("A")]
    );
    assert_eq!(
        s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"B\"}}]}\n"),
        vec![]
    );
    assert_eq!(s.push(b"\n"), vec![content("B")]);
    assert!(!s.is_done());
    assert_eq!(s.push(b"data: [DONE]\n\n"), vec![]);
    assert!(s.is_done());
    assert_eq!(s.finish(), vec![]);
    assert_eq!(s.finish(), vec![], "finish twice gives nothing more");
}

#[test]
fn done_is_matched_exactly() {
    // "[DONE] " or "[done]" is not the end marker, and not JSON either.
    let events = run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata: [done]\n\n");
    assert_eq!(error_kind(&events), Some(ErrorKind::BadResponse));
    // "data:[DONE]" without the space is the marker (the space is optional in SSE).
    let events = run("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\ndata:[DONE]\n\n");
    assert_eq!(events, vec![content("x")]);
}

#[test]
fn nothing_after_done_is_used() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n",
        "data: [DONE]\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"late\"}}]}\n\n",
        "event: error\ndata: boom\n\n",
        "data: not json\n\n",
    ));
    assert_eq!(events, vec![content("x")]);
}

#[test]
fn only_done_is_an_empty_answer() {
    let events = run("data: [DONE]\n\n");
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::EmptyAnswer);
    assert_eq!(err.to_string(), "The model finished without answering.");
}

#[test]
fn whitespace_only_answer_is_empty() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"\\n\\n\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(error_kind(&events), Some(ErrorKind::EmptyAnswer));
}

#[test]
fn empty_answer_explains_the_finish_reason() {
    let events = run(
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\ndata: [DONE]\n\n",
    );
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::EmptyAnswer);
    assert_eq!(
        err.to_string(),
        "The provider's content filter blocked the answer."
    );
    let events = run("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n");
    assert!(the_error(&events).to_string().contains("token limit"));
    let events = run("data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n");
    assert!(the_error(&events).to_string().contains("tool"));
}

#[test]
fn reasoning_only_answer_is_not_empty() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"thinking\"},\"finish_reason\":\"length\"}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(
        events,
        vec![
            reasoning("thinking"),
            StreamEvent::Finish(FinishReason::Length)
        ]
    );
}

#[test]
fn end_without_done_after_finish_reason_is_success() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    ));
    assert_eq!(
        events,
        vec![content("ok"), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn end_without_done_or_finish_is_truncated_and_keeps_the_text() {
    let events = run("data: {\"choices\":[{\"delta\":{\"content\":\"The answer is\"}}]}\n\n");
    assert_eq!(events[0], content("The answer is"));
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::Truncated);
    assert_eq!(
        err.to_string(),
        "The answer was cut off before it finished."
    );
}

#[test]
fn a_half_received_final_frame_is_truncated() {
    let events = run(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_re",
    );
    assert_eq!(error_kind(&events), Some(ErrorKind::Truncated));
}

#[test]
fn an_empty_body_is_truncated() {
    assert_eq!(error_kind(&run("")), Some(ErrorKind::Truncated));
}

#[test]
fn error_in_a_data_frame_mid_stream() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"Par\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"The server had an error while processing your request. Sorry about that!\",\"type\":\"server_error\"}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"ignored\"}}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], content("Par"));
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::Stream);
    assert_eq!(err.code.as_deref(), Some("server_error"));
    assert!(err.message.starts_with("The server had an error"));
}

#[test]
fn error_null_is_not_an_error() {
    let events = run(concat!(
        "data: {\"error\":null,\"choices\":[{\"delta\":{\"content\":\"fine\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(
        events,
        vec![content("fine"), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn event_error_stops_the_stream() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",
        "event: error\ndata: {\"error\":{\"message\":\"Overloaded\",\"type\":\"overloaded_error\"}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\n",
    ));
    assert_eq!(events.len(), 2);
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::Stream);
    assert_eq!(err.message, "Overloaded");
    let events = run("event: error\ndata: upstream timed out\n\n");
    assert_eq!(the_error(&events).message, "upstream timed out");
}

#[test]
fn a_frame_that_is_not_json_is_a_bad_response_in_plain_words() {
    let events = run("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {oops\n\n");
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::BadResponse);
    assert_eq!(
        err.to_string(),
        "The server sent an answer Confab could not read: a piece of the streamed answer is not valid JSON (it starts with “{oops”)."
    );
    // JSON but not an object.
    assert_eq!(
        error_kind(&run("data: 42\n\n")),
        Some(ErrorKind::BadResponse)
    );
    assert_eq!(
        error_kind(&run("data: \"text\"\n\n")),
        Some(ErrorKind::BadResponse)
    );
}

#[test]
fn a_line_over_the_cap_is_a_bad_response() {
    let mut s = ChatStream::with_decoder(SseDecoder::with_max_line(64));
    let mut events = s.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n");
    events.extend(s.push(&[b'x'; 100]));
    events.extend(s.finish());
    assert_eq!(events[0], content("ok"));
    let err = the_error(&events);
    assert_eq!(err.kind, ErrorKind::BadResponse);
    assert!(err.to_string().contains("longer than 64 bytes"), "{err}");
    assert_eq!(events.len(), 2, "one error only, nothing after it");
}

#[test]
fn keep_alives_and_empty_frames_are_ignored() {
    let events = run(concat!(
        ": OPENROUTER PROCESSING\n\n",
        "data:\n\n",
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\n",
    ));
    assert_eq!(
        events,
        vec![content("x"), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn role_variants_and_null_content() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"role\":null,\"content\":null}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"role\":\"\",\"content\":\"a\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"b\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"c\"}}]}\n\n",
        "data: {\"choices\":[{\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":null}\n\n",
        "data: {}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(
        events,
        vec![content("abc"), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn think_tags_in_content_become_reasoning() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"<thi\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"nk>Let me\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\" think.</th\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"ink>\\n\\nIt is 4.\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(
        events,
        vec![
            reasoning("Let me think."),
            content("It is 4."),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn a_partial_tag_is_released_at_done() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"<\"}}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(events, vec![content("<")]);
}

#[test]
fn both_reasoning_fields_are_read() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"reasoning\":\"a\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"b\",\"content\":null}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"c\",\"reasoning\":\"c\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"d\"},\"finish_reason\":\"stop\"}]}\n\n",
    ));
    assert_eq!(
        events,
        vec![
            reasoning("abc"),
            content("d"),
            StreamEvent::Finish(FinishReason::Stop)
        ]
    );
}

#[test]
fn unknown_finish_reasons_are_kept() {
    for (wire, expected) in [
        ("stop", FinishReason::Stop),
        ("length", FinishReason::Length),
        ("content_filter", FinishReason::ContentFilter),
        ("tool_calls", FinishReason::ToolCalls),
        ("eos", FinishReason::Other("eos".into())),
        ("end_turn", FinishReason::Other("end_turn".into())),
    ] {
        let events = run(&format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"x\"}},\"finish_reason\":\"{wire}\"}}]}}\n\n"
        ));
        assert_eq!(
            events,
            vec![content("x"), StreamEvent::Finish(expected.clone())]
        );
        assert_eq!(expected.as_str(), wire);
    }
}

#[test]
fn finish_is_reported_once() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    ));
    assert_eq!(
        events,
        vec![content("x"), StreamEvent::Finish(FinishReason::Stop)]
    );
}

#[test]
fn only_the_first_choice_is_shown() {
    let events = run(concat!(
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"other\"}},{\"index\":0,\"delta\":{\"content\":\"mine\"}}]}\n\n",
        "data: [DONE]\n\n",
    ));
    assert_eq!(events, vec![content("mine")]);
}

#[test]
fn repeated_usage_is_reported_when_it_changes() {
    let events = run(concat!(
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"b\"}}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
        "data: {\"choices\":[],\"usage\":null}\n\n",
    ));
    let usages: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::Usage(u) => Some(*u),
            _ => None,
        })
        .collect();
    assert_eq!(
        usages,
        vec![
            Usage {
                prompt_tokens: 5,
                completion_tokens: 1,
                total_tokens: 6
            },
            Usage {
                prompt_tokens: 5,
                completion_tokens: 2,
                total_tokens: 7
            },
        ]
    );
}

#[test]
fn adjacent_text_in_one_push_is_merged() {
    let mut input = String::new();
    for i in 0..100 {
        input.push_str(&format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"{i} \"}}}}]}}\n\n"
        ));
    }
    let mut s = ChatStream::new();
    let events = s.push(input.as_bytes());
    assert_eq!(events.len(), 1);
}

#[test]
fn content_type_detection() {
    assert!(is_event_stream("text/event-stream"));
    assert!(is_event_stream("text/event-stream; charset=utf-8"));
    assert!(is_event_stream(" Text/Event-Stream ;charset=UTF-8"));
    assert!(!is_event_stream("application/json"));
    assert!(!is_event_stream("text/event-streams"));
    assert!(!is_event_stream(""));
}

#[test]
fn finish_reason_serde_uses_the_wire_string() {
    assert_eq!(
        serde_json::to_string(&FinishReason::ContentFilter).unwrap(),
        "\"content_filter\""
    );
    assert_eq!(
        serde_json::from_str::<FinishReason>("\"end_turn\"").unwrap(),
        FinishReason::Other("end_turn".into())
    );
    assert_eq!(
        serde_json::from_str::<FinishReason>("\"stop\"").unwrap(),
        FinishReason::Stop
    );
    assert!(FinishReason::Stop.is_complete());
    assert!(!FinishReason::Length.is_complete());
}

#[test]
fn usage_serde_round_trip() {
    let u = Usage {
        prompt_tokens: 1,
        completion_tokens: 2,
        total_tokens: 3,
    };
    let json = serde_json::to_string(&u).unwrap();
    assert_eq!(
        json,
        r#"{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"#
    );
    assert_eq!(serde_json::from_str::<Usage>(&json).unwrap(), u);
}

mod completion {
    use super::*;

    #[test]
    fn openai_completion() {
        let body = r#"{
          "id": "chatcmpl-123", "object": "chat.completion", "created": 1677652288,
          "model": "gpt-4o-mini", "system_fingerprint": "fp_44709d6fcb",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there.", "refusal": null},
                       "logprobs": null, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21,
                    "completion_tokens_details": {"reasoning_tokens": 0}}
        }"#;
        assert_eq!(
            parse_completion_json(body).unwrap(),
            vec![
                content("Hello there."),
                StreamEvent::Usage(Usage {
                    prompt_tokens: 9,
                    completion_tokens: 12,
                    total_tokens: 21
                }),
                StreamEvent::Finish(FinishReason::Stop),
            ]
        );
    }

    #[test]
    fn reasoning_fields_and_think_tags() {
        let body = r#"{"choices":[{"message":{"role":"assistant","content":"4","reasoning_content":"2+2"},"finish_reason":"stop"}]}"#;
        assert_eq!(
            parse_completion_json(body).unwrap(),
            vec![
                reasoning("2+2"),
                content("4"),
                StreamEvent::Finish(FinishReason::Stop)
            ]
        );
        let body = r#"{"choices":[{"message":{"content":"<think>hmm</think>\n\nyes"}}]}"#;
        assert_eq!(
            parse_completion_json(body).unwrap(),
            vec![reasoning("hmm"), content("yes")]
        );
    }

    #[test]
    fn error_object_with_status_200() {
        let err = parse_completion_json(
            r#"{"error":{"message":"model overloaded","code":"overloaded"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Http);
        assert_eq!(err.message, "model overloaded");
        assert_eq!(err.code.as_deref(), Some("overloaded"));
    }

    #[test]
    fn empty_and_malformed_answers() {
        let err = parse_completion_json(
            r#"{"choices":[{"message":{"content":null},"finish_reason":"content_filter"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::EmptyAnswer);
        assert_eq!(
            parse_completion_json(r#"{"choices":[]}"#).unwrap_err().kind,
            ErrorKind::EmptyAnswer
        );
        let err = parse_completion_json("<html>oops</html>").unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadResponse);
        assert!(err.to_string().contains("not JSON"), "{err}");
        assert_eq!(
            parse_completion_json("").unwrap_err().kind,
            ErrorKind::BadResponse
        );
        assert_eq!(
            parse_completion_json("[1,2]").unwrap_err().kind,
            ErrorKind::BadResponse
        );
    }

    #[test]
    fn an_event_stream_body_is_decoded_as_a_stream() {
        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        assert_eq!(
            parse_completion_json(body).unwrap(),
            vec![content("hi"), StreamEvent::Finish(FinishReason::Stop)]
        );
        let err = parse_completion_json("data: [DONE]\n\n").unwrap_err();
        assert_eq!(err.kind, ErrorKind::EmptyAnswer);
    }

    #[test]
    fn content_as_parts() {
        let body = r#"{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}"#;
        assert_eq!(parse_completion_json(body).unwrap(), vec![content("ab")]);
    }
}
