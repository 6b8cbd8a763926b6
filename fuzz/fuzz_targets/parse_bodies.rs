//! Error bodies, non-streaming answers and saved conversations come from outside: reading
//! them must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let err = confab_core::error::parse_error_body(500, &text, Some(&text));
    let _ = err.to_string();
    let _ = confab_core::error::parse_error_body(429, &text, None).to_string();
    let _ = confab_core::stream::parse_completion_json(&text);
    if let Ok(mut conv) = confab_core::conversation::Conversation::from_json(&text) {
        conv.mark_interrupted();
        let _ = conv.active_path();
        let _ = conv.title_or_default();
        if let Some(leaf) = conv.active_leaf() {
            let _ = conv.build_request(leaf, |_| None);
            let _ = conv.switch_sibling(leaf, 1);
        }
        let _ = conv.to_json();
    }
});
