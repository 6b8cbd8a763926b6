//! The highlighter never loses, reorders or invents text, and never panics, whatever the
//! language and input.

use confab_core::highlight::{highlight, TokenKind};
use proptest::prelude::*;

const LANGS: &[&str] = &[
    "rust", "py", "js", "ts", "json", "bash", "sql", "html", "css", "c", "go", "java", "toml",
    "unknown", "",
];

/// Pieces that exercise every lexical rule: quotes, escapes, comments, raw strings, tags.
const PIECES: &[&str] = &[
    "\"",
    "'",
    "`",
    "\\",
    "\\\"",
    "/*",
    "*/",
    "//",
    "#",
    "--",
    "<!--",
    "-->",
    "<",
    ">",
    "</",
    "r#\"",
    "\"#",
    "'''",
    "\"\"\"",
    "${",
    "}",
    "{",
    "$",
    "@",
    "0x",
    "1e-",
    ".5",
    "fn",
    "let",
    "def",
    "SELECT",
    "<script>",
    "</script>",
    "<style>",
    "a=",
    "&amp",
    ";",
    "\n",
    " ",
    "\t",
    "é",
    "🎉",
    "\u{0}",
    "b'",
    "f\"",
    "'a",
    "#[",
    "!",
    ":",
    "x(",
];

fn codeish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..80).prop_map(|v| v.concat())
}

fn check(lang: &str, code: &str) {
    let tokens = highlight(lang, code);
    let joined: String = tokens.iter().map(|(_, s)| *s).collect();
    assert_eq!(joined, code, "lang {lang}");
    assert!(tokens.iter().all(|(_, s)| !s.is_empty()), "no empty tokens");
    for w in tokens.windows(2) {
        assert_ne!(w[0].0, w[1].0, "adjacent tokens of one kind are merged");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn tokens_cover_arbitrary_text(code in any::<String>()) {
        for lang in LANGS {
            check(lang, &code);
        }
    }

    #[test]
    fn tokens_cover_code_like_text(code in codeish()) {
        for lang in LANGS {
            check(lang, &code);
        }
    }
}

#[test]
fn long_inputs_are_handled_in_one_pass() {
    // Unterminated constructs at scale: each must not rescan the rest per character.
    let n = 200_000;
    for code in [
        "/*".repeat(n / 2),
        "\"".repeat(n),
        "\\".repeat(n),
        "<".repeat(n),
        "<a ".repeat(n / 3),
        "r#".repeat(n / 2),
        "'".repeat(n),
        "${".repeat(n / 2),
        "a".repeat(n),
    ] {
        for lang in LANGS {
            check(lang, &code);
        }
    }
}

#[test]
fn a_realistic_snippet_is_colored() {
    let tokens = highlight(
        "ts",
        "// greet\nexport async function greet(name: string): Promise<void> {\n  console.log(`hi ${name}`, 42);\n}\n",
    );
    let kinds: Vec<TokenKind> = tokens.iter().map(|(k, _)| *k).collect();
    for k in [
        TokenKind::Comment,
        TokenKind::Keyword,
        TokenKind::Function,
        TokenKind::Type,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Punct,
    ] {
        assert!(kinds.contains(&k), "{k:?} in {tokens:?}");
    }
}
