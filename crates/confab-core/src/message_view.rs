//! How a message shows: its marker, its error, which actions it offers. One rule for the
//! widget, the playground and the tests.

use crate::conversation::{MessageState, Node};
use crate::error::ApiError;
use crate::protocol::Role;
use crate::stream::{FinishReason, Usage};

/// A note under an answer that ended early without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Stopped,
    Interrupted,
}

/// What a message's row shows besides its text.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageView {
    pub is_user: bool,
    /// `done`, `streaming`, … (the row's `data-state`).
    pub state: &'static str,
    pub streaming: bool,
    pub marker: Option<Marker>,
    pub error: Option<ApiError>,
    /// Copy, edit or regenerate: not while the answer is arriving.
    pub actions: bool,
    /// "Continue": an answer cut at the length limit.
    pub can_continue: bool,
    pub usage: Option<Usage>,
}

impl MessageView {
    pub fn of(node: &Node) -> Self {
        let marker = match node.state {
            MessageState::Stopped => Some(Marker::Stopped),
            MessageState::Interrupted => Some(Marker::Interrupted),
            _ => None,
        };
        MessageView {
            is_user: node.role == Role::User,
            state: node.state.as_str(),
            streaming: node.is_streaming(),
            marker,
            error: node.error().cloned(),
            actions: !node.is_streaming(),
            can_continue: can_continue(node),
            usage: node.usage,
        }
    }
}

/// Whether the model may be asked to go on with this answer: it stopped at the length
/// limit, did not fail and is not arriving.
pub fn can_continue(node: &Node) -> bool {
    node.role == Role::Assistant
        && !node.is_streaming()
        && node.finish == Some(FinishReason::Length)
        && node.error().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Conversation;
    use crate::error::ErrorKind;

    fn answer(finish: Option<FinishReason>, state: MessageState) -> Node {
        let mut c = Conversation::new("c".into(), 0.0);
        let u = c.push_user("q".into(), vec![], 0.0);
        let a = c.start_assistant(u, 0.0);
        let mut n = c.node(a).unwrap().clone();
        n.text = "partial".into();
        n.finish = finish;
        n.state = state;
        n
    }

    #[test]
    fn an_answer_at_the_length_limit_offers_continue_and_nothing_else_does() {
        let cut = answer(Some(FinishReason::Length), MessageState::Done);
        assert!(MessageView::of(&cut).can_continue);
        let done = answer(Some(FinishReason::Stop), MessageState::Done);
        assert!(!MessageView::of(&done).can_continue);
        let failed = ApiError {
            kind: ErrorKind::Stream,
            status: None,
            message: "x".into(),
            code: None,
            retry_after_secs: None,
        };
        let bad = answer(Some(FinishReason::Length), MessageState::Failed(failed));
        assert!(!MessageView::of(&bad).can_continue);
        assert!(MessageView::of(&bad).error.is_some());
    }

    #[test]
    fn a_streaming_answer_has_no_actions_and_stopped_ones_say_so() {
        let live = MessageView::of(&answer(None, MessageState::Streaming));
        assert!(live.streaming && !live.actions && live.state == "streaming");
        let stopped = MessageView::of(&answer(None, MessageState::Stopped));
        assert_eq!(stopped.marker, Some(Marker::Stopped));
        assert!(stopped.actions);
        let gone = MessageView::of(&answer(None, MessageState::Interrupted));
        assert_eq!(gone.marker, Some(Marker::Interrupted));
    }
}
