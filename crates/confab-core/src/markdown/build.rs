//! From pulldown-cmark events to our [`Block`] tree, with an explicit stack (no recursion) and
//! nesting caps.

use std::ops::Range;

use pulldown_cmark::{Alignment, CodeBlockKind, Event, LinkType, Options, Parser, Tag, TagEnd};

use super::math::{self, Piece, Prepared};
use super::{Align, Block, Inline, ListItem, MAX_BLOCK_DEPTH, MAX_INLINE_DEPTH};
use crate::link::{safe_image, safe_link};

/// The markdown dialect: CommonMark plus GFM tables, strikethrough and task lists, and math.
pub(crate) fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
}

/// A parsed document with the source range of each top-level block.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub blocks: Vec<Block>,
    /// One range per block of `blocks`, in the original text.
    pub ranges: Vec<Range<usize>>,
}

pub(crate) fn parse_blocks(text: &str) -> Parsed {
    let prepared = math::prepare(text);
    let src: &str = &prepared.text;
    let mut builder = Builder {
        src,
        prepared: &prepared,
        frames: vec![Frame::Blocks {
            kind: BlocksKind::Root,
            blocks: Vec::new(),
            loose: Vec::new(),
        }],
        opened: Vec::new(),
        block_depth: 0,
        inline_depth: 0,
        top_start: 0,
        ranges: Vec::new(),
    };
    for (event, range) in Parser::new_ext(src, options()).into_offset_iter() {
        if builder.opened.is_empty() {
            builder.top_start = range.start;
        }
        let end = range.end;
        builder.event(event, range);
        if builder.opened.is_empty() {
            builder.record_tops(end);
        }
    }
    builder.flush_loose();
    builder.record_tops(src.len());
    let Some(Frame::Blocks { blocks, .. }) = builder.frames.into_iter().next() else {
        unreachable!("the root frame is never popped")
    };
    let ranges = builder
        .ranges
        .into_iter()
        .map(|r| prepared.original_offset(r.start)..prepared.original_offset(r.end))
        .collect();
    Parsed { blocks, ranges }
}

#[derive(Debug)]
enum BlocksKind {
    Root,
    Quote,
    Item { task: Option<bool> },
}

#[derive(Debug)]
enum LeafKind {
    Paragraph,
    Heading(u8),
    Cell,
}

#[derive(Debug)]
enum SpanKind {
    Emph,
    Strong,
    Strike,
    Link { href: Option<String>, title: String },
    Image { src: Option<String>, title: String },
}

/// An open element being built.
#[derive(Debug)]
enum Frame {
    /// Holds blocks. `loose` collects inlines outside any paragraph (the text of a tight list
    /// item, or of flattened content) until they become a paragraph.
    Blocks {
        kind: BlocksKind,
        blocks: Vec<Block>,
        loose: Vec<Inline>,
    },
    List {
        ordered: bool,
        start: u64,
        tight: bool,
        items: Vec<ListItem>,
    },
    Leaf {
        kind: LeafKind,
        inlines: Vec<Inline>,
        range: Range<usize>,
    },
    Code {
        lang: Option<String>,
        fenced: bool,
        code: String,
        range: Range<usize>,
    },
    Html(String),
    Table {
        aligns: Vec<Align>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
        row: Vec<Vec<Inline>>,
    },
    Span {
        kind: SpanKind,
        inlines: Vec<Inline>,
    },
}

struct Builder<'a> {
    /// The prepared text the parser runs on.
    src: &'a str,
    prepared: &'a Prepared<'a>,
    /// `frames[0]` is the root.
    frames: Vec<Frame>,
    /// One entry per open pulldown-cmark tag: whether it pushed a frame (`false` when it was
    /// flattened by a depth cap or is a marker such as a table row).
    opened: Vec<bool>,
    block_depth: usize,
    inline_depth: usize,
    top_start: usize,
    ranges: Vec<Range<usize>>,
}

impl Builder<'_> {
    fn top(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("root frame")
    }

    fn root_len(&self) -> usize {
        match &self.frames[0] {
            Frame::Blocks { blocks, .. } => blocks.len(),
            _ => unreachable!("the root holds blocks"),
        }
    }

    fn record_tops(&mut self, end: usize) {
        while self.ranges.len() < self.root_len() {
            self.ranges.push(self.top_start..end);
        }
    }

    fn event(&mut self, event: Event<'_>, range: Range<usize>) {
        match event {
            Event::Start(tag) => {
                let pushed = self.start(tag, range);
                self.opened.push(pushed);
            }
            Event::End(tag) => {
                let pushed = self.opened.pop().unwrap_or(false);
                if pushed {
                    self.close();
                } else {
                    self.end_unpushed(tag);
                }
            }
            Event::Text(t) => self.text(&t),
            Event::Code(c) => {
                let c = self.prepared.restore(&c).into_owned();
                self.inline(Inline::Code(c));
            }
            Event::InlineMath(tex) => self.inline(Inline::Math {
                tex: self.prepared.restore(&tex).into_owned(),
                display: false,
            }),
            Event::DisplayMath(tex) => self.inline(Inline::Math {
                tex: self.prepared.restore(&tex).trim().to_string(),
                display: true,
            }),
            Event::Html(h) => {
                let h = self.prepared.restore(&h).into_owned();
                if let Frame::Html(text) = self.top() {
                    text.push_str(&h);
                } else {
                    self.inline(Inline::Html(h));
                }
            }
            Event::InlineHtml(h) => {
                let h = self.prepared.restore(&h).into_owned();
                self.inline(Inline::Html(h));
            }
            Event::FootnoteReference(label) => self.text(&format!("[^{label}]")),
            Event::SoftBreak => self.inline(Inline::SoftBreak),
            Event::HardBreak => self.inline(Inline::HardBreak),
            Event::Rule => self.block(Block::Rule),
            Event::TaskListMarker(checked) => self.task(checked),
        }
    }

    /// Opens a tag; returns whether a frame was pushed.
    fn start(&mut self, tag: Tag<'_>, range: Range<usize>) -> bool {
        let frame = match tag {
            Tag::Paragraph => {
                self.mark_loose_list();
                Frame::Leaf {
                    kind: LeafKind::Paragraph,
                    inlines: Vec::new(),
                    range,
                }
            }
            Tag::Heading { level, .. } => Frame::Leaf {
                kind: LeafKind::Heading(level as u8),
                inlines: Vec::new(),
                range,
            },
            Tag::BlockQuote(_) => {
                if self.block_depth >= MAX_BLOCK_DEPTH || !self.holds_blocks() {
                    return false;
                }
                self.block_depth += 1;
                Frame::Blocks {
                    kind: BlocksKind::Quote,
                    blocks: Vec::new(),
                    loose: Vec::new(),
                }
            }
            Tag::List(first) => {
                if self.block_depth >= MAX_BLOCK_DEPTH || !self.holds_blocks() {
                    return false;
                }
                self.block_depth += 1;
                Frame::List {
                    ordered: first.is_some(),
                    start: first.unwrap_or(1),
                    tight: true,
                    items: Vec::new(),
                }
            }
            Tag::Item => {
                if !matches!(self.top(), Frame::List { .. }) {
                    return false;
                }
                Frame::Blocks {
                    kind: BlocksKind::Item { task: None },
                    blocks: Vec::new(),
                    loose: Vec::new(),
                }
            }
            Tag::CodeBlock(kind) => {
                let (lang, fenced) = match kind {
                    CodeBlockKind::Fenced(info) => {
                        let lang = info.split_whitespace().next().map(str::to_string);
                        (lang, true)
                    }
                    CodeBlockKind::Indented => (None, false),
                };
                Frame::Code {
                    lang,
                    fenced,
                    code: String::new(),
                    range,
                }
            }
            Tag::HtmlBlock => Frame::Html(String::new()),
            Tag::Table(aligns) => Frame::Table {
                aligns: aligns.into_iter().map(align).collect(),
                head: Vec::new(),
                rows: Vec::new(),
                row: Vec::new(),
            },
            Tag::TableCell => Frame::Leaf {
                kind: LeafKind::Cell,
                inlines: Vec::new(),
                range,
            },
            Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Link { .. }
            | Tag::Image { .. } => {
                if self.inline_depth >= MAX_INLINE_DEPTH || !self.holds_inlines() {
                    return false;
                }
                self.inline_depth += 1;
                let kind = match tag {
                    Tag::Emphasis => SpanKind::Emph,
                    Tag::Strong => SpanKind::Strong,
                    Tag::Strikethrough => SpanKind::Strike,
                    Tag::Link {
                        link_type,
                        dest_url,
                        title,
                        ..
                    } => {
                        let dest = self.prepared.restore(&dest_url);
                        let href = if link_type == LinkType::Email {
                            safe_link(&format!("mailto:{dest}"))
                        } else {
                            safe_link(&dest)
                        };
                        SpanKind::Link {
                            href,
                            title: title.to_string(),
                        }
                    }
                    Tag::Image {
                        dest_url, title, ..
                    } => SpanKind::Image {
                        src: safe_image(&self.prepared.restore(&dest_url)),
                        title: title.to_string(),
                    },
                    _ => unreachable!("matched above"),
                };
                Frame::Span {
                    kind,
                    inlines: Vec::new(),
                }
            }
            // Table heads and rows are tracked on the table frame; footnotes, definition
            // lists, metadata, super/subscript are not enabled: their content is kept flat.
            _ => return false,
        };
        self.frames.push(frame);
        true
    }

    /// Closes a tag that did not push a frame.
    fn end_unpushed(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::TableHead => {
                if let Frame::Table { head, row, .. } = self.top() {
                    *head = std::mem::take(row);
                }
            }
            TagEnd::TableRow => {
                if let Frame::Table { rows, row, .. } = self.top() {
                    rows.push(std::mem::take(row));
                }
            }
            // Flattened containers: keep the text of each flattened item or quote apart.
            TagEnd::Item | TagEnd::BlockQuote(_) | TagEnd::List(_) => self.flush_loose(),
            _ => {}
        }
    }

    /// Pops the top frame and adds what it built to its parent.
    fn close(&mut self) {
        let frame = self.frames.pop().expect("a pushed frame");
        match frame {
            Frame::Blocks {
                kind,
                mut blocks,
                loose,
            } => {
                if !loose.is_empty() {
                    blocks.push(Block::Paragraph(loose));
                }
                match kind {
                    BlocksKind::Root => unreachable!("the root is never closed"),
                    BlocksKind::Quote => {
                        self.block_depth -= 1;
                        self.block(Block::BlockQuote(blocks));
                    }
                    BlocksKind::Item { task } => {
                        if let Frame::List { items, .. } = self.top() {
                            items.push(ListItem { task, blocks });
                        }
                    }
                }
            }
            Frame::List {
                ordered,
                start,
                tight,
                items,
            } => {
                self.block_depth -= 1;
                self.block(Block::List {
                    ordered,
                    start,
                    tight,
                    items,
                });
            }
            Frame::Leaf {
                kind,
                inlines,
                range: leaf,
            } => match kind {
                LeafKind::Paragraph => {
                    let block = self.paragraph(inlines, leaf);
                    self.block(block);
                }
                LeafKind::Heading(level) => self.block(Block::Heading { level, inlines }),
                LeafKind::Cell => {
                    if let Frame::Table { row, .. } = self.top() {
                        row.push(inlines);
                    }
                }
            },
            Frame::Code {
                lang,
                fenced,
                code,
                range: code_range,
            } => {
                let closed = !fenced || fence_closed(&self.src[code_range]);
                self.block(Block::CodeBlock { lang, code, closed });
            }
            Frame::Html(text) => self.block(Block::Html(text)),
            Frame::Table {
                aligns, head, rows, ..
            } => self.block(Block::Table { aligns, head, rows }),
            Frame::Span { kind, inlines } => {
                self.inline_depth -= 1;
                let inline = match kind {
                    SpanKind::Emph => Inline::Emph(inlines),
                    SpanKind::Strong => Inline::Strong(inlines),
                    SpanKind::Strike => Inline::Strike(inlines),
                    SpanKind::Link { href, title } => Inline::Link {
                        href,
                        title,
                        children: inlines,
                    },
                    SpanKind::Image { src, title } => Inline::Image {
                        src,
                        alt: Inline::plain_text(&inlines),
                        title,
                    },
                };
                self.inline(inline);
            }
        }
    }

    /// A finished paragraph, or math standing alone.
    fn paragraph(&self, mut inlines: Vec<Inline>, range: Range<usize>) -> Block {
        let has_math = inlines.iter().any(|i| matches!(i, Inline::Math { .. }));
        if has_math {
            let mut significant = inlines.iter().filter(|i| match i {
                Inline::SoftBreak | Inline::HardBreak => false,
                Inline::Text(t) => !t.trim().is_empty(),
                _ => true,
            });
            if let (Some(Inline::Math { display: true, .. }), None) =
                (significant.next(), significant.next())
            {
                let pos = inlines
                    .iter()
                    .position(|i| matches!(i, Inline::Math { .. }))
                    .expect("has math");
                if let Inline::Math { tex, .. } = inlines.swap_remove(pos) {
                    return Block::Math { tex, closed: true };
                }
            }
            return Block::Paragraph(inlines);
        }
        // An opening `$$` or `\[` without its closer (yet): math, not a paragraph of `$$`.
        let source = &self.src[range.clone()];
        let trimmed = source.trim_start();
        let unclosed = (trimmed.starts_with("$$") && !trimmed[2..].contains("$$"))
            || (trimmed.starts_with("\\[") && !trimmed[2..].contains("\\]"));
        // Both openers are two bytes long.
        let opener = unclosed.then_some(2);
        if let Some(len) = opener {
            let inner_start = range.start + (source.len() - trimmed.len()) + len;
            let tex = math::clean_tex(self.src, range.start, &self.src[inner_start..range.end]);
            // Half a closing delimiter (`$` of `$$`, `\` of `\]`) is not part of the formula.
            let tex = tex.trim_end_matches(['$', '\\']).trim_end().to_string();
            return Block::Math { tex, closed: false };
        }
        Block::Paragraph(inlines)
    }

    fn holds_blocks(&mut self) -> bool {
        matches!(self.top(), Frame::Blocks { .. })
    }

    fn holds_inlines(&mut self) -> bool {
        matches!(
            self.top(),
            Frame::Blocks { .. } | Frame::Leaf { .. } | Frame::Span { .. }
        )
    }

    /// A paragraph directly inside a list item makes its list loose.
    fn mark_loose_list(&mut self) {
        let n = self.frames.len();
        if n >= 2 {
            if let (
                Frame::List { tight, .. },
                Frame::Blocks {
                    kind: BlocksKind::Item { .. },
                    ..
                },
            ) = pair_mut(&mut self.frames, n - 2)
            {
                *tight = false;
            }
        }
    }

    fn task(&mut self, checked: bool) {
        let n = self.frames.len();
        // Tight item: the marker is directly in the item; loose: in its first paragraph.
        for depth in [n - 1, n.saturating_sub(2)] {
            if let Frame::Blocks {
                kind: BlocksKind::Item { task },
                ..
            } = &mut self.frames[depth]
            {
                if task.is_none() {
                    *task = Some(checked);
                    return;
                }
            }
        }
        self.text(if checked { "[x] " } else { "[ ] " });
    }

    /// Flushes loose inlines of the top frame into a paragraph.
    fn flush_loose(&mut self) {
        if let Frame::Blocks { blocks, loose, .. } = self.top() {
            if !loose.is_empty() {
                blocks.push(Block::Paragraph(std::mem::take(loose)));
            }
        }
    }

    fn block(&mut self, block: Block) {
        match self.top() {
            Frame::Blocks { blocks, loose, .. } => {
                if !loose.is_empty() {
                    blocks.push(Block::Paragraph(std::mem::take(loose)));
                }
                blocks.push(block);
            }
            Frame::List { items, .. } => {
                if items.is_empty() {
                    items.push(ListItem::default());
                }
                items.last_mut().expect("an item").blocks.push(block);
            }
            // pulldown-cmark never opens a block inside inline content; keep any text.
            Frame::Leaf { inlines, .. } | Frame::Span { inlines, .. } => {
                if let Block::Paragraph(more) | Block::Heading { inlines: more, .. } = block {
                    inlines.extend(more);
                }
            }
            Frame::Code { .. } | Frame::Html(_) | Frame::Table { .. } => {}
        }
    }

    fn text(&mut self, text: &str) {
        let prepared = self.prepared;
        match self.top() {
            Frame::Code { code, .. } => code.push_str(&prepared.restore(text)),
            Frame::Html(html) => html.push_str(&prepared.restore(text)),
            _ => {
                let count = prepared.formulas.len();
                if count == 0 || !text.contains(math::OPEN) {
                    self.inline(Inline::Text(text.to_string()));
                    return;
                }
                for piece in math::split_placeholders(text, count) {
                    let inline = match piece {
                        Piece::Text(t) => Inline::Text(t.to_string()),
                        Piece::Formula(i) => Inline::Math {
                            tex: prepared.formulas[i].tex.clone(),
                            display: prepared.formulas[i].display,
                        },
                    };
                    self.inline(inline);
                }
            }
        }
    }

    fn inline(&mut self, inline: Inline) {
        let target = match self.top() {
            Frame::Blocks { loose, .. } => loose,
            Frame::Leaf { inlines, .. } | Frame::Span { inlines, .. } => inlines,
            Frame::Code { code, .. } => {
                code.push_str(&Inline::plain_text(std::slice::from_ref(&inline)));
                return;
            }
            Frame::Html(html) => {
                html.push_str(&Inline::plain_text(std::slice::from_ref(&inline)));
                return;
            }
            Frame::List { .. } | Frame::Table { .. } => {
                self.block(Block::Paragraph(vec![inline]));
                return;
            }
        };
        match (target.last_mut(), inline) {
            (Some(Inline::Text(prev)), Inline::Text(more)) => prev.push_str(&more),
            (_, inline) => target.push(inline),
        }
    }
}

/// Mutable access to `frames[i]` and `frames[i + 1]`.
fn pair_mut(frames: &mut [Frame], i: usize) -> (&mut Frame, &mut Frame) {
    let (a, b) = frames.split_at_mut(i + 1);
    (&mut a[i], &mut b[0])
}

fn align(a: Alignment) -> Align {
    match a {
        Alignment::None => Align::None,
        Alignment::Left => Align::Left,
        Alignment::Center => Align::Center,
        Alignment::Right => Align::Right,
    }
}

/// Whether the source of a fenced code block ends with its closing fence.
fn fence_closed(source: &str) -> bool {
    let opening = source.trim_start_matches([' ', '\t', '>']);
    let Some(fence_char) = opening.chars().next().filter(|c| matches!(c, '`' | '~')) else {
        return false;
    };
    let fence_len = opening.chars().take_while(|&c| c == fence_char).count();
    let body = source.trim_end_matches(['\n', '\r']);
    let Some(last_line_start) = body.rfind('\n') else {
        return false; // only the opening line
    };
    let last = body[last_line_start + 1..]
        .trim_start_matches([' ', '\t', '>'])
        .trim_end();
    last.len() >= fence_len && last.chars().all(|c| c == fence_char)
}
