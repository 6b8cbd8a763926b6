use super::*;
use proptest::prelude::*;

fn ev(data: &str) -> SseEvent {
    SseEvent {
        event: "message".into(),
        data: data.into(),
        id: None,
        retry: None,
    }
}

fn all(input: &[u8]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = d.push(input).unwrap();
    out.extend(d.finish().unwrap());
    out
}

fn bytewise(input: &[u8]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for b in input {
        out.extend(d.push(std::slice::from_ref(b)).unwrap());
    }
    out.extend(d.finish().unwrap());
    out
}

fn datas(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|e| e.data.as_str()).collect()
}

#[test]
fn a_typical_chat_stream_decodes_to_its_data_frames() {
    let input = b"data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n";
    assert_eq!(
        all(input),
        vec![ev("{\"a\":1}"), ev("{\"a\":2}"), ev("[DONE]")]
    );
    assert_eq!(bytewise(input), all(input));
}

#[test]
fn events_arrive_as_soon_as_their_blank_line_does() {
    let mut d = SseDecoder::new();
    assert!(d.push(b"data: hel").unwrap().is_empty());
    assert!(d.push(b"lo\n").unwrap().is_empty());
    assert_eq!(d.push(b"\n").unwrap(), vec![ev("hello")]);
}

#[test]
fn all_three_line_endings_work() {
    for input in [
        &b"data: a\n\ndata: b\n\n"[..],
        b"data: a\r\n\r\ndata: b\r\n\r\n",
        b"data: a\r\rdata: b\r\r",
        b"data: a\r\n\ndata: b\r\r\n",
    ] {
        assert_eq!(datas(&all(input)), vec!["a", "b"], "{input:?}");
        assert_eq!(datas(&bytewise(input)), vec!["a", "b"], "{input:?}");
    }
}

#[test]
fn crlf_split_between_pushes_is_one_line_end() {
    // If the LF after a CR in the previous push counted as a second line end, the blank
    // line would dispatch "a" alone and "b" would become a separate event.
    let mut d = SseDecoder::new();
    assert!(d.push(b"data: a\r").unwrap().is_empty());
    assert!(d.push(b"\ndata: b\r").unwrap().is_empty());
    assert!(d.push(b"\n").unwrap().is_empty());
    assert_eq!(d.push(b"\r\n").unwrap(), vec![ev("a\nb")]);
}

#[test]
fn a_lone_cr_ends_the_line_immediately() {
    let mut d = SseDecoder::new();
    assert!(d.push(b"data: a\r").unwrap().is_empty());
    // The event is dispatched on the second CR, without waiting for a possible LF.
    assert_eq!(d.push(b"\r").unwrap(), vec![ev("a")]);
    assert_eq!(d.push(b"data: b\n\n").unwrap(), vec![ev("b")]);
}

#[test]
fn a_leading_bom_is_stripped_once() {
    assert_eq!(datas(&all(b"\xEF\xBB\xBFdata: x\n\n")), vec!["x"]);
    // Only one: a second BOM is part of the first line's field name, making it unknown.
    assert!(all(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n").is_empty());
    // A BOM later in the stream is content.
    assert_eq!(
        datas(&all(b"data: x\n\ndata: \xEF\xBB\xBFy\n\n")),
        vec!["x", "\u{FEFF}y"]
    );
}

#[test]
fn a_bom_split_across_pushes_is_still_stripped() {
    let mut d = SseDecoder::new();
    assert!(d.push(b"\xEF").unwrap().is_empty());
    assert!(d.push(b"").unwrap().is_empty());
    assert!(d.push(b"\xBB").unwrap().is_empty());
    assert!(d.push(b"\xBFda").unwrap().is_empty());
    assert_eq!(d.push(b"ta: x\n\n").unwrap(), vec![ev("x")]);
}

#[test]
fn a_partial_bom_is_kept_as_content() {
    // EF BB then 'd': not a BOM; the two bytes belong to the first line (an unknown field).
    assert!(all(b"\xEF\xBBdata: x\n\n").is_empty());
    let events = all(b"\xEF\xBB\ndata: x\n\n");
    assert_eq!(datas(&events), vec!["x"]);
    let mut d = SseDecoder::new();
    assert!(d.push(b"\xEF").unwrap().is_empty());
    assert_eq!(d.push(b"\ndata: y\n\n").unwrap(), vec![ev("y")]);
}

#[test]
fn utf8_split_across_pushes_arrives_whole() {
    let text = "data: héllo wörld 你好 🎉\n\n".as_bytes();
    let events = bytewise(text);
    assert_eq!(datas(&events), vec!["héllo wörld 你好 🎉"]);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    assert_eq!(datas(&all(b"data: a\xFFb\n\n")), vec!["a\u{FFFD}b"]);
    // A truncated sequence at the end of a line does not swallow the line end.
    assert_eq!(datas(&all(b"data: a\xE2\x82\n\n")), vec!["a\u{FFFD}"]);
}

#[test]
fn comments_and_keep_alives_are_ignored() {
    let input = b": OPENROUTER PROCESSING\n\n:\n\ndata: x\n: inside an event\n\n: ping\n\n";
    assert_eq!(all(input), vec![ev("x")]);
}

#[test]
fn data_with_or_without_a_space() {
    assert_eq!(datas(&all(b"data:x\n\n")), vec!["x"]);
    assert_eq!(datas(&all(b"data: x\n\n")), vec!["x"]);
    // Only one space is removed.
    assert_eq!(datas(&all(b"data:  x \n\n")), vec![" x "]);
    assert_eq!(datas(&all(b"data:\tx\n\n")), vec!["\tx"]);
}

#[test]
fn multi_line_data_is_joined_with_newlines() {
    assert_eq!(datas(&all(b"data: a\ndata:\ndata: c\n\n")), vec!["a\n\nc"]);
}

#[test]
fn empty_data_still_dispatches_but_no_data_does_not() {
    assert_eq!(all(b"data:\n\n"), vec![ev("")]);
    assert_eq!(all(b"data\n\n"), vec![ev("")]);
    assert!(all(b"\n\n\n").is_empty());
    assert!(all(b"event: ping\n\n").is_empty());
    assert!(all(b"id: 1\nretry: 10\n\n").is_empty());
}

#[test]
fn an_event_without_data_does_not_leak_its_type_into_the_next() {
    let events = all(b"event: ping\n\ndata: x\n\n");
    assert_eq!(events, vec![ev("x")]);
}

#[test]
fn event_field_sets_the_type_for_one_event() {
    let events = all(b"event: error\ndata: boom\n\ndata: fine\n\n");
    assert_eq!(events[0].event, "error");
    assert_eq!(events[0].data, "boom");
    assert_eq!(events[1].event, "message");
}

#[test]
fn field_without_colon_is_a_name_with_empty_value() {
    // "event" alone sets an empty type, which reads as "message".
    let events = all(b"event: x\nevent\ndata: d\n\n");
    assert_eq!(events[0].event, "message");
}

#[test]
fn unknown_fields_are_ignored() {
    assert_eq!(all(b"foo: bar\ndata: x\nDATA: y\n\n"), vec![ev("x")]);
}

#[test]
fn id_persists_and_ignores_nul() {
    let events = all(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\0\ndata: c\n\nid\ndata: d\n\n");
    let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
    assert_eq!(ids, vec![Some("7"), Some("7"), Some("7"), None]);
}

#[test]
fn retry_accepts_only_digits() {
    let mut d = SseDecoder::new();
    let events = d
        .push(b"retry: 3000\ndata: a\n\nretry: 12x\ndata: b\n\nretry: -5\nretry:\ndata: c\n\n")
        .unwrap();
    let retries: Vec<_> = events.iter().map(|e| e.retry).collect();
    assert_eq!(retries, vec![Some(3000), None, None]);
    assert_eq!(d.retry(), Some(3000));
    d.push(b"retry: 99999999999999999999999\n\n").unwrap();
    assert_eq!(d.retry(), Some(3000));
    d.push(b"retry:15\n\n").unwrap();
    assert_eq!(d.retry(), Some(15));
}

#[test]
fn an_unterminated_final_event_is_dropped() {
    let mut d = SseDecoder::new();
    assert_eq!(d.push(b"data: a\n\ndata: b\n").unwrap(), vec![ev("a")]);
    assert!(d.finish().unwrap().is_empty());
    let mut d = SseDecoder::new();
    assert!(d.push(b"data: no newline at all").unwrap().is_empty());
    assert!(d.finish().unwrap().is_empty());
    // A trailing CR ends the line but not the event.
    let mut d = SseDecoder::new();
    assert!(d.push(b"data: x\r").unwrap().is_empty());
    assert!(d.finish().unwrap().is_empty());
}

#[test]
fn finish_resets_for_a_new_stream() {
    let mut d = SseDecoder::new();
    d.push(b"id: 1\ndata: half").unwrap();
    d.finish().unwrap();
    assert_eq!(
        d.push(b"\xEF\xBB\xBFdata: new\n\n").unwrap(),
        vec![ev("new")]
    );
}

#[test]
fn a_line_over_the_cap_is_an_error() {
    let mut d = SseDecoder::with_max_line(16);
    let err = d.push(b"data: 0123456789abcdef\n\n").unwrap_err();
    assert_eq!(err, SseError::LineTooLong { limit: 16 });
    assert!(err.to_string().contains("16 bytes"), "{err}");
    // The error sticks.
    assert!(d.push(b"data: x\n\n").is_err());
    assert!(d.finish().is_err());
    // finish reset it.
    assert_eq!(d.push(b"data: x\n\n").unwrap(), vec![ev("x")]);
}

#[test]
fn the_cap_bounds_a_line_that_never_ends() {
    let mut d = SseDecoder::with_max_line(1024);
    let chunk = [b'a'; 100];
    let mut failed = false;
    for _ in 0..20 {
        if d.push(&chunk).is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "an endless line must fail once past the cap");
}

#[test]
fn a_line_exactly_at_the_cap_is_fine() {
    let mut d = SseDecoder::with_max_line(8);
    assert_eq!(d.push(b"data:abc\n\n").unwrap(), vec![ev("abc")]);
    let mut d = SseDecoder::with_max_line(8);
    d.push(b"data").unwrap();
    assert_eq!(d.push(b":abc\n\n").unwrap(), vec![ev("abc")]);
}

#[test]
fn events_before_a_too_long_line_are_kept_by_push_into() {
    let mut d = SseDecoder::with_max_line(10);
    let mut out = Vec::new();
    let res = d.push_into(b"data: a\n\ndata: far too long\n\n", &mut out);
    assert!(res.is_err());
    assert_eq!(out, vec![ev("a")]);
}

#[test]
fn default_cap_is_16_mib_and_the_message_says_so() {
    let d = SseDecoder::new();
    assert_eq!(d.max_line(), 16 * 1024 * 1024);
    let err = SseError::LineTooLong {
        limit: DEFAULT_MAX_LINE,
    };
    assert_eq!(
        err.to_string(),
        "the server sent a line longer than 16 MiB in its event stream"
    );
}

#[test]
fn an_8_mb_event_pushed_one_byte_at_a_time_is_linear() {
    let payload = "x".repeat(8 * 1024 * 1024);
    let mut input = b"data: ".to_vec();
    input.extend_from_slice(payload.as_bytes());
    input.extend_from_slice(b"\n\n");
    let start = std::time::Instant::now();
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for b in &input {
        d.push_into(std::slice::from_ref(b), &mut out).unwrap();
    }
    let elapsed = start.elapsed();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data.len(), payload.len());
    // A rescanning decoder needs ~3.5e13 byte comparisons here (hours). A linear one takes
    // well under a second even unoptimised; the bound is generous for slow CI machines.
    assert!(
        elapsed.as_secs() < 20,
        "8 MB in 1-byte pushes took {elapsed:?}"
    );
}

/// Streams covering every feature, used by the split property below.
fn sample_streams() -> Vec<Vec<u8>> {
    vec![
        b"\xEF\xBB\xBFdata: a\r\n\r\ndata: b\r\rdata: c\n\n".to_vec(),
        b": keep-alive\n\nevent: error\ndata: {\"error\":1}\nid: 5\nretry: 100\n\n".to_vec(),
        "data: 你好\ndata:🎉\r\n\ndata\n\nid: x\0y\ndata: z\r\n\r\n"
            .as_bytes()
            .to_vec(),
        b"data: a\xE2\x82\xACb\xFFc\n\ndata: [DONE]\n\ndata: tail".to_vec(),
        b"\r\n\r\r\n\n\rdata:x\r\n\r".to_vec(),
    ]
}

fn split_at_points(input: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    let mut prev = 0;
    for c in cuts.into_iter().chain([input.len()]) {
        out.extend(d.push(&input[prev..c]).unwrap());
        prev = c;
    }
    out.extend(d.finish().unwrap());
    out
}

proptest! {
    #[test]
    fn any_split_of_a_sample_stream_gives_the_same_events(
        which in 0usize..5,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let input = &sample_streams()[which];
        prop_assert_eq!(split_at_points(input, &cuts), all(input));
    }

    #[test]
    fn any_split_of_arbitrary_bytes_gives_the_same_events(
        // Bytes biased towards the interesting ones.
        input in proptest::collection::vec(
            prop_oneof![
                Just(b'\n'), Just(b'\r'), Just(b':'), Just(b' '), Just(0xEF), Just(0xBB),
                Just(0xBF), Just(0xE2), Just(0), Just(b'a'),
                Just(b'd'), Just(b't'), any::<u8>(),
            ],
            0..200,
        ),
        prefix in prop_oneof![Just(&b""[..]), Just(&b"data:"[..]), Just(&b"\xEF\xBB\xBF"[..]),
                              Just(&b"event:e\ndata: "[..])],
        cuts in proptest::collection::vec(any::<usize>(), 0..60),
    ) {
        let mut full = prefix.to_vec();
        full.extend_from_slice(&input);
        prop_assert_eq!(split_at_points(&full, &cuts), all(&full));
        prop_assert_eq!(bytewise(&full), all(&full));
    }

    #[test]
    fn data_lines_round_trip(lines in proptest::collection::vec("[^\r\n]*", 1..5)) {
        let mut input = String::new();
        for l in &lines {
            input.push_str("data:");
            input.push_str(l);
            input.push('\n');
        }
        input.push('\n');
        let events = all(input.as_bytes());
        prop_assert_eq!(events.len(), 1);
        let expected: Vec<String> = lines
            .iter()
            .map(|l| l.strip_prefix(' ').unwrap_or(l).to_owned())
            .collect();
        prop_assert_eq!(&events[0].data, &expected.join("\n"));
    }
}
