//! Replays recorded-shape transcripts of each provider through `ChatStream`, whole, one
//! byte at a time and in random pieces, and checks exactly what the user would see.

use confab_core::error::ErrorKind;
use confab_core::stream::{ChatStream, FinishReason, StreamEvent, Usage};
use proptest::prelude::*;

/// What the UI ends up showing for one answer.
#[derive(Debug, Clone, PartialEq, Default)]
struct Outcome {
    content: String,
    reasoning: String,
    usage: Option<Usage>,
    finish: Option<FinishReason>,
    error: Option<(ErrorKind, String)>,
    /// Events after the error (must be none).
    after_error: usize,
}

fn collect(events: impl IntoIterator<Item = StreamEvent>, out: &mut Outcome) {
    for ev in events {
        if out.error.is_some() {
            out.after_error += 1;
            continue;
        }
        match ev {
            StreamEvent::Content(t) => out.content.push_str(&t),
            StreamEvent::Reasoning(t) => out.reasoning.push_str(&t),
            StreamEvent::Usage(u) => out.usage = Some(u),
            StreamEvent::Finish(f) => {
                assert!(out.finish.is_none(), "finish reported twice");
                out.finish = Some(f)
            }
            StreamEvent::Error(e) => out.error = Some((e.kind, e.to_string())),
        }
    }
}

fn replay(bytes: &[u8], cuts: &[usize]) -> Outcome {
    let mut stream = ChatStream::new();
    let mut out = Outcome::default();
    let mut prev = 0;
    for &c in cuts.iter().chain([&bytes.len()]) {
        collect(stream.push(&bytes[prev..c]), &mut out);
        prev = c;
    }
    collect(stream.finish(), &mut out);
    out
}

fn whole(bytes: &[u8]) -> Outcome {
    replay(bytes, &[])
}

fn bytewise(bytes: &[u8]) -> Outcome {
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    replay(bytes, &cuts)
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn usage(prompt: u32, completion: u32, total: u32) -> Option<Usage> {
    Some(Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: total,
    })
}

fn ok(content: &str, reasoning: &str, usage: Option<Usage>, finish: FinishReason) -> Outcome {
    Outcome {
        content: content.into(),
        reasoning: reasoning.into(),
        usage,
        finish: Some(finish),
        error: None,
        after_error: 0,
    }
}

/// Every fixture with the outcome a user must see.
fn cases() -> Vec<(&'static str, Outcome)> {
    vec![
        (
            "openai_usage.sse",
            ok(
                "The capital of France is **Paris** — \"Ville Lumière\" 🗼.",
                "",
                usage(14, 18, 32),
                FinishReason::Stop,
            ),
        ),
        (
            "azure_prompt_filter.sse",
            ok("Hello from Azure!", "", usage(10, 4, 14), FinishReason::Stop),
        ),
        (
            "ollama_reasoning.sse",
            ok(
                "2 + 2 = 4",
                "Okay, the user asks 2+2.",
                usage(12, 30, 42),
                FinishReason::Stop,
            ),
        ),
        (
            "vllm_reasoning_content.sse",
            ok(
                "7 is prime.",
                "Think about primes.",
                usage(20, 15, 35),
                FinishReason::Stop,
            ),
        ),
        (
            "llamacpp_timings.sse",
            ok("Hi there", "Greeting.", usage(8, 5, 13), FinishReason::Stop),
        ),
        (
            "deepseek.sse",
            ok(
                "我无法查询实时天气。",
                "嗯，用户问天气。",
                usage(9, 40, 49),
                FinishReason::Stop,
            ),
        ),
        (
            "openrouter_keepalive.sse",
            ok("Sure!", "Short", usage(11, 3, 14), FinishReason::Stop),
        ),
        (
            "litellm_end_turn.sse",
            ok(
                "Bonjour !",
                "",
                usage(7, 4, 11),
                FinishReason::Other("end_turn".into()),
            ),
        ),
        (
            "think_tags_crlf_bom.sse",
            ok("No.", "Is it a trick?", None, FinishReason::Stop),
        ),
        (
            "content_filter.sse",
            ok("Here is how", "", None, FinishReason::ContentFilter),
        ),
        (
            "no_done_with_finish.sse",
            ok(
                "Complete answer.",
                "",
                None,
                FinishReason::Other("eos".into()),
            ),
        ),
        (
            "mid_stream_error.sse",
            Outcome {
                content: "Once upon a time".into(),
                error: Some((
                    ErrorKind::Stream,
                    "The model stopped with an error: The server had an error while processing your request. Sorry about that!".into(),
                )),
                ..Default::default()
            },
        ),
        (
            "event_error.sse",
            Outcome {
                content: "Partial".into(),
                error: Some((
                    ErrorKind::Stream,
                    "The model stopped with an error: Upstream provider overloaded.".into(),
                )),
                ..Default::default()
            },
        ),
        (
            "truncated.sse",
            Outcome {
                content: "The first part".into(),
                error: Some((
                    ErrorKind::Truncated,
                    "The answer was cut off before it finished.".into(),
                )),
                ..Default::default()
            },
        ),
        (
            "only_done.sse",
            Outcome {
                error: Some((
                    ErrorKind::EmptyAnswer,
                    "The model finished without answering.".into(),
                )),
                ..Default::default()
            },
        ),
    ]
}

#[test]
fn every_fixture_file_has_a_case() {
    let dir = format!("{}/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sse"))
        .collect();
    files.sort();
    let mut named: Vec<String> = cases().iter().map(|(n, _)| n.to_string()).collect();
    named.sort();
    assert_eq!(files, named);
}

#[test]
fn fixtures_in_one_push() {
    for (name, expected) in cases() {
        assert_eq!(whole(&fixture(name)), expected, "{name}");
    }
}

#[test]
fn fixtures_one_byte_at_a_time() {
    for (name, expected) in cases() {
        assert_eq!(bytewise(&fixture(name)), expected, "{name}");
    }
}

#[test]
fn fixtures_as_a_non_streaming_body() {
    // A server ignoring stream:false still gives the same answer.
    for (name, expected) in cases() {
        let body = String::from_utf8(fixture(name)).unwrap();
        let mut out = Outcome::default();
        match confab_core::stream::parse_completion_json(&body) {
            Ok(events) => collect(events, &mut out),
            Err(e) => out.error = Some((e.kind, e.to_string())),
        }
        if expected.error.is_some() {
            assert_eq!(out.error, expected.error, "{name}");
        } else {
            assert_eq!(out, expected, "{name}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn fixtures_in_random_pieces(
        which in 0usize..15,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let all = cases();
        let (name, expected) = &all[which % all.len()];
        let bytes = fixture(name);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(&replay(&bytes, &cuts), expected, "{}", name);
    }
}
