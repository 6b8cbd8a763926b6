//! Streaming: whatever the deltas, the blocks shown while streaming are those of the text so
//! far, frozen blocks never change, the re-parsed tail stays small, and `finish` gives exactly
//! `parse(whole)`.

use confab_core::markdown::{parse, Block, StreamingDoc};
use proptest::prelude::*;

/// Realistic answers. Those with reference definitions are marked: before `finish`, a
/// reference link resolves only when its definition is in the same part (see `StreamingDoc`).
const CORPUS: &[(&str, bool)] = &[
    (
        "# Installing Rust\n\nUse **rustup**, the official installer:\n\n```bash\ncurl --proto '=https' -sSf https://sh.rustup.rs | sh\n```\n\nThen check the version:\n\n```\n$ rustc --version\n```\n\nThat's it!\n",
        false,
    ),
    (
        "Here are the options:\n\n1. **Fast**: uses a cache.\n2. **Safe**: validates input.\n   - checks types\n   - checks ranges\n3. *Simple*.\n\nPick the one that fits.\n",
        false,
    ),
    (
        "| Language | Typing | Year |\n|:---------|:------:|-----:|\n| Rust | static | 2015 |\n| Python | dynamic | 1991 |\n\nBoth are popular.\n\n> Note: years are for 1.0 releases.\n",
        false,
    ),
    (
        "The quadratic formula is \\(x = \\frac{-b \\pm \\sqrt{b^2-4ac}}{2a}\\).\n\nIn display form:\n\n\\[\n\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n\\]\n\nAnd with dollars: $a^2 + b^2 = c^2$ and\n\n$$\nE = mc^2\n$$\n\nDone.\n",
        false,
    ),
    (
        "Sources: see [the Rust book][book] and [std docs][std].\n\nMore text here.\n\n[book]: https://doc.rust-lang.org/book/\n[std]: https://doc.rust-lang.org/std/ \"Standard library\"\n",
        true,
    ),
    (
        "```python\ndef fib(n):\n    a, b = 0, 1\n\n    for _ in range(n):\n        a, b = b, a + b\n\n    return a\n```\n\nThe blank lines inside the code block must not split it.\n",
        false,
    ),
    (
        "- [x] Write the parser\n- [ ] Write the renderer\n- [ ] Ship it\n\n---\n\n## Next steps\n\nTalk to the team.\n",
        false,
    ),
    (
        "> **Warning**\n> This deletes data.\n>\n> ```sql\n> DELETE FROM users;\n> ```\n\nAre you sure?\n\n> Second quote.\n",
        false,
    ),
    (
        "1. First\n\n2. Second, loose\n\n   with a continuation paragraph.\n\n3. Third\n\nAfter the list.\n\n10. A new list\n11. starting at ten\n",
        false,
    ),
    (
        "Use `Vec<T>` and <kbd>Ctrl</kbd>+<kbd>C</kbd>.\n\n<details>\n<summary>More</summary>\n\nHidden *markdown*.\n\n</details>\n\n<!-- a comment\n\nspanning blank lines -->\n\nEnd.\n",
        false,
    ),
    (
        "Setext Heading\n==============\n\nParagraph\nwith lazy\nlines.\n\n    indented code\n\n    more indented code\n\nAfter.\n",
        false,
    ),
    (
        "Compare:\n\n```diff\n- old\n+ new\n```\n\n~~~js\nconst a = `template ${x}`;\n~~~\n\n````md\n```\nnested fence\n```\n````\n\nDone.\n",
        false,
    ),
    (
        "* a\n* b\n\n- c\n- d\n\n+ e\n\nText with trailing spaces  \nand a hard break.\\\nAnother.\n",
        false,
    ),
    (
        "Emoji 🎉 and accents: café, naïve, 日本語.\n\n| 名前 | 値 |\n|---|---|\n| α | β |\n\n**Ünïcödé** ~~text~~.\n",
        false,
    ),
    (
        "Footnote-like[^1] text and an image: ![diagram](https://example.com/d.png \"D\").\n\n[^1]: Not enabled, shown as text.\n\nA [link](https://example.com) and <https://example.org>.\n",
        false,
    ),
    (
        "Steps:\n\n1. Install\n   ```sh\n   npm i\n   ```\n2. Run\n\n   ```sh\n   npm start\n   ```\n\n3. Open the browser.\n\nThanks!\n",
        false,
    ),
];

/// Pushes `text` in the given chunk sizes (cycled), checking after each push.
fn stream(text: &str, sizes: &[usize], check_prefix: bool) -> StreamingDoc {
    let mut doc = StreamingDoc::new();
    let mut pos = 0;
    let mut k = 0;
    let mut frozen_before: Vec<Block> = Vec::new();
    while pos < text.len() {
        let mut end = (pos + sizes[k % sizes.len()].max(1)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        k += 1;
        doc.push(&text[pos..end]);
        pos = end;
        // Frozen blocks never change while streaming.
        assert!(doc.frozen().len() >= frozen_before.len());
        assert_eq!(&doc.frozen()[..frozen_before.len()], &frozen_before[..]);
        frozen_before = doc.frozen().to_vec();
        if check_prefix {
            let shown: Vec<Block> = doc.blocks().cloned().collect();
            assert_eq!(shown, parse(&text[..pos]), "prefix {:?}", &text[..pos]);
        }
    }
    doc
}

#[test]
fn corpus_char_by_char_matches_parse_of_each_prefix() {
    for (text, has_refs) in CORPUS {
        let mut doc = stream(text, &[1], !has_refs);
        assert!(doc.frozen_len() > 0, "something froze in {text:?}");
        doc.finish();
        assert_eq!(doc.frozen(), parse(text).as_slice());
        assert!(doc.tail().is_empty());
    }
}

#[test]
fn reference_links_settle_on_finish() {
    let (text, _) = CORPUS[4];
    let mut doc = stream(text, &[3], false);
    let before: Vec<Block> = doc.blocks().cloned().collect();
    let unchanged = doc.finish();
    let after = parse(text);
    assert_eq!(doc.frozen(), after.as_slice());
    // The first paragraph froze before its definitions arrived: it changes on finish.
    assert_ne!(before[0], after[0]);
    assert_eq!(unchanged, 0);
}

#[test]
fn finish_reports_unchanged_frozen_blocks() {
    let (text, _) = CORPUS[0];
    let mut doc = stream(text, &[5], true);
    let frozen = doc.frozen_len();
    assert!(frozen >= 3);
    assert_eq!(doc.finish(), frozen);
    assert!(doc.is_finished());
}

#[test]
fn open_fence_streams_as_code_not_paragraph() {
    let mut doc = StreamingDoc::new();
    doc.push("Intro.\n\n```rust\nfn main() {\n");
    assert_eq!(doc.frozen(), parse("Intro.\n\n").as_slice());
    assert_eq!(
        doc.tail(),
        &[Block::CodeBlock {
            lang: Some("rust".into()),
            code: "fn main() {\n".into(),
            closed: false
        }]
    );
    doc.push("\n    let x = 1;\n");
    // A blank line inside the open fence is no boundary.
    assert_eq!(doc.frozen_len(), 1);
    doc.push("}\n``");
    assert!(matches!(
        doc.tail(),
        [Block::CodeBlock { closed: false, .. }]
    ));
    doc.push("`\n");
    assert!(matches!(
        doc.tail(),
        [Block::CodeBlock { closed: true, .. }]
    ));
}

#[test]
fn open_display_math_streams_as_math() {
    let mut doc = StreamingDoc::new();
    doc.push("$$\n\\frac{a}{");
    assert_eq!(
        doc.tail(),
        &[Block::Math {
            tex: "\\frac{a}{".into(),
            closed: false
        }]
    );
    doc.push("b}\n$");
    assert_eq!(
        doc.tail(),
        &[Block::Math {
            tex: "\\frac{a}{b}".into(),
            closed: false
        }],
        "half a closing delimiter does not flash"
    );
    doc.push("$\n");
    assert_eq!(
        doc.tail(),
        &[Block::Math {
            tex: "\\frac{a}{b}".into(),
            closed: true
        }]
    );
    let mut doc = StreamingDoc::new();
    doc.push("\\[\nx +");
    assert!(matches!(doc.tail(), [Block::Math { closed: false, .. }]));
}

#[test]
fn list_item_after_blank_line_keeps_the_list_open() {
    let mut doc = StreamingDoc::new();
    doc.push("1. a\n\n1");
    // `1` could still become `12. b`, continuing the list: nothing freezes.
    assert_eq!(doc.frozen_len(), 0);
    doc.push("2. b\n\nAfter.\n\nMore.\n");
    assert_eq!(doc.blocks().cloned().collect::<Vec<_>>(), parse(doc.text()));
    assert!(matches!(&doc.frozen()[0], Block::List { items, .. } if items.len() == 2));
}

#[test]
fn tail_stays_small_as_a_long_answer_grows() {
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!(
            "Paragraph {i} explains *one* more thing about the topic at hand, at some length.\n\n"
        ));
        if i % 50 == 0 {
            text.push_str("```rust\nfn f() {}\n```\n\n- a list\n- of items\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n");
        }
    }
    assert!(text.len() > 30_000);
    let mut doc = StreamingDoc::new();
    let mut max_tail = 0;
    let bytes = text.as_bytes();
    let mut pos = 0;
    while pos < bytes.len() {
        let end = (pos + 7).min(bytes.len());
        doc.push(&text[pos..end]);
        pos = end;
        max_tail = max_tail.max(doc.tail_text().len());
        assert!(doc.tail().len() <= 3, "{:?}", doc.tail());
    }
    // Never more than a couple of blocks re-parsed, however long the document.
    assert!(max_tail < 300, "tail grew to {max_tail} bytes");
    doc.finish();
    assert_eq!(doc.frozen(), parse(&text).as_slice());
}

#[test]
fn update_parses_only_when_text_was_appended() {
    let mut doc = StreamingDoc::new();
    doc.append("# A\n\nb");
    assert!(doc.blocks().next().is_none(), "append alone does not parse");
    doc.update();
    assert_eq!(doc.blocks().count(), 2);
    doc.update();
    assert_eq!(doc.blocks().count(), 2);
}

#[test]
fn appending_after_finish_restarts_cleanly() {
    let mut doc = StreamingDoc::new();
    doc.push("- a\n\n");
    doc.finish();
    doc.push("- b\n");
    assert!(!doc.is_finished());
    assert_eq!(
        doc.blocks().cloned().collect::<Vec<_>>(),
        parse("- a\n\n- b\n")
    );
}

/// Pieces that make up tricky markdown (no `:` so no reference definitions form).
const PIECES: &[&str] = &[
    "a",
    "b ",
    "12",
    "1. ",
    "2) ",
    "- ",
    "* ",
    "+ ",
    "> ",
    "  ",
    "    ",
    "\t",
    "\n",
    "\n\n",
    "\n\n\n",
    "```",
    "~~~",
    "`",
    "$$",
    "$",
    "\\[",
    "\\]",
    "\\(",
    "\\)",
    "# ",
    "---",
    "===",
    "| a ",
    "|---",
    "|",
    "<div>",
    "</div>",
    "<!--",
    "-->",
    "<pre>",
    "</pre>",
    "<b>",
    "*x*",
    "**",
    "_",
    "[x]",
    "(u)",
    "![i](https",
    "\\",
    "&amp;",
    "- [ ] ",
    "é",
    "🎉",
    "\r\n",
    "<script>",
    "</script>",
    "<style>",
    "<textarea>",
    "<?",
    "?>",
    "<![CDATA[",
    "]]>",
    "<!X",
    "~~",
    "  \n",
    "\n    ",
    "\n>",
    "\n- ",
    "\n1. ",
    "\n```\n",
];

fn markdownish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Before finish, what is shown equals a parse of the text so far, for any text built
    /// from markdown's tricky pieces and any split into deltas.
    #[test]
    fn shown_blocks_equal_parse_of_prefix(text in markdownish(), sizes in prop::collection::vec(1usize..12, 1..6)) {
        let mut doc = stream(&text, &sizes, true);
        doc.finish();
        prop_assert_eq!(doc.frozen().to_vec(), parse(&text));
    }

    /// For any realistic answer and any split, finish gives exactly `parse(whole)`.
    #[test]
    fn corpus_any_split_finishes_as_parse(index in 0..CORPUS.len(), sizes in prop::collection::vec(1usize..40, 1..8)) {
        let (text, has_refs) = CORPUS[index];
        let mut doc = stream(text, &sizes, !has_refs);
        doc.finish();
        prop_assert_eq!(doc.frozen().to_vec(), parse(text));
    }

    /// Arbitrary text, arbitrary splits: never panics, finishes as parse.
    #[test]
    fn arbitrary_text_streams(text in any::<String>(), sizes in prop::collection::vec(1usize..9, 1..5)) {
        let mut doc = stream(&text, &sizes, false);
        doc.finish();
        prop_assert_eq!(doc.frozen().to_vec(), parse(&text));
    }

    /// Settling keeps the drawn blocks unless references need one full parse, and either
    /// way the blocks are exactly `parse(whole)`.
    #[test]
    fn settle_keeps_the_blocks_and_equals_parse(text in markdownish(), sizes in prop::collection::vec(1usize..12, 1..6)) {
        let mut doc = stream(&text, &sizes, false);
        let drawn: Vec<_> = doc.blocks().cloned().collect();
        let reparsed = doc.settle();
        let after: Vec<_> = doc.blocks().cloned().collect();
        prop_assert_eq!(&after, &parse(&text));
        if !reparsed {
            prop_assert_eq!(drawn, after);
        }
    }
}
