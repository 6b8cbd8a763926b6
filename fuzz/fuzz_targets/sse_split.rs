//! The SSE decoder must never panic, and must give the same events however the input is
//! split. The first byte chooses the piece size, so the fuzzer explores splits too.
#![no_main]

use confab_core::sse::{SseDecoder, SseEvent};
use libfuzzer_sys::fuzz_target;

fn decode(input: &[u8], piece: usize, max_line: usize) -> Result<Vec<SseEvent>, ()> {
    let mut d = SseDecoder::with_max_line(max_line);
    let mut out = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        out.extend(d.push(chunk).map_err(|_| ())?);
    }
    out.extend(d.finish().map_err(|_| ())?);
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let piece = first as usize % 17 + 1;
    let max_line = 64;
    let whole = decode(input, input.len().max(1), max_line);
    let split = decode(input, piece, max_line);
    let bytewise = decode(input, 1, max_line);
    assert_eq!(whole, split);
    assert_eq!(whole, bytewise);
    if let Ok(events) = whole {
        for ev in events {
            assert!(!ev.event.is_empty());
            assert!(ev.id.as_deref().is_none_or(|id| !id.contains('\0')));
        }
    }
});
