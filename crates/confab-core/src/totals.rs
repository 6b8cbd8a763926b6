//! Token usage of a whole conversation, as the playground shows it.

use crate::conversation::Conversation;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Answers that reported usage.
    pub answers: usize,
    pub prompt: u64,
    pub completion: u64,
    pub total: u64,
}

impl UsageTotals {
    /// Sums the usage of every answer, on every branch (all of them were paid for).
    pub fn of(conv: &Conversation) -> Self {
        conv.nodes
            .iter()
            .filter_map(|n| n.usage)
            .fold(UsageTotals::default(), |t, u| UsageTotals {
                answers: t.answers + 1,
                prompt: t.prompt + u.prompt_tokens as u64,
                completion: t.completion + u.completion_tokens as u64,
                total: t.total + u.total_tokens as u64,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{StreamEvent, Usage};

    #[test]
    fn usage_is_summed_over_every_branch() {
        let mut c = Conversation::new("c".into(), 0.0);
        assert_eq!(UsageTotals::of(&c), UsageTotals::default());
        let u = c.push_user("q".into(), vec![], 0.0);
        let a = c.start_assistant(u, 0.0);
        let usage = |p, k| Usage {
            prompt_tokens: p,
            completion_tokens: k,
            total_tokens: p + k,
        };
        c.apply(a, &StreamEvent::Usage(usage(3, 4)));
        let b = c.regenerate(a, 1.0);
        c.apply(b, &StreamEvent::Usage(usage(3, 10)));
        let t = UsageTotals::of(&c);
        assert_eq!((t.answers, t.prompt, t.completion, t.total), (2, 6, 14, 20));
    }
}
