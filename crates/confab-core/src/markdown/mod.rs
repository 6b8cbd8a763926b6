//! Markdown from model output as a small, safe block tree.
//!
//! [`parse`] turns text into [`Block`]s with pulldown-cmark (tables, strikethrough, task lists,
//! `$…$`/`$$…$$` math) plus our own `\(…\)` and `\[…\]` math. The tree is what the widget
//! renders as views; it never carries anything that could run in the page:
//!
//! - raw HTML, block or inline, is kept as [`Block::Html`] / [`Inline::Html`] *text*, to be shown
//!   literally;
//! - link and image URLs go through [`crate::link`]: an unsafe URL becomes `None` and the link
//!   is shown as its text;
//! - nesting is capped ([`MAX_BLOCK_DEPTH`], [`MAX_INLINE_DEPTH`]): deeper containers are
//!   flattened into their parent, so code walking the tree recursively uses bounded stack, and
//!   building it never recurses at all.
//!
//! [`StreamingDoc`] keeps a growing answer parsed while it streams: finished top-level blocks
//! are frozen and only the open tail is parsed again.

mod build;
mod math;
mod stream;

pub use stream::StreamingDoc;

/// Block containers (block quotes, lists) nested deeper than this are flattened into their
/// parent: their content still shows, without the extra indentation.
pub const MAX_BLOCK_DEPTH: usize = 16;

/// Inline containers (emphasis, strong, strikethrough, links, images) nested deeper than this
/// are flattened: their text still shows, without the styling (and a link without its href).
pub const MAX_INLINE_DEPTH: usize = 16;

/// A block of a markdown document.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// `# Title` (level 1 to 6) or a setext heading.
    Heading { level: u8, inlines: Vec<Inline> },
    /// A paragraph; also the text of a tight list item.
    Paragraph(Vec<Inline>),
    /// A fenced or indented code block.
    CodeBlock {
        /// First word of the info string (```` ```rust ignore ```` gives `rust`); `None` when
        /// absent or for indented code.
        lang: Option<String>,
        /// The code, ending with a newline when it has any line.
        code: String,
        /// `false` while a fence has no closing fence yet (still streaming, or the document
        /// ended first); always `true` for indented code.
        closed: bool,
    },
    /// Display math standing alone as a paragraph: `$$…$$` or `\[…\]`, TeX source.
    Math {
        tex: String,
        /// `false` when the opening `$$` / `\[` has no closing delimiter (yet): the widget can
        /// show the source as it streams instead of a paragraph of `$$` text.
        closed: bool,
    },
    /// `> quoted blocks`.
    BlockQuote(Vec<Block>),
    /// A bullet (`ordered == false`) or numbered list.
    List {
        ordered: bool,
        /// Number of the first item (1 for bullet lists).
        start: u64,
        /// A tight list has no blank lines between items: render without paragraph spacing.
        tight: bool,
        items: Vec<ListItem>,
    },
    /// A GFM table. `head` has one cell per column; each row of `rows` as well.
    Table {
        aligns: Vec<Align>,
        head: Vec<Vec<Inline>>,
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// `---`
    Rule,
    /// A raw HTML block, to be shown as literal text (never interpreted).
    Html(String),
}

/// One item of a [`Block::List`].
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ListItem {
    /// `Some(checked)` for a task list item (`- [x] done`, `- [ ] todo`).
    pub task: Option<bool>,
    pub blocks: Vec<Block>,
}

/// Column alignment of a [`Block::Table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    None,
    Left,
    Center,
    Right,
}

impl Align {
    /// The CSS `text-align` value, or `None` for the default.
    pub fn as_css(self) -> Option<&'static str> {
        match self {
            Align::None => None,
            Align::Left => Some("left"),
            Align::Center => Some("center"),
            Align::Right => Some("right"),
        }
    }
}

/// Inline content of a paragraph, heading or table cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Inline {
    /// Text to show as is (character references already decoded).
    Text(String),
    /// `` `code` ``
    Code(String),
    /// `*emphasis*`
    Emph(Vec<Inline>),
    /// `**strong**`
    Strong(Vec<Inline>),
    /// `~~strikethrough~~`
    Strike(Vec<Inline>),
    /// A link. `href` is `None` when the URL is not an allowed absolute http(s)/mailto URL
    /// (see [`crate::link::safe_link`]): show `children` as plain text then.
    Link {
        href: Option<String>,
        title: String,
        children: Vec<Inline>,
    },
    /// An image. `src` is `None` when the URL is not an allowed http(s) URL (see
    /// [`crate::link::safe_image`]); even when `Some`, load it only after the user asks
    /// (or when its host is allow-listed).
    Image {
        src: Option<String>,
        alt: String,
        title: String,
    },
    /// Math in TeX: `$…$` or `\(…\)` (`display == false`), `$$…$$` or `\[…\]` inside a
    /// paragraph (`display == true`).
    Math { tex: String, display: bool },
    /// A line break that renders as a space.
    SoftBreak,
    /// A line break that renders as a line break.
    HardBreak,
    /// Inline raw HTML such as `<b>` or `<img src=x onerror=…>`, to be shown as literal text.
    Html(String),
}

impl Inline {
    /// The text a reader sees, without styling (used for image alt text and flattening).
    pub fn plain_text(inlines: &[Inline]) -> String {
        let mut out = String::new();
        // Iterative walk: the tree is depth-capped, but this also serves untrusted input.
        let mut stack: Vec<std::slice::Iter<'_, Inline>> = vec![inlines.iter()];
        while let Some(top) = stack.last_mut() {
            let Some(inline) = top.next() else {
                stack.pop();
                continue;
            };
            match inline {
                Inline::Text(s) | Inline::Code(s) | Inline::Html(s) => out.push_str(s),
                Inline::Math { tex, .. } => out.push_str(tex),
                Inline::Emph(c) | Inline::Strong(c) | Inline::Strike(c) => stack.push(c.iter()),
                Inline::Link { children, .. } => stack.push(children.iter()),
                Inline::Image { alt, .. } => out.push_str(alt),
                Inline::SoftBreak | Inline::HardBreak => out.push(' '),
            }
        }
        out
    }
}

/// Parses a whole markdown document.
///
/// Never fails and never recurses on the input's nesting; pathological input (100,000 `>`,
/// deeply nested lists, long runs of `*`, `[` or backticks) is handled in about linear time.
pub fn parse(text: &str) -> Vec<Block> {
    build::parse_blocks(text).blocks
}
