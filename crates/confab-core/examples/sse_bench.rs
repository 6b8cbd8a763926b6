//! SSE decoder and ChatStream throughput. Run with
//! `cargo run --release -p confab-core --example sse_bench` (or `cargo xtask bench`).
//!
//! Prints MB/s for a typical chat stream (many small `data:` frames, pushed in network-sized
//! pieces), and for one 8 MB event pushed in one piece versus one byte at a time. The
//! decoder is linear, so the 1-byte run is slower only by the per-call overhead; a decoder
//! that rescanned its buffer would take hours on it.

use confab_core::sse::SseDecoder;
use confab_core::stream::{ChatStream, StreamEvent};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn chat_stream_bytes(frames: usize) -> Vec<u8> {
    let mut s = String::new();
    s.push_str(": keep-alive\n\n");
    for i in 0..frames {
        s.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\
             \"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{} \"}},\
             \"finish_reason\":null}}]}}\n\n",
            i % 1000
        ));
    }
    s.push_str("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    s.push_str("data: [DONE]\n\n");
    s.into_bytes()
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9)
}

/// Runs `f` until at least `min` has passed; returns the time of one run (best of).
fn time(min: Duration, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || start.elapsed() < min {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    best
}

fn decode_in_pieces(input: &[u8], piece: usize) -> usize {
    let mut d = SseDecoder::new();
    let mut n = 0;
    let mut out = Vec::new();
    for chunk in input.chunks(piece) {
        d.push_into(chunk, &mut out).expect("decodes");
        n += out.len();
        out.clear();
    }
    n
}

fn main() {
    let min = Duration::from_millis(500);

    // A typical chat answer: 20,000 small frames (~3.4 MB), pushed in 1 KiB network reads.
    let chat = chat_stream_bytes(20_000);
    let t = time(min, || {
        black_box(decode_in_pieces(black_box(&chat), 1024));
    });
    println!(
        "sse decoder, chat stream ({} frames, {:.1} MB, 1 KiB pushes): {:.0} MB/s",
        20_000,
        chat.len() as f64 / 1e6,
        mb_per_s(chat.len(), t)
    );

    let t = time(min, || {
        let mut s = ChatStream::new();
        let mut chars = 0;
        for chunk in chat.chunks(1024) {
            for ev in s.push(chunk) {
                if let StreamEvent::Content(c) = ev {
                    chars += c.len();
                }
            }
        }
        s.finish();
        black_box(chars);
    });
    println!(
        "chat stream incl. JSON parsing (1 KiB pushes): {:.0} MB/s, {:.2} µs per frame",
        mb_per_s(chat.len(), t),
        t.as_secs_f64() * 1e6 / 20_000.0
    );

    // One 8 MB event.
    let mut big = b"data: ".to_vec();
    big.extend(std::iter::repeat_n(b'x', 8 * 1024 * 1024));
    big.extend_from_slice(b"\n\n");
    let whole = time(min, || {
        assert_eq!(decode_in_pieces(black_box(&big), big.len()), 1);
    });
    let bytewise = time(Duration::ZERO, || {
        assert_eq!(decode_in_pieces(black_box(&big), 1), 1);
    });
    println!(
        "sse decoder, one 8 MB event in one push: {:.0} MB/s",
        mb_per_s(big.len(), whole)
    );
    println!(
        "sse decoder, one 8 MB event in 1-byte pushes: {:.0} MB/s ({:.2} s)",
        mb_per_s(big.len(), bytewise),
        bytewise.as_secs_f64()
    );
    println!(
        "1-byte pushes / one push time ratio: {:.1}x (linear: a constant per-call cost, not growing with size)",
        bytewise.as_secs_f64() / whole.as_secs_f64().max(1e-9)
    );
}
