//! Parsing an answer while it streams in, at a cost proportional to the open tail.
//!
//! The text is split at a *boundary* into a frozen part, whose top-level blocks can no longer
//! change, and a tail that is parsed again after each update. A top-level block starting at
//! byte `b` of the tail gives a boundary when
//!
//! - the line before `b` is blank (a blank line closes paragraphs, tables, HTML blocks of the
//!   kinds that end at a blank line, and lazy continuations),
//! - pulldown-cmark itself, parsing the whole tail, ended the previous block before `b` and
//!   started a new top-level block on the line at `b` (so no fence, `<!-- …`/`<pre>` HTML block
//!   or list, which continue over blank lines, is still open there), and
//! - that first line of the new block is complete (ends in a newline): only then is it settled
//!   whether, say, `12` is a paragraph or the item `12.` continuing the list above.
//!
//! Markdown block structure is decided line by line, so the blocks before such a boundary are
//! final and the text after it parses the same on its own. With one exception: reference
//! definitions (`[1]: https://…`) apply to the whole document, so until [`StreamingDoc::finish`]
//! a reference link is only resolved when its definition is in the same part (frozen chunk
//! or tail) as the link. `finish` parses the whole text once and settles them.
//!
//! Freezing is per top-level block: a single long list, block quote or code block stays in
//! the tail until it ends, so re-parse cost grows with that block (not with the document).

use super::build::parse_blocks;
use super::Block;

/// A markdown answer being streamed: frozen blocks plus a re-parsed tail.
///
/// ```
/// use confab_core::markdown::{parse, StreamingDoc};
///
/// let mut doc = StreamingDoc::new();
/// for delta in ["# Ti", "tle\n\nSome *te", "xt*.\n\n```rust\nfn main", "() {}\n```\n"] {
///     doc.push(delta);
///     // Render doc.frozen()[rendered..] once each, and doc.tail() in full.
/// }
/// doc.finish();
/// assert_eq!(doc.blocks().cloned().collect::<Vec<_>>(), parse(doc.text()));
/// ```
#[derive(Clone, Debug, Default)]
pub struct StreamingDoc {
    text: String,
    /// Blocks of `text[..frozen_end]`: they never change until `finish`.
    frozen: Vec<Block>,
    frozen_end: usize,
    /// Blocks of `text[frozen_end..]` as of the last update.
    tail: Vec<Block>,
    /// Text was appended since the tail was last parsed.
    dirty: bool,
    finished: bool,
}

impl StreamingDoc {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a delta and updates the blocks: [`append`](Self::append) then
    /// [`update`](Self::update).
    pub fn push(&mut self, delta: &str) {
        self.append(delta);
        self.update();
    }

    /// Appends a delta without parsing, e.g. to parse at most once per animation frame with
    /// [`update`](Self::update).
    ///
    /// Appending after [`finish`](Self::finish) starts streaming anew over the whole text: the
    /// next update may report fewer frozen blocks than before.
    pub fn append(&mut self, delta: &str) {
        if delta.is_empty() {
            return;
        }
        if self.finished {
            self.finished = false;
            self.frozen.clear();
            self.frozen_end = 0;
        }
        self.text.push_str(delta);
        self.dirty = true;
    }

    /// Parses the tail again if text was appended, freezing the blocks that became final.
    pub fn update(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let tail_text = &self.text[self.frozen_end..];
        let parsed = parse_blocks(tail_text);
        let mut blocks = parsed.blocks;
        let cut = (1..blocks.len())
            .rev()
            .find_map(|i| boundary(tail_text, &parsed.ranges, i).map(|b| (i, b)));
        if let Some((i, b)) = cut {
            let rest = blocks.split_off(i);
            self.frozen.append(&mut blocks);
            self.frozen_end += b;
            blocks = rest;
        }
        self.tail = blocks;
    }

    /// The answer is complete: parses the whole text once, which settles reference links,
    /// and freezes everything.
    ///
    /// Returns how many of the previously frozen blocks are unchanged: the UI keeps those and
    /// renders the rest of [`frozen`](Self::frozen) anew.
    pub fn finish(&mut self) -> usize {
        let blocks = super::parse(&self.text);
        let unchanged = self
            .frozen
            .iter()
            .zip(&blocks)
            .take_while(|(old, new)| old == new)
            .count();
        self.frozen = blocks;
        self.frozen_end = self.text.len();
        self.tail.clear();
        self.dirty = false;
        self.finished = true;
        unchanged
    }

    /// The answer is complete, and the blocks already drawn stay as they are: nothing is
    /// parsed again and `false` is returned. Only when the text defines reference links
    /// (which apply across blocks) is it parsed once in full, as [`finish`](Self::finish)
    /// does, and `true` says the blocks must be drawn again.
    pub fn settle(&mut self) -> bool {
        self.update();
        if !has_reference_definition(&self.text) {
            return false;
        }
        self.finish();
        true
    }

    /// Blocks that will not change any more (until [`finish`](Self::finish), which may revise
    /// them): render each once, keyed by its index.
    pub fn frozen(&self) -> &[Block] {
        &self.frozen
    }

    /// How many blocks are frozen; the UI appends `frozen()[already_rendered..]`.
    pub fn frozen_len(&self) -> usize {
        self.frozen.len()
    }

    /// The open blocks at the end, parsed again on each update: render them in full.
    pub fn tail(&self) -> &[Block] {
        &self.tail
    }

    /// Frozen blocks followed by the tail.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> + '_ {
        self.frozen.iter().chain(&self.tail)
    }

    /// All text pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text that is parsed again on each update.
    pub fn tail_text(&self) -> &str {
        &self.text[self.frozen_end..]
    }

    /// Whether [`finish`](Self::finish) was called (and nothing appended since).
    pub fn is_finished(&self) -> bool {
        self.finished
    }
}

/// Whether a line looks like a reference definition (`[label]: destination`), which may
/// resolve links in other blocks. Errs on the side of yes.
fn has_reference_definition(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with('[') && line.find("]:").is_some_and(|end| end > 1)
    })
}

/// The byte offset at which the text may be cut before top-level block `i`, if it may.
fn boundary(text: &str, ranges: &[std::ops::Range<usize>], i: usize) -> Option<usize> {
    let start = ranges[i].start;
    let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
    // Only indentation before the block on its line.
    if line_start == 0 || !text[line_start..start].trim().is_empty() {
        return None;
    }
    // The previous block ended before this line.
    if ranges[i - 1].end > line_start {
        return None;
    }
    // The line before is blank.
    let before = &text[..line_start - 1];
    let prev_line = &before[before.rfind('\n').map_or(0, |n| n + 1)..];
    if !prev_line.trim().is_empty() || before.is_empty() {
        return None;
    }
    // The block's first line is complete.
    if !text[start..].contains('\n') {
        return None;
    }
    Some(line_start)
}
