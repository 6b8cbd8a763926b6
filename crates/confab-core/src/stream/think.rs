//! Splits `<think>…</think>` out of streamed content.
//!
//! Some servers (llama.cpp without a reasoning parser, Ollama's older OpenAI layer, many
//! distilled models) put the model's reasoning inside the content, wrapped in
//! `<think>…</think>`. Only a block at the very start of the answer counts (after optional
//! whitespace): a model explaining the tag later in its answer is just text. Tags may be
//! split across deltas at any byte (`"<thi"` + `"nk>"`). Whitespace between `</think>` and
//! the answer is dropped. An unclosed block is all reasoning.

const OPEN: &str = "<think>";
const CLOSE: &str = "</think>";

/// A piece of content after splitting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Content(String),
    Reasoning(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing but whitespace seen yet: the answer may still open with `<think>`.
    Start,
    /// Inside the think block.
    Think,
    /// Right after `</think>`: leading whitespace is dropped.
    AfterThink,
    /// Plain content from here on.
    Text,
}

/// Incremental splitter; feed deltas with [`push`](Self::push), then [`flush`](Self::flush).
#[derive(Debug, Clone)]
pub struct ThinkSplitter {
    mode: Mode,
    /// Held back text: the whitespace and partial `<think>` at the start, or a partial
    /// `</think>` at the end of the think block. Never more than a few bytes plus the
    /// leading whitespace.
    pending: String,
}

impl Default for ThinkSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl ThinkSplitter {
    pub fn new() -> Self {
        ThinkSplitter {
            mode: Mode::Start,
            pending: String::new(),
        }
    }

    pub fn push(&mut self, text: &str, out: &mut Vec<Piece>) {
        if text.is_empty() {
            return;
        }
        match self.mode {
            Mode::Text => emit(out, Piece::Content(text.to_owned())),
            Mode::Start => {
                self.pending.push_str(text);
                let trimmed = self.pending.trim_start();
                if let Some(rest) = trimmed.strip_prefix(OPEN) {
                    let rest = rest.to_owned();
                    self.pending.clear();
                    self.mode = Mode::Think;
                    self.push(&rest, out);
                } else if OPEN.starts_with(trimmed) {
                    // Only whitespace, or a prefix of "<think>": wait for more.
                } else {
                    self.mode = Mode::Text;
                    let all = std::mem::take(&mut self.pending);
                    emit(out, Piece::Content(all));
                }
            }
            Mode::Think => {
                let mut buf = std::mem::take(&mut self.pending);
                buf.push_str(text);
                if let Some(i) = buf.find(CLOSE) {
                    emit(out, Piece::Reasoning(buf[..i].to_owned()));
                    self.mode = Mode::AfterThink;
                    let rest = &buf[i + CLOSE.len()..];
                    self.push(rest, out);
                } else {
                    let keep = partial_suffix(&buf, CLOSE);
                    let cut = buf.len() - keep;
                    self.pending = buf[cut..].to_owned();
                    buf.truncate(cut);
                    emit(out, Piece::Reasoning(buf));
                }
            }
            Mode::AfterThink => {
                let trimmed = text.trim_start();
                if !trimmed.is_empty() {
                    self.mode = Mode::Text;
                    emit(out, Piece::Content(trimmed.to_owned()));
                }
            }
        }
    }

    /// End of content: releases held back text.
    pub fn flush(&mut self, out: &mut Vec<Piece>) {
        let pending = std::mem::take(&mut self.pending);
        match self.mode {
            Mode::Start => {
                self.mode = Mode::Text;
                emit(out, Piece::Content(pending));
            }
            Mode::Think => emit(out, Piece::Reasoning(pending)),
            Mode::AfterThink | Mode::Text => {}
        }
    }
}

fn emit(out: &mut Vec<Piece>, piece: Piece) {
    match &piece {
        Piece::Content(s) | Piece::Reasoning(s) if s.is_empty() => {}
        _ => out.push(piece),
    }
}

/// Length of the longest proper prefix of `tag` that `s` ends with.
fn partial_suffix(s: &str, tag: &str) -> usize {
    (1..tag.len())
        .rev()
        .find(|&k| s.as_bytes().ends_with(&tag.as_bytes()[..k]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn split(deltas: &[&str]) -> (String, String) {
        let mut s = ThinkSplitter::new();
        let mut out = Vec::new();
        for d in deltas {
            s.push(d, &mut out);
        }
        s.flush(&mut out);
        let mut content = String::new();
        let mut reasoning = String::new();
        for p in out {
            match p {
                Piece::Content(t) => content.push_str(&t),
                Piece::Reasoning(t) => reasoning.push_str(&t),
            }
        }
        (content, reasoning)
    }

    #[test]
    fn a_leading_think_block_is_reasoning() {
        assert_eq!(
            split(&["<think>Let me see.</think>\n\nThe answer is 4."]),
            ("The answer is 4.".into(), "Let me see.".into())
        );
    }

    #[test]
    fn tags_split_across_deltas() {
        assert_eq!(
            split(&["<thi", "nk>", "hmm", "</th", "ink", ">", "\n", "\n", "Yes"]),
            ("Yes".into(), "hmm".into())
        );
        assert_eq!(
            split(&["\n", "<", "t", "h", "i", "n", "k", ">a", "<", "/", "think", ">b"]),
            ("b".into(), "a".into())
        );
    }

    #[test]
    fn reasoning_streams_out_without_waiting_for_the_close_tag() {
        let mut s = ThinkSplitter::new();
        let mut out = Vec::new();
        s.push("<think>step one", &mut out);
        assert_eq!(out, vec![Piece::Reasoning("step one".into())]);
        out.clear();
        // A possible start of "</think>" is held back, then released when it is not.
        s.push(" a </", &mut out);
        assert_eq!(out, vec![Piece::Reasoning(" a ".into())]);
        out.clear();
        s.push("b> c", &mut out);
        assert_eq!(out, vec![Piece::Reasoning("</b> c".into())]);
    }

    #[test]
    fn content_without_think_passes_through_at_once() {
        let mut s = ThinkSplitter::new();
        let mut out = Vec::new();
        s.push("Hello", &mut out);
        assert_eq!(out, vec![Piece::Content("Hello".into())]);
    }

    #[test]
    fn a_think_tag_later_in_the_answer_is_text() {
        assert_eq!(
            split(&["Use the ", "<think>", " tag.</think>"]),
            ("Use the <think> tag.</think>".into(), String::new())
        );
    }

    #[test]
    fn a_lone_lt_at_the_start_is_released_when_it_is_not_a_tag() {
        assert_eq!(split(&["<", "b>bold"]), ("<b>bold".into(), String::new()));
        assert_eq!(split(&["<thin"]), ("<thin".into(), String::new()));
        assert_eq!(split(&["<think"]), ("<think".into(), String::new()));
        assert_eq!(split(&["  "]), ("  ".into(), String::new()));
    }

    #[test]
    fn an_unclosed_block_is_all_reasoning() {
        assert_eq!(
            split(&["<think>still thinking when the tokens ran out </thi"]),
            (
                String::new(),
                "still thinking when the tokens ran out </thi".into()
            )
        );
    }

    #[test]
    fn an_empty_think_block_leaves_just_the_answer() {
        assert_eq!(
            split(&["<think>\n\n</think>\n\nHi"]),
            ("Hi".into(), "\n\n".into())
        );
    }

    #[test]
    fn only_the_first_close_tag_ends_the_block() {
        assert_eq!(
            split(&["<think>a</think>b</think>c"]),
            ("b</think>c".into(), "a".into())
        );
    }

    #[test]
    fn multibyte_text_around_tags() {
        assert_eq!(
            split(&["<think>思考", "中</", "think>答案 🎉"]),
            ("答案 🎉".into(), "思考中".into())
        );
    }

    proptest! {
        #[test]
        fn any_split_gives_the_same_result(
            text in prop_oneof![
                Just("<think>reason</think>\n\nanswer".to_owned()),
                Just("  <think>a</thin</think>b<think>c".to_owned()),
                Just("<thinking>no</think>".to_owned()),
                Just("plain </think> text".to_owned()),
                "[<>/thinkab \n]{0,40}",
            ],
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (text.len() + 1)).collect();
            cuts.sort_unstable();
            let mut deltas = Vec::new();
            let mut prev = 0;
            for c in cuts.into_iter().chain([text.len()]) {
                deltas.push(&text[prev..c]);
                prev = c;
            }
            prop_assert_eq!(split(&deltas), split(&[&text]));
        }
    }
}
