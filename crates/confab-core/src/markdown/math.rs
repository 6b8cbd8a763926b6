//! `\(…\)` and `\[…\]` math, which CommonMark reads as escaped brackets.
//!
//! Models write LaTeX delimiters more often than `$`. Before the real parse, each such formula
//! found in ordinary text (a paragraph, heading or table cell, not in code, HTML, a link or
//! `$` math) is replaced by a placeholder `U+FDD0 <index> U+FDD1`: two Unicode
//! noncharacters around decimal digits, which pulldown-cmark treats like letters, so the
//! formula cannot be broken up by `*`, `_` or `[` inside it. The tree builder turns the
//! placeholders back into [`Inline::Math`](super::Inline::Math) (or into the original source
//! where a placeholder ends up in code).
//!
//! Which text is "ordinary" is decided by pulldown-cmark itself, in a first pass over the
//! events with their source ranges, so code spans and fences are never touched. That first
//! pass only runs when the text contains `\(` or `\[`.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// Start of a placeholder.
pub(crate) const OPEN: char = '\u{FDD0}';
/// End of a placeholder.
pub(crate) const CLOSE: char = '\u{FDD1}';

/// One formula taken out of the text.
#[derive(Debug)]
pub(crate) struct Formula {
    pub tex: String,
    pub display: bool,
    /// The original source, `\(` and `\)` included.
    pub source: String,
}

/// One replacement, for mapping offsets in the prepared text back to the original.
#[derive(Debug)]
struct Edit {
    orig: Range<usize>,
    new: Range<usize>,
}

/// Text ready for the real parse.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub text: Cow<'a, str>,
    pub formulas: Vec<Formula>,
    edits: Vec<Edit>,
}

impl Prepared<'_> {
    /// Maps an offset in the prepared text back to the original text.
    pub fn original_offset(&self, offset: usize) -> usize {
        // Edits are sorted and disjoint.
        let i = self.edits.partition_point(|e| e.new.start <= offset);
        if i == 0 {
            return offset;
        }
        let e = &self.edits[i - 1];
        if offset < e.new.end {
            e.orig.start
        } else {
            offset - e.new.end + e.orig.end
        }
    }

    /// Puts the original source back in place of placeholders (for code and raw HTML).
    pub fn restore<'s>(&self, s: &'s str) -> Cow<'s, str> {
        if self.formulas.is_empty() || !s.contains(OPEN) {
            return Cow::Borrowed(s);
        }
        let mut out = String::with_capacity(s.len());
        for piece in split_placeholders(s, self.formulas.len()) {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Formula(i) => out.push_str(&self.formulas[i].source),
            }
        }
        Cow::Owned(out)
    }
}

pub(crate) enum Piece<'s> {
    Text(&'s str),
    Formula(usize),
}

/// Splits text into plain pieces and well-formed placeholders with an index below `count`.
pub(crate) fn split_placeholders(s: &str, count: usize) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut plain_start = 0;
    let mut search = 0;
    while let Some(rel) = s[search..].find(OPEN) {
        let open = search + rel;
        let digits_start = open + OPEN.len_utf8();
        let digits_len = s[digits_start..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let digits_end = digits_start + digits_len;
        let index = s[digits_start..digits_end].parse::<usize>().ok();
        match index {
            Some(i) if i < count && s[digits_end..].starts_with(CLOSE) => {
                if plain_start < open {
                    pieces.push(Piece::Text(&s[plain_start..open]));
                }
                pieces.push(Piece::Formula(i));
                plain_start = digits_end + CLOSE.len_utf8();
                search = plain_start;
            }
            _ => search = digits_start,
        }
    }
    if plain_start < s.len() {
        pieces.push(Piece::Text(&s[plain_start..]));
    }
    pieces
}

/// Replaces `\(…\)` and `\[…\]` in ordinary text by placeholders.
pub(crate) fn prepare(text: &str) -> Prepared<'_> {
    // Our placeholder characters must not occur in the input: they are noncharacters, so
    // showing U+FFFD instead loses nothing. Done everywhere, so it is local to each character
    // (the streaming parser relies on parsing being local to each top-level block).
    let text: Cow<'_, str> = if text.contains([OPEN, CLOSE]) {
        Cow::Owned(text.replace([OPEN, CLOSE], "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    };
    let mut prepared = Prepared {
        text,
        formulas: Vec::new(),
        edits: Vec::new(),
    };
    if !prepared.text.contains("\\(") && !prepared.text.contains("\\[") {
        return prepared;
    }
    let src: &str = &prepared.text;
    let (leaves, protected) = scan(src);
    let mut found: Vec<(Range<usize>, Formula)> = Vec::new();
    for leaf in leaves {
        find_in_leaf(src, leaf, &protected, &mut found);
    }
    if found.is_empty() {
        return prepared;
    }
    let mut out = String::with_capacity(src.len());
    let mut last = 0;
    let mut edits = Vec::with_capacity(found.len());
    let mut formulas = Vec::with_capacity(found.len());
    for (i, (range, formula)) in found.into_iter().enumerate() {
        out.push_str(&src[last..range.start]);
        let new_start = out.len();
        out.push(OPEN);
        out.push_str(&i.to_string());
        out.push(CLOSE);
        edits.push(Edit {
            orig: range.clone(),
            new: new_start..out.len(),
        });
        formulas.push(formula);
        last = range.end;
    }
    out.push_str(&src[last..]);
    prepared.text = Cow::Owned(out);
    prepared.formulas = formulas;
    prepared.edits = edits;
    prepared
}

/// Ranges of leaves holding ordinary text, and sorted disjoint ranges where nothing may be
/// replaced.
fn scan(src: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let mut leaves = Vec::new();
    let mut protected: Vec<Range<usize>> = Vec::new();
    // The text of a tight list item is not in a paragraph: the item up to its first block
    // (a nested list, say) counts as a leaf.
    let mut item_leaf: Option<usize> = None;
    for (event, range) in Parser::new_ext(src, super::build::options()).into_offset_iter() {
        match &event {
            Event::Start(Tag::Item) => {
                if let Some(start) = item_leaf.replace(range.start) {
                    leaves.push(start..range.start);
                }
            }
            Event::Start(
                Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::BlockQuote(_)
                | Tag::List(_)
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::Table(_),
            )
            | Event::Rule => {
                if let Some(start) = item_leaf.take() {
                    leaves.push(start..range.start);
                }
            }
            Event::End(TagEnd::Item) => {
                if let Some(start) = item_leaf.take() {
                    leaves.push(start..range.end);
                }
            }
            _ => {}
        }
        match event {
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::TableCell) => {
                leaves.push(range)
            }
            Event::Start(
                Tag::CodeBlock(_) | Tag::HtmlBlock | Tag::Link { .. } | Tag::Image { .. },
            )
            | Event::Code(_)
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => match protected.last_mut() {
                Some(last) if range.start < last.end => last.end = last.end.max(range.end),
                _ => protected.push(range),
            },
            _ => {}
        }
    }
    (leaves, protected)
}

/// Whether `range` overlaps a protected range.
fn overlaps(protected: &[Range<usize>], range: &Range<usize>) -> bool {
    let i = protected.partition_point(|p| p.end <= range.start);
    protected.get(i).is_some_and(|p| p.start < range.end)
}

fn find_in_leaf(
    src: &str,
    leaf: Range<usize>,
    protected: &[Range<usize>],
    found: &mut Vec<(Range<usize>, Formula)>,
) {
    let bytes = src.as_bytes();
    // For each kind, the next unescaped closer at or after some position: cached so that many
    // openers without a closer stay linear.
    let mut next_close: [Option<Option<usize>>; 2] = [None, None];
    let mut i = leaf.start;
    while i + 1 < leaf.end {
        // Scanning from the leaf start and skipping `\\` pairs keeps track of escapes.
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let kind = match bytes[i + 1] {
            b'(' => 0,
            b'[' => 1,
            b'\\' => {
                // An escaped backslash: skip both.
                i += 2;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let closer = if kind == 0 { b')' } else { b']' };
        let cached = match next_close[kind] {
            Some(Some(c)) if c >= i + 2 => Some(c),
            Some(None) => None,
            _ => {
                let c = find_closer(bytes, leaf.clone(), i + 2, closer);
                next_close[kind] = Some(c);
                c
            }
        };
        let Some(close) = cached else {
            i += 2;
            continue;
        };
        let whole = i..close + 2;
        let inner = &src[i + 2..close];
        if inner.trim().is_empty() || overlaps(protected, &whole) {
            i += 2;
            continue;
        }
        found.push((
            whole.clone(),
            Formula {
                tex: clean_tex(src, leaf.start, inner),
                display: kind == 1,
                source: src[whole.clone()].to_string(),
            },
        ));
        i = whole.end;
    }
}

/// The first `\` + `closer` at or after `from` whose backslash is not escaped.
fn find_closer(bytes: &[u8], leaf: Range<usize>, from: usize, closer: u8) -> Option<usize> {
    let mut j = from;
    while j + 1 < leaf.end {
        if bytes[j] == b'\\' {
            if bytes[j + 1] == closer {
                return Some(j);
            }
            // Skip the escaped character (a backslash included).
            j += 2;
        } else {
            j += 1;
        }
    }
    None
}

/// The TeX of a formula: continuation lines lose the indentation and, inside a block quote,
/// the `>` markers that belong to the markdown around it.
pub(crate) fn clean_tex(src: &str, leaf_start: usize, inner: &str) -> String {
    if !inner.contains('\n') {
        return inner.trim().to_string();
    }
    let line_start = src[..leaf_start].rfind('\n').map_or(0, |n| n + 1);
    let in_quote = src[line_start..leaf_start].contains('>');
    let mut tex = String::with_capacity(inner.len());
    for (n, line) in inner.split('\n').enumerate() {
        let line = if n == 0 {
            line
        } else if in_quote {
            line.trim_start_matches([' ', '\t', '>'])
        } else {
            line.trim_start()
        };
        if n > 0 {
            tex.push('\n');
        }
        tex.push_str(line.trim_end_matches('\r'));
    }
    tex.trim().to_string()
}
