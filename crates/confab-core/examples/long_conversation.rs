//! Writes an export file holding one conversation of 1,000 messages (500 questions, 500
//! markdown answers with lists, code and a formula), for `cargo xtask bench`'s restore
//! figure. Usage: `cargo run --release -p confab-core --example long_conversation -- FILE`.

use confab_core::conversation::Conversation;
use confab_core::export::to_json;
use confab_core::stream::FinishReason;
use std::collections::BTreeMap;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: long_conversation FILE");
        std::process::exit(2);
    };
    let mut conv = Conversation::new("bench-1000".into(), 1_700_000_000_000.0);
    conv.title = "A 1,000-message conversation".into();
    for i in 0..500u32 {
        let t = 1_700_000_000_000.0 + f64::from(i) * 1000.0;
        let q = conv.push_user(
            format!("Question {i}: how does step {i} work?"),
            Vec::new(),
            t,
        );
        let a = conv.start_assistant(q, t + 500.0);
        conv.append_content(
            a,
            &format!(
                "Step **{i}** works in three parts:\n\n1. read the input\n2. transform it \
                 with `f{i}`\n3. write the result\n\n```rust\nfn f{i}(x: u64) -> u64 {{ x * {i} }}\n```\n\n\
                 The cost grows as $O(n \\log n)$ for $n = {i}$.\n"
            ),
        );
        conv.finish(a, FinishReason::Stop);
    }
    std::fs::write(&path, to_json(&[conv], &BTreeMap::new())).expect("write the file");
}
