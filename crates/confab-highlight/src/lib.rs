//! The highlighter as its own wasm module: its keyword tables and scanners are not in the
//! widget's first load; the page's loader fetches this when the first fenced code block
//! with a known language appears. Until then the code shows as plain monospace text.

use confab_core::highlight::highlight;
use wasm_bindgen::prelude::*;

/// The module's one export: `highlight_code(lang, code)` → pairs of
/// (`TokenKind as u32`, length in UTF-8 bytes) that cover `code` in order.
#[wasm_bindgen]
pub fn highlight_code(lang: &str, code: &str) -> Vec<u32> {
    tokens(lang, code)
}

/// [`highlight_code`]'s encoding, natively testable.
pub fn tokens(lang: &str, code: &str) -> Vec<u32> {
    highlight(lang, code)
        .into_iter()
        .flat_map(|(kind, text)| [kind as u32, text.len() as u32])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::highlight::TokenKind;

    #[test]
    fn pairs_give_back_the_code_and_its_kinds() {
        let code = "fn main() { let s = \"é\"; }";
        let pairs = tokens("rust", code);
        let mut at = 0;
        let mut kinds = Vec::new();
        for pair in pairs.chunks(2) {
            kinds.push(TokenKind::ALL[pair[0] as usize]);
            at += pair[1] as usize;
        }
        assert_eq!(at, code.len());
        assert_eq!(kinds[0], TokenKind::Keyword);
        assert!(kinds.contains(&TokenKind::String));
    }
}
