//! What a reader sees from `markdown::parse`: structure, math, code, links, raw HTML, and
//! survival of hostile input.

use confab_core::markdown::{parse, Align, Block, Inline, ListItem};

fn text(s: &str) -> Inline {
    Inline::Text(s.to_string())
}

fn para(inlines: Vec<Inline>) -> Block {
    Block::Paragraph(inlines)
}

#[test]
fn headings_paragraphs_and_emphasis() {
    let blocks =
        parse("# Title\n\nSome *soft* and **strong** ~~gone~~ `code`.\nNext line  \nbroken");
    assert_eq!(
        blocks,
        vec![
            Block::Heading {
                level: 1,
                inlines: vec![text("Title")]
            },
            para(vec![
                text("Some "),
                Inline::Emph(vec![text("soft")]),
                text(" and "),
                Inline::Strong(vec![text("strong")]),
                text(" "),
                Inline::Strike(vec![text("gone")]),
                text(" "),
                Inline::Code("code".into()),
                text("."),
                Inline::SoftBreak,
                text("Next line"),
                Inline::HardBreak,
                text("broken"),
            ]),
        ]
    );
}

#[test]
fn table_keeps_alignment_head_and_rows() {
    let blocks = parse(
        "| Name | Qty | Price |\n|:-----|:---:|------:|\n| tea | 2 | *1.50* |\n| cake | 1 |\n",
    );
    assert_eq!(
        blocks,
        vec![Block::Table {
            aligns: vec![Align::Left, Align::Center, Align::Right],
            head: vec![vec![text("Name")], vec![text("Qty")], vec![text("Price")]],
            rows: vec![
                vec![
                    vec![text("tea")],
                    vec![text("2")],
                    vec![Inline::Emph(vec![text("1.50")])]
                ],
                vec![vec![text("cake")], vec![text("1")], vec![]],
            ],
        }]
    );
    assert_eq!(Align::Right.as_css(), Some("right"));
    assert_eq!(Align::None.as_css(), None);
}

#[test]
fn fenced_code_keeps_language_and_knows_whether_it_is_closed() {
    assert_eq!(
        parse("```rust ignore\nfn main() {}\n```\n"),
        vec![Block::CodeBlock {
            lang: Some("rust".into()),
            code: "fn main() {}\n".into(),
            closed: true
        }]
    );
    assert_eq!(
        parse("```python\nprint(1)\n"),
        vec![Block::CodeBlock {
            lang: Some("python".into()),
            code: "print(1)\n".into(),
            closed: false
        }]
    );
    assert_eq!(
        parse("```"),
        vec![Block::CodeBlock {
            lang: None,
            code: String::new(),
            closed: false
        }]
    );
    assert_eq!(
        parse("~~~~\na\n~~~~~\nafter"),
        vec![
            Block::CodeBlock {
                lang: None,
                code: "a\n".into(),
                closed: true
            },
            para(vec![text("after")])
        ]
    );
    // A shorter fence inside does not close it.
    assert!(matches!(
        &parse("````md\n```\ninner\n```\n")[..],
        [Block::CodeBlock { closed: false, code, .. }] if code == "```\ninner\n```\n"
    ));
    // In a block quote and in a list.
    assert!(matches!(
        &parse("> ```\n> x\n> ```\n")[..],
        [Block::BlockQuote(inner)] if matches!(&inner[..], [Block::CodeBlock { closed: true, .. }])
    ));
    assert_eq!(
        parse("    indented\n"),
        vec![Block::CodeBlock {
            lang: None,
            code: "indented\n".into(),
            closed: true
        }]
    );
}

#[test]
fn code_is_never_markdown_or_math() {
    let blocks = parse("```\n**not bold** \\(x\\) $y$ <b>\n```\n\nInline `\\(a\\)` and `$b$`.");
    assert_eq!(
        blocks,
        vec![
            Block::CodeBlock {
                lang: None,
                code: "**not bold** \\(x\\) $y$ <b>\n".into(),
                closed: true
            },
            para(vec![
                text("Inline "),
                Inline::Code("\\(a\\)".into()),
                text(" and "),
                Inline::Code("$b$".into()),
                text("."),
            ])
        ]
    );
}

#[test]
fn dollar_math_inline_and_display() {
    assert_eq!(
        parse("Energy $E = mc^2$ here."),
        vec![para(vec![
            text("Energy "),
            Inline::Math {
                tex: "E = mc^2".into(),
                display: false
            },
            text(" here."),
        ])]
    );
    assert_eq!(
        parse("$$\n\\int_0^1 x\\,dx\n$$"),
        vec![Block::Math {
            tex: "\\int_0^1 x\\,dx".into(),
            closed: true
        }]
    );
}

#[test]
fn latex_delimiters_are_math_too() {
    assert_eq!(
        parse("Inline \\(a_1 * b_2 * c\\) ok."),
        vec![para(vec![
            text("Inline "),
            Inline::Math {
                tex: "a_1 * b_2 * c".into(),
                display: false
            },
            text(" ok."),
        ])]
    );
    assert_eq!(
        parse("\\[\n  \\sum_{i=1}^n i = \\frac{n(n+1)}{2}\n\\]\n"),
        vec![Block::Math {
            tex: "\\sum_{i=1}^n i = \\frac{n(n+1)}{2}".into(),
            closed: true
        }]
    );
    // In a block quote the `>` markers are not part of the formula.
    assert_eq!(
        parse("> \\[\n> x + y\n> \\]\n"),
        vec![Block::BlockQuote(vec![Block::Math {
            tex: "x + y".into(),
            closed: true
        }])]
    );
    // In a list item, a heading and a table cell.
    let blocks = parse("- item \\(x\\)\n\n## Head \\(y\\)\n\n| a |\n|---|\n| \\(z\\) |\n");
    let mut found = Vec::new();
    collect_math(&blocks, &mut found);
    assert_eq!(found, vec!["x", "y", "z"]);
}

fn collect_math(blocks: &[Block], out: &mut Vec<String>) {
    fn inl(inlines: &[Inline], out: &mut Vec<String>) {
        for i in inlines {
            match i {
                Inline::Math { tex, .. } => out.push(tex.clone()),
                Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => inl(c, out),
                Inline::Link { children, .. } => inl(children, out),
                _ => {}
            }
        }
    }
    for b in blocks {
        match b {
            Block::Paragraph(i) | Block::Heading { inlines: i, .. } => inl(i, out),
            Block::Math { tex, .. } => out.push(tex.clone()),
            Block::BlockQuote(b) => collect_math(b, out),
            Block::List { items, .. } => items.iter().for_each(|it| collect_math(&it.blocks, out)),
            Block::Table { head, rows, .. } => {
                head.iter().for_each(|c| inl(c, out));
                rows.iter().flatten().for_each(|c| inl(c, out));
            }
            _ => {}
        }
    }
}

#[test]
fn escaped_backslash_and_unpaired_delimiters_are_text() {
    assert_eq!(
        parse("a \\\\(b\\\\) c"),
        vec![para(vec![text("a \\(b\\) c")])]
    );
    assert_eq!(
        parse("just \\( alone"),
        vec![para(vec![text("just ( alone")])]
    );
    assert_eq!(parse("\\(\\)"), vec![para(vec![text("()")])]);
}

#[test]
fn unclosed_display_math_is_math_not_a_paragraph() {
    assert_eq!(
        parse("$$\nx = \\frac{1}{"),
        vec![Block::Math {
            tex: "x = \\frac{1}{".into(),
            closed: false
        }]
    );
    assert_eq!(
        parse("\\[\na + b"),
        vec![Block::Math {
            tex: "a + b".into(),
            closed: false
        }]
    );
}

#[test]
fn lists_tight_loose_ordered_and_tasks() {
    assert_eq!(
        parse("- a\n- b\n"),
        vec![Block::List {
            ordered: false,
            start: 1,
            tight: true,
            items: vec![
                ListItem {
                    task: None,
                    blocks: vec![para(vec![text("a")])]
                },
                ListItem {
                    task: None,
                    blocks: vec![para(vec![text("b")])]
                },
            ]
        }]
    );
    assert!(matches!(
        &parse("3. a\n\n4. b\n")[..],
        [Block::List { ordered: true, start: 3, tight: false, items }] if items.len() == 2
    ));
    let blocks = parse("- [x] done\n- [ ] todo\n- plain\n");
    let Block::List { items, .. } = &blocks[0] else {
        panic!("{blocks:?}")
    };
    let tasks: Vec<_> = items.iter().map(|i| i.task).collect();
    assert_eq!(tasks, vec![Some(true), Some(false), None]);
    assert_eq!(items[0].blocks, vec![para(vec![text("done")])]);
    // Loose task list: the marker sits in the first paragraph.
    let blocks = parse("- [x] done\n\n- [ ] todo\n");
    let Block::List { items, tight, .. } = &blocks[0] else {
        panic!("{blocks:?}")
    };
    assert!(!tight);
    assert_eq!(items[0].task, Some(true));
    // Nested list under tight item text.
    let blocks = parse("- a\n  - b\n");
    let Block::List { items, .. } = &blocks[0] else {
        panic!()
    };
    assert!(matches!(
        &items[0].blocks[..],
        [Block::Paragraph(_), Block::List { .. }]
    ));
}

#[test]
fn quotes_and_rules() {
    assert_eq!(
        parse("> quoted\n\n---\n"),
        vec![
            Block::BlockQuote(vec![para(vec![text("quoted")])]),
            Block::Rule
        ]
    );
}

#[test]
fn links_keep_safe_urls_and_drop_others() {
    assert_eq!(
        parse("[docs](https://example.com \"Title\")"),
        vec![para(vec![Inline::Link {
            href: Some("https://example.com".into()),
            title: "Title".into(),
            children: vec![text("docs")]
        }])]
    );
    assert_eq!(
        parse("[x](javascript:alert(1))"),
        vec![para(vec![Inline::Link {
            href: None,
            title: String::new(),
            children: vec![text("x")]
        }])]
    );
    assert_eq!(
        parse("<https://a.example/x> and <me@example.com>"),
        vec![para(vec![
            Inline::Link {
                href: Some("https://a.example/x".into()),
                title: String::new(),
                children: vec![text("https://a.example/x")]
            },
            text(" and "),
            Inline::Link {
                href: Some("mailto:me@example.com".into()),
                title: String::new(),
                children: vec![text("me@example.com")]
            },
        ])]
    );
    // Reference links resolve within the document.
    assert_eq!(
        parse("See [the docs][1].\n\n[1]: https://docs.example/ \"D\"\n"),
        vec![para(vec![
            text("See "),
            Inline::Link {
                href: Some("https://docs.example/".into()),
                title: "D".into(),
                children: vec![text("the docs")]
            },
            text("."),
        ])]
    );
}

#[test]
fn images_carry_alt_text_and_only_http_sources() {
    assert_eq!(
        parse("![a *cat*](https://img.example/cat.png \"t\")"),
        vec![para(vec![Inline::Image {
            src: Some("https://img.example/cat.png".into()),
            alt: "a cat".into(),
            title: "t".into()
        }])]
    );
    assert_eq!(
        parse("![x](data:image/png;base64,AAAA)"),
        vec![para(vec![Inline::Image {
            src: None,
            alt: "x".into(),
            title: String::new()
        }])]
    );
}

#[test]
fn raw_html_is_text() {
    assert_eq!(
        parse("<img src=x onerror=alert(1)>"),
        vec![Block::Html("<img src=x onerror=alert(1)>".into())]
    );
    assert_eq!(
        parse("Hi <b onclick=\"x()\">there</b>"),
        vec![para(vec![
            text("Hi "),
            Inline::Html("<b onclick=\"x()\">".into()),
            text("there"),
            Inline::Html("</b>".into()),
        ])]
    );
    assert_eq!(
        parse("<script>\nalert(1)\n</script>\n"),
        vec![Block::Html("<script>\nalert(1)\n</script>\n".into())]
    );
}

#[test]
fn entities_are_decoded_as_text() {
    assert_eq!(
        parse("a &amp; b &lt;c&gt;"),
        vec![para(vec![text("a & b <c>")])]
    );
}

#[test]
fn plain_text_flattens_inlines() {
    let blocks = parse("**a [b *c*](https://x.example) `d`**");
    let Block::Paragraph(inl) = &blocks[0] else {
        panic!()
    };
    assert_eq!(Inline::plain_text(inl), "a b c d");
}

#[test]
fn empty_and_blank_input() {
    assert_eq!(parse(""), vec![]);
    assert_eq!(parse("\n\n   \n"), vec![]);
}

/// The tree's depth, measured without recursion.
fn depth(blocks: &[Block]) -> usize {
    enum Node<'a> {
        B(&'a Block),
        I(&'a Inline),
    }
    let mut max = 0;
    let mut stack: Vec<(Node, usize)> = blocks.iter().map(|b| (Node::B(b), 1)).collect();
    while let Some((node, d)) = stack.pop() {
        max = max.max(d);
        match node {
            Node::B(b) => match b {
                Block::BlockQuote(c) => stack.extend(c.iter().map(|b| (Node::B(b), d + 1))),
                Block::List { items, .. } => {
                    for it in items {
                        stack.extend(it.blocks.iter().map(|b| (Node::B(b), d + 1)));
                    }
                }
                Block::Paragraph(i) | Block::Heading { inlines: i, .. } => {
                    stack.extend(i.iter().map(|x| (Node::I(x), d + 1)))
                }
                Block::Table { head, rows, .. } => {
                    for cell in head.iter().chain(rows.iter().flatten()) {
                        stack.extend(cell.iter().map(|x| (Node::I(x), d + 1)));
                    }
                }
                _ => {}
            },
            Node::I(i) => match i {
                Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => {
                    stack.extend(c.iter().map(|x| (Node::I(x), d + 1)))
                }
                Inline::Link { children, .. } => {
                    stack.extend(children.iter().map(|x| (Node::I(x), d + 1)))
                }
                _ => {}
            },
        }
    }
    max
}

/// Runs on a thread with a small stack, as in wasm (1 MiB), to catch deep recursion.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow or panic")
}

#[test]
fn deeply_nested_quotes_are_capped_not_crashing() {
    on_small_stack(|| {
        let input = format!("{}deep", ">".repeat(100_000));
        let blocks = parse(&input);
        assert!(depth(&blocks) <= 40, "depth {}", depth(&blocks));
        let mut all = String::new();
        for b in &blocks {
            collect_text(b, &mut all);
        }
        assert!(all.contains("deep"), "the text survives flattening");
        drop(blocks);
    });
}

fn collect_text(b: &Block, out: &mut String) {
    let mut stack = vec![b];
    while let Some(b) = stack.pop() {
        match b {
            Block::Paragraph(i) | Block::Heading { inlines: i, .. } => {
                out.push_str(&Inline::plain_text(i))
            }
            Block::BlockQuote(c) => stack.extend(c.iter()),
            Block::List { items, .. } => items.iter().for_each(|it| stack.extend(it.blocks.iter())),
            _ => {}
        }
    }
}

#[test]
fn deeply_nested_lists_and_mixed_containers_are_capped() {
    on_small_stack(|| {
        // 10,000 lists nested on one line, and 1,000 by indentation.
        let one_line = "- ".repeat(10_000) + "x";
        assert!(depth(&parse(&one_line)) <= 40);
        let mut input = String::new();
        for i in 0..1_000 {
            input.push_str(&" ".repeat(i * 2));
            input.push_str("- item\n");
        }
        let blocks = parse(&input);
        assert!(depth(&blocks) <= 40);

        let mixed: String = (0..5_000).map(|_| "> - ").collect::<String>() + "x";
        let blocks = parse(&mixed);
        assert!(depth(&blocks) <= 40);

        let ordered: String = (0..5_000).map(|_| "1. ").collect::<String>() + "x";
        assert!(depth(&parse(&ordered)) <= 40);
    });
}

#[test]
fn deeply_nested_inlines_are_capped() {
    on_small_stack(|| {
        let n = 10_000;
        let emph = format!("{}x{}", "*a ".repeat(n), " a*".repeat(n));
        assert!(depth(&parse(&emph)) <= 40);
        let links = format!("{}x{}", "[".repeat(n), "](https://e.example)".repeat(n));
        assert!(depth(&parse(&links)) <= 40);
        let strike = format!("{}x{}", "~~a ".repeat(n), " a~~".repeat(n));
        assert!(depth(&parse(&strike)) <= 40);
        let mixed = format!(
            "{}x{}",
            "**_~~[".repeat(n),
            "](https://e.example)~~_**".repeat(n)
        );
        assert!(depth(&parse(&mixed)) <= 40);
    });
}

#[test]
fn pathological_inputs_return() {
    on_small_stack(|| {
        let n = 50_000;
        let inputs = [
            "*".repeat(n),
            "_".repeat(n),
            "*a".repeat(n),
            "**a*".repeat(n / 2),
            "[".repeat(n),
            "]".repeat(n),
            "[a](".repeat(n / 4),
            "![".repeat(n / 2),
            "`".repeat(n),
            "`a".repeat(n / 2),
            "$".repeat(n),
            "$a".repeat(n / 2),
            "\\(".repeat(n / 2),
            "\\[".repeat(n / 2),
            "\\(a\\)`".repeat(n / 8),
            "\\".repeat(n),
            "<".repeat(n),
            "<a ".repeat(n / 3),
            "<!--".repeat(n / 4),
            "&#".repeat(n / 2),
            "|".repeat(n),
            format!("{}\n{}\n", "|a".repeat(5_000), "|-".repeat(5_000)),
            format!("|a|\n|-|\n{}", "|b|\n".repeat(n / 4)),
            "- ".repeat(n / 2),
            "> ".repeat(n / 2),
            "~".repeat(n),
            "~~a".repeat(n / 3),
            "a\n".repeat(n / 2),
            "#".repeat(n),
            "[a]: ".repeat(n / 5),
            "[a](<".repeat(n / 5),
            format!("{}a{}", "(".repeat(n / 2), ")".repeat(n / 2)),
            format!("[a]({}x{})", "(".repeat(n / 2), ")".repeat(n / 2)),
            "\u{FDD0}0\u{FDD1}".repeat(n / 10),
            "```\n".repeat(n / 4),
            "$$\n".repeat(n / 3),
        ];
        for input in &inputs {
            let _ = parse(input);
        }
    });
}

#[test]
fn placeholder_characters_in_input_cannot_forge_math() {
    let blocks = parse("\\(real\\) and \u{FDD0}0\u{FDD1}");
    let mut found = Vec::new();
    collect_math(&blocks, &mut found);
    assert_eq!(found, vec!["real"]);
}
