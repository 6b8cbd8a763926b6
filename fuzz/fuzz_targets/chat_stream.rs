//! ChatStream must never panic, must end every answer with at most one error and nothing
//! after it, and must collect the same text however the bytes are split.
#![no_main]

use confab_core::stream::{ChatStream, StreamEvent};
use libfuzzer_sys::fuzz_target;

fn run(input: &[u8], piece: usize) -> (String, String, Option<String>) {
    let mut s = ChatStream::new();
    let mut events = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        events.extend(s.push(chunk));
    }
    events.extend(s.finish());
    assert!(s.finish().is_empty());
    let (mut content, mut reasoning, mut error) = (String::new(), String::new(), None);
    for ev in events {
        assert!(error.is_none(), "an event after an error");
        match ev {
            StreamEvent::Content(t) => content.push_str(&t),
            StreamEvent::Reasoning(t) => reasoning.push_str(&t),
            StreamEvent::Error(e) => error = Some(e.to_string()),
            StreamEvent::Usage(_) | StreamEvent::Finish(_) => {}
        }
    }
    (content, reasoning, error)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let whole = run(input, input.len().max(1));
    assert_eq!(whole, run(input, first as usize % 13 + 1));
});
