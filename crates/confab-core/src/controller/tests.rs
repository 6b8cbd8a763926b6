//! The chat as a user meets it, run natively: a scripted transport replays response bodies
//! through the real decoders and a clock is passed in.

use super::script::*;
use super::*;
use crate::conversation::ImageRef;
use crate::error::ErrorKind;
use crate::protocol::{ChatRequest, ImageDetail, MessageContent};

fn texts_of(request: &ChatRequest) -> Vec<String> {
    request
        .messages
        .iter()
        .map(|m| match &m.content {
            MessageContent::Text(t) => t.clone(),
            _ => "<parts>".into(),
        })
        .collect()
}

fn state(h: &Harness) -> &'static str {
    h.leaf().state.as_str()
}

const TEN_KB: usize = 10 * 1024;

fn long_text(bytes: usize) -> String {
    let line = "Some *markdown* text with `code` and words.\n\n";
    line.repeat(bytes / line.len() + 1)[..bytes].to_owned()
}

// --- send ---------------------------------------------------------------------------

#[test]
fn send_starts_one_request_to_the_endpoint_with_the_question() {
    let mut h = Harness::new();
    let run = h.send("Hello");
    assert_eq!(h.requests.len(), 1);
    let (r, endpoint, request) = &h.requests[0];
    assert_eq!((*r, endpoint.as_str()), (run, ENDPOINT));
    assert_eq!(texts_of(request), ["Hello"]);
    assert_eq!(request.stream, Some(true));
    assert_eq!(h.ctl.status(), Status::Submitted);
    assert_eq!(state(&h), "streaming");
    assert!(
        h.saved.is_some(),
        "the question is saved before the answer starts"
    );
}

#[test]
fn an_answer_streams_in_and_completes() {
    let mut h = Harness::new();
    let run = h.send("Hi");
    h.feed(run, &[content("Hel")], 5.0);
    assert_eq!(h.ctl.status(), Status::Streaming);
    h.feed(run, &[content("lo!"), finish("stop")], 5.0);
    h.end(run);
    assert_eq!(h.ctl.status(), Status::Ready);
    assert_eq!(h.path_texts(), ["Hi", "Hello!"]);
    assert_eq!(state(&h), "done");
    assert_eq!(h.leaf().usage.map(|u| u.total_tokens), Some(12));
    assert_eq!(
        h.saved.as_ref(),
        Some(h.ctl.conversation()),
        "the settled answer is saved"
    );
    assert!(h.log.contains(&Effect::Announce(Announcement::Complete)));
    assert!(h.log.contains(&Effect::Settled(1)));
}

#[test]
fn blank_messages_and_sends_while_answering_are_refused() {
    let mut h = Harness::new();
    assert_eq!(h.ctl.send("  \n".into(), vec![], 0.0), Err(Refusal::Empty));
    h.send("one");
    assert_eq!(h.ctl.send("two".into(), vec![], 0.0), Err(Refusal::Busy));
    assert_eq!(h.requests.len(), 1);
    assert_eq!(h.ctl.conversation().nodes.len(), 2);
}

#[test]
fn an_image_alone_may_be_sent_and_the_request_waits_for_its_bytes() {
    let mut h = Harness::new();
    let image = ImageRef {
        id: "img1".into(),
        mime: "image/jpeg".into(),
        width: 10,
        height: 10,
        bytes: 100,
        detail: ImageDetail::Low,
        name: "a.jpg".into(),
    };
    let effects = h.ctl.send(String::new(), vec![image], h.now).unwrap();
    let images = effects.iter().find_map(|e| match e {
        Effect::Start { images, .. } => Some(images.clone()),
        _ => None,
    });
    assert_eq!(images, Some(vec!["img1".to_owned()]));
    h.run(effects);
    let run = h.last_run();
    let request = h
        .ctl
        .request_for(run, &|img| Some(format!("data:{}", img.id)))
        .unwrap();
    assert!(serde_json::to_string(&request)
        .unwrap()
        .contains("data:img1"));
}

// --- pacing ---------------------------------------------------------------------------

#[test]
fn text_is_shown_at_most_thirty_times_a_second_at_a_realistic_pace() {
    let mut h = Harness::new();
    let run = h.send("long please");
    let text = long_text(4 * 200); // 200 deltas of 4 bytes, 5 ms apart: one second
    h.feed(run, &answer_in_deltas(&text, 4), 5.0);
    assert!(h.publishes <= 31, "{} commits in one second", h.publishes);
    assert!(
        h.publishes >= 25,
        "the text keeps up: {} commits",
        h.publishes
    );
    h.end(run);
    assert_eq!(h.shown, text, "published pieces add up to the answer");
}

#[test]
fn the_end_of_the_stream_shows_the_rest_at_once() {
    let mut h = Harness::new();
    let run = h.send("q");
    // Everything arrives within one frame: only the first delta is shown at once.
    h.feed(run, &[content("a"), content("b"), content("c")], 1.0);
    assert_eq!(h.shown, "a");
    h.feed(run, &[finish("stop")], 1.0);
    h.end(run);
    assert_eq!(h.shown, "abc", "never behind the stream at its end");
    let publish_then_node = h
        .log
        .iter()
        .rposition(|e| matches!(e, Effect::Publish { .. }))
        < h.log.iter().rposition(|e| matches!(e, Effect::Node(_)));
    assert!(publish_then_node, "text first, then the final state");
}

#[test]
fn waiting_text_asks_for_a_tick_and_the_tick_shows_it() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("a"), content("b")], 1.0);
    assert_eq!(h.shown, "a");
    assert!(h.log.iter().any(|e| matches!(e, Effect::TickAt(_))));
    h.advance(PUBLISH_INTERVAL_MS);
    assert_eq!(h.shown, "ab", "a quiet stream still shows what arrived");
}

#[test]
fn each_publish_carries_only_the_new_text() {
    let mut h = Harness::new();
    let run = h.send("q");
    let text = long_text(TEN_KB);
    h.feed(run, &answer_in_deltas(&text, 4), 5.0);
    h.end(run);
    let published: usize = h
        .log
        .iter()
        .map(|e| match e {
            Effect::Publish { text, .. } => text.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(published, TEN_KB, "no text is sent twice");
}

#[test]
fn reasoning_is_published_beside_the_answer() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(
        run,
        &[reasoning("thinking"), content("answer"), finish("stop")],
        40.0,
    );
    h.end(run);
    let reasoning: String = h
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Publish { reasoning, .. } => Some(reasoning.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "thinking");
    assert_eq!(h.leaf().reasoning, "thinking");
}

#[test]
fn a_long_answer_is_saved_about_once_a_second_while_it_streams() {
    let mut h = Harness::new();
    let run = h.send("q");
    let before = h.saves;
    let text = long_text(4 * 600); // three seconds at 200 deltas/s
    h.feed(run, &answer_in_deltas(&text, 4), 5.0);
    let during = h.saves - before;
    assert!((2..=4).contains(&during), "{during} saves in three seconds");
    assert!(h.saved.as_ref().unwrap().nodes[1].text.len() > 1000);
}

// --- stop -----------------------------------------------------------------------------

#[test]
fn stop_mid_answer_keeps_the_partial_text_as_stopped() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("partial ")], 5.0);
    let effects = h.ctl.stop();
    assert_eq!(effects, vec![Effect::Abort(run)]);
    h.run(effects);
    h.settle(run, Outcome::Aborted);
    assert_eq!(state(&h), "stopped");
    assert_eq!(h.leaf().text, "partial ");
    assert_eq!(h.ctl.status(), Status::Ready);
    assert_eq!(h.saved.as_ref().unwrap().nodes[1].state.as_str(), "stopped");
}

#[test]
fn stop_when_nothing_runs_does_nothing() {
    let mut h = Harness::new();
    assert!(h.ctl.stop().is_empty());
}

#[test]
fn events_of_a_settled_request_are_ignored() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "done");
    assert!(h
        .ctl
        .event(run, StreamEvent::Content("late".into()), h.now)
        .is_empty());
    assert!(h.ctl.settled(run, Outcome::Aborted, h.now).is_empty());
    assert_eq!(h.leaf().text, "done");
    assert_eq!(state(&h), "done");
}

// --- regenerate, edit, branches ---------------------------------------------------------

#[test]
fn regenerate_keeps_the_old_answer_as_a_sibling_and_does_not_send_it() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "first");
    let first = h.leaf().id;
    let effects = h.ctl.regenerate(first, h.now).unwrap();
    h.run(effects);
    assert_eq!(
        texts_of(&h.requests[1].2),
        ["q"],
        "the old answer is not sent"
    );
    h.answer(h.last_run(), "second");
    assert_eq!(h.path_texts(), ["q", "second"]);
    assert_eq!(h.ctl.conversation().siblings(h.leaf().id), (2, 2));
    let effects = h.ctl.switch_sibling(h.leaf().id, -1).unwrap();
    assert!(effects.contains(&Effect::Persist) && effects.contains(&Effect::Path));
    assert_eq!(h.path_texts(), ["q", "first"]);
}

#[test]
fn regenerate_applies_to_answers_only() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "a");
    assert_eq!(h.ctl.regenerate(0, h.now), Err(Refusal::NotFound));
    assert_eq!(h.ctl.regenerate(99, h.now), Err(Refusal::NotFound));
}

#[test]
fn edit_answers_a_new_branch_and_the_old_one_comes_back() {
    let mut h = Harness::new();
    let run = h.send("q1");
    h.answer(run, "a1");
    let run = h.send("q2");
    h.answer(run, "a2");
    let q1 = 0;
    let effects = h.ctl.edit(q1, "q1 edited".into(), h.now).unwrap();
    h.run(effects);
    assert_eq!(texts_of(&h.requests[2].2), ["q1 edited"]);
    h.answer(h.last_run(), "b1");
    assert_eq!(h.path_texts(), ["q1 edited", "b1"]);
    let edited = h.ctl.conversation().active_path()[0].id;
    let effects = h.ctl.switch_sibling(edited, -1).unwrap();
    h.run(effects);
    assert_eq!(
        h.path_texts(),
        ["q1", "a1", "q2", "a2"],
        "the whole old branch"
    );
}

#[test]
fn edit_keeps_the_images_and_refuses_blank_text_or_answers() {
    let mut conv = Conversation::new("c".into(), 0.0);
    let image = ImageRef {
        id: "i".into(),
        mime: String::new(),
        width: 1,
        height: 1,
        bytes: 1,
        detail: ImageDetail::Auto,
        name: String::new(),
    };
    let u = conv.push_user("look".into(), vec![image.clone()], 0.0);
    conv.endpoint = ENDPOINT.into();
    let mut h = Harness::with(conv);
    assert_eq!(h.ctl.edit(u, " ".into(), 0.0), Err(Refusal::Empty));
    let effects = h.ctl.edit(u, "look again".into(), 0.0).unwrap();
    h.run(effects);
    let edited = h.ctl.conversation().active_path()[0];
    assert_eq!(edited.images, vec![image]);
    let answer = h.leaf().id;
    h.settle(h.last_run(), Outcome::Aborted);
    assert_eq!(h.ctl.edit(answer, "x".into(), 0.0), Err(Refusal::NotFound));
}

#[test]
fn branches_cannot_switch_while_answering() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "a");
    let effects = h.ctl.regenerate(1, h.now).unwrap();
    h.run(effects);
    assert_eq!(h.ctl.switch_sibling(2, -1), Err(Refusal::Busy));
}

// --- continue -------------------------------------------------------------------------

#[test]
fn continue_appends_to_the_same_message_and_sends_the_partial_answer() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("Once upon"), finish("length")], 5.0);
    h.end(run);
    let id = h.leaf().id;
    assert!(crate::message_view::can_continue(h.leaf()));
    let effects = h.ctl.continue_answer(id, h.now).unwrap();
    h.run(effects);
    assert_eq!(texts_of(&h.requests[1].2), ["q", "Once upon"]);
    assert_eq!(state(&h), "streaming");
    h.feed(h.last_run(), &[content(" a time."), finish("stop")], 40.0);
    h.end(h.last_run());
    assert_eq!(h.leaf().id, id, "the same message");
    assert_eq!(h.leaf().text, "Once upon a time.");
    assert_eq!(h.shown, " a time.", "only the new text is published");
}

#[test]
fn continue_is_refused_for_a_finished_answer() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "complete");
    assert_eq!(h.ctl.continue_answer(1, h.now), Err(Refusal::NotFound));
    assert_eq!(h.ctl.continue_answer(0, h.now), Err(Refusal::NotFound));
}

// --- errors and Retry ------------------------------------------------------------------

fn failed_with(status: u16, body: &str, retry_after: Option<&str>) -> Harness {
    let mut h = Harness::new();
    let run = h.send("q");
    h.http_error(run, status, body, retry_after);
    assert_eq!(state(&h), "failed");
    assert_eq!(h.ctl.status(), Status::Ready);
    h
}

fn retry(h: &mut Harness) -> Result<(), Refusal> {
    let id = h.leaf().id;
    let effects = h.ctl.retry(id, h.now)?;
    h.run(effects);
    Ok(())
}

#[test]
fn a_server_error_offers_retry_and_retry_answers_again() {
    let mut h = failed_with(500, r#"{"error":{"message":"boom"}}"#, None);
    assert_eq!(h.leaf().error().unwrap().kind, ErrorKind::Http);
    assert!(h.log.contains(&Effect::Announce(Announcement::Clear)));
    retry(&mut h).unwrap();
    h.answer(h.last_run(), "fine now");
    assert_eq!(h.path_texts(), ["q", "fine now"]);
    assert_eq!(h.ctl.conversation().siblings(h.leaf().id), (2, 2));
}

#[test]
fn a_bad_key_has_no_retry() {
    let mut h = failed_with(
        401,
        r#"{"error":{"message":"bad key","code":"invalid_api_key"}}"#,
        None,
    );
    assert_eq!(retry(&mut h), Err(Refusal::NotRetryable));
    assert_eq!(h.requests.len(), 1);
}

#[test]
fn a_missing_model_has_no_retry() {
    let body = r#"{"error":{"message":"model","code":"model_required"}}"#;
    let mut h = failed_with(400, body, None);
    assert_eq!(retry(&mut h), Err(Refusal::NotRetryable));
}

#[test]
fn a_rate_limit_counts_down_before_retry() {
    let mut h = failed_with(429, r#"{"error":{"message":"slow down"}}"#, Some("3"));
    let id = h.leaf().id;
    let at = h.now + 3000.0;
    assert!(h.log.contains(&Effect::RetryAt {
        node: id,
        at_ms: at
    }));
    assert_eq!(h.ctl.retry_wait_secs(id, h.now), 3);
    assert_eq!(retry(&mut h), Err(Refusal::Waiting { secs: 3 }));
    h.advance(1500.0);
    assert_eq!(retry(&mut h), Err(Refusal::Waiting { secs: 2 }));
    h.advance(1500.0);
    assert_eq!(h.ctl.retry_wait_secs(id, h.now), 0);
    retry(&mut h).unwrap();
    assert_eq!(h.requests.len(), 2);
}

#[test]
fn a_rate_limit_without_retry_after_may_be_retried_at_once() {
    let mut h = failed_with(429, "{}", None);
    retry(&mut h).unwrap();
}

#[test]
fn an_error_mid_stream_keeps_the_partial_text_and_offers_retry() {
    let mut h = Harness::new();
    let run = h.send("q");
    let error = "data: {\"error\":{\"message\":\"upstream fell over\"}}\n\n".to_owned();
    h.feed(run, &[content("half an "), error], 5.0);
    h.end(run);
    assert_eq!(state(&h), "failed");
    assert_eq!(h.leaf().text, "half an ");
    assert_eq!(h.shown, "half an ");
    assert_eq!(h.leaf().error().unwrap().kind, ErrorKind::Stream);
    retry(&mut h).unwrap();
}

#[test]
fn a_cut_stream_is_truncated_and_retryable() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("no end")], 5.0);
    h.end(run);
    assert_eq!(h.leaf().error().unwrap().kind, ErrorKind::Truncated);
    retry(&mut h).unwrap();
}

#[test]
fn only_done_is_an_empty_answer_and_retryable() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &["data: [DONE]\n\n".to_owned()], 5.0);
    h.end(run);
    assert_eq!(h.leaf().error().unwrap().kind, ErrorKind::EmptyAnswer);
    retry(&mut h).unwrap();
}

#[test]
fn a_malformed_stream_is_a_bad_response_without_retry() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &["data: {not json\n\n".to_owned()], 5.0);
    h.end(run);
    assert_eq!(h.leaf().error().unwrap().kind, ErrorKind::BadResponse);
    assert_eq!(retry(&mut h), Err(Refusal::NotRetryable));
}

#[test]
fn network_failures_and_timeouts_offer_retry() {
    for kind in [ErrorKind::Network, ErrorKind::Timeout] {
        let mut h = Harness::new();
        let run = h.send("q");
        let error = ApiError {
            kind,
            status: None,
            message: "gone".into(),
            code: None,
            retry_after_secs: None,
        };
        let effects = h.ctl.event(run, StreamEvent::Error(error), h.now);
        h.run(effects);
        h.settle(run, Outcome::Finished);
        retry(&mut h).unwrap();
    }
}

#[test]
fn retry_applies_only_to_failed_answers() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "fine");
    assert_eq!(retry(&mut h), Err(Refusal::NotFound));
}

// --- reload, switching conversations ----------------------------------------------------

#[test]
fn a_reload_mid_answer_shows_it_as_interrupted() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("half")], 5.0);
    h.advance(2000.0);
    h.feed(run, &[content(" more")], 5.0);
    let stored = h.saved.clone().unwrap();
    assert_eq!(stored.nodes[1].state.as_str(), "streaming");
    // The page reloads: a new controller reads what was stored.
    let h2 = Harness::with(stored);
    assert_eq!(state(&h2), "interrupted");
    assert!(h2.leaf().text.starts_with("half"));
    assert!(!h2.ctl.is_busy());
}

#[test]
fn leaving_a_conversation_mid_answer_stops_it_there_and_ignores_its_events() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.feed(run, &[content("partial")], 5.0);
    let effects = h.ctl.replace(Conversation::new("c2".into(), 0.0));
    assert!(effects.contains(&Effect::Abort(run)));
    let old = effects.iter().find_map(|e| match e {
        Effect::SaveOther(c) => Some(c.clone()),
        _ => None,
    });
    let old = old.expect("the old conversation is saved");
    assert_eq!(
        (old.id.as_str(), old.nodes[1].state.as_str()),
        ("c1", "stopped")
    );
    h.run(effects);
    h.settle(run, Outcome::Aborted);
    assert!(h
        .ctl
        .event(run, StreamEvent::Content("x".into()), h.now)
        .is_empty());
    assert!(h.ctl.conversation().is_empty());
    assert_eq!(h.ctl.status(), Status::Ready);
}

#[test]
fn a_stored_conversation_with_a_streaming_answer_opens_interrupted_and_is_saved() {
    let mut stored = Conversation::new("old".into(), 0.0);
    let u = stored.push_user("q".into(), vec![], 0.0);
    stored.start_assistant(u, 0.0);
    let mut h = Harness::new();
    let effects = h.ctl.replace(stored);
    assert!(effects.contains(&Effect::Persist));
    assert_eq!(state(&h), "interrupted");
}

// --- endpoint binding ----------------------------------------------------------------

#[test]
fn the_first_request_binds_the_conversation_to_the_endpoint() {
    let mut h = Harness::new();
    assert_eq!(h.ctl.conversation().endpoint, "");
    h.send("q");
    assert_eq!(h.ctl.conversation().endpoint, ENDPOINT);
}

#[test]
fn a_conversation_made_with_another_endpoint_is_refused_until_rebound() {
    let mut conv = Conversation::new("c".into(), 0.0);
    conv.endpoint = "https://elsewhere.example/v1/chat/completions".into();
    let mut h = Harness::with(conv);
    let refused = h.ctl.send("secret".into(), vec![], 0.0);
    assert!(matches!(refused, Err(Refusal::EndpointMoved { .. })));
    assert!(h.requests.is_empty());
    assert!(h.ctl.conversation().is_empty(), "nothing was added");
    let effects = h.ctl.rebind_endpoint();
    assert!(effects.contains(&Effect::Persist));
    h.run(effects);
    h.send("now");
    assert_eq!(h.requests[0].1, ENDPOINT);
    assert!(h.ctl.rebind_endpoint().is_empty(), "already bound here");
}

#[test]
fn an_old_conversation_without_an_endpoint_waits_for_the_user_to_confirm_one() {
    let mut conv = Conversation::new("old".into(), 0.0);
    conv.push_user("from before binding".into(), vec![], 0.0);
    let mut h = Harness::with(conv);
    let refused = h.ctl.send("more".into(), vec![], 0.0);
    assert_eq!(
        refused,
        Err(Refusal::EndpointMoved {
            bound: String::new()
        })
    );
    assert!(h.requests.is_empty());
    let effects = h.ctl.rebind_endpoint();
    h.run(effects);
    h.send("more");
    assert_eq!(h.requests.len(), 1);
}

// --- configuration, requests, conversation commands -----------------------------------

#[test]
fn the_configured_model_and_system_prompt_fill_in_what_the_conversation_leaves_out() {
    let mut h = Harness::new();
    h.ctl.set_config(RequestConfig {
        endpoint: ENDPOINT.into(),
        model: "site-model".into(),
        system_prompt: "Be brief.".into(),
    });
    h.send("q");
    let request = &h.requests[0].2;
    assert_eq!(request.model, "site-model");
    assert_eq!(texts_of(request), ["Be brief.", "q"]);
    h.settle(h.last_run(), Outcome::Aborted);
    let effects = h.ctl.update_settings(|s| {
        s.model = "mine".into();
        s.system_prompt = "Mine.".into();
    });
    h.run(effects);
    h.send("q2");
    let request = &h.requests[1].2;
    assert_eq!(request.model, "mine");
    assert_eq!(
        texts_of(request)[0],
        "Mine.",
        "the conversation's own prompt wins"
    );
}

#[test]
fn view_code_shows_the_request_of_the_last_answer_or_a_placeholder() {
    let mut h = Harness::new();
    let empty = h.ctl.current_request("Hello!", &|_| None);
    assert_eq!(texts_of(&empty), ["Hello!"]);
    assert!(
        h.ctl.conversation().is_empty(),
        "the placeholder is not added"
    );
    let run = h.send("q");
    h.answer(run, "a");
    let shown = h.ctl.current_request("unused", &|_| None);
    assert_eq!(texts_of(&shown), ["q"]);
    assert_eq!(&shown, &h.requests[0].2, "exactly what was sent");
}

#[test]
fn a_new_conversation_keeps_the_settings_but_not_the_endpoint() {
    let mut h = Harness::new();
    let effects = h.ctl.update_settings(|s| s.temperature = Some(0.3));
    h.run(effects);
    let run = h.send("q");
    h.answer(run, "a");
    let effects = h.ctl.new_conversation("c2".into(), 5.0);
    assert!(effects.contains(&Effect::Replaced) && effects.contains(&Effect::Persist));
    let c = h.ctl.conversation();
    assert_eq!((c.id.as_str(), c.settings.temperature), ("c2", Some(0.3)));
    assert!(c.is_empty() && c.endpoint.is_empty());
}

#[test]
fn rename_and_settings_are_saved_and_a_no_op_is_not() {
    let mut h = Harness::new();
    assert_eq!(
        h.ctl.rename("  Trip plans "),
        vec![Effect::Meta, Effect::Persist]
    );
    assert_eq!(h.ctl.conversation().title, "Trip plans");
    assert!(h.ctl.update_settings(|s| s.seed = None).is_empty());
    assert_eq!(
        h.ctl.update_settings(|s| s.seed = Some(7)),
        vec![Effect::Meta, Effect::Persist]
    );
}

#[test]
fn two_controllers_share_nothing() {
    let mut a = Harness::new();
    let mut b = Harness::with(Conversation::new("c2".into(), 0.0));
    let run_a = a.send("to a");
    assert!(!b.ctl.is_busy());
    let run_b = b.send("to b");
    a.feed(run_a, &[content("for a")], 5.0);
    // An event for b's run id handed to a changes nothing in b.
    b.answer(run_b, "for b");
    a.answer(run_a, "");
    assert_eq!(a.path_texts(), ["to a", "for a"]);
    assert_eq!(b.path_texts(), ["to b", "for b"]);
    assert_eq!(a.requests.len(), 1);
    assert_eq!(b.requests.len(), 1);
}

#[test]
fn status_goes_submitted_streaming_ready_once_each() {
    let mut h = Harness::new();
    let run = h.send("q");
    h.answer(run, "some answer text");
    let statuses: Vec<Status> = h
        .log
        .iter()
        .filter_map(|e| match e {
            Effect::Status(s) => Some(*s),
            _ => None,
        })
        .collect();
    assert_eq!(
        statuses,
        [Status::Submitted, Status::Streaming, Status::Ready]
    );
    assert_eq!(h.count(|e| matches!(e, Effect::Settled(_))), 1);
}
