//! What the controller asks of the world, and why it refuses a command.

use crate::conversation::{Conversation, NodeId};
use crate::protocol::ChatRequest;

/// Identifies one request, so events of an aborted or replaced one are dropped.
pub type RunId = u64;

pub type Effects = Vec<Effect>;

/// What the panel is doing. Errors are not a status: they belong to the message that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ready,
    /// Request sent, nothing received yet.
    Submitted,
    Streaming,
}

/// How a request ended when it did not end with an error event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    /// The user pressed Stop (or the view went away).
    Aborted,
}

/// What the polite live region says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Answering,
    Complete,
    /// Nothing: the error itself is shown as an alert.
    Clear,
}

/// Work for the binding, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// POST `request` to `endpoint`; hand its events to `Controller::event(run, …)` and its
    /// end to `Controller::settled(run, …)`. `images` are the ids of the images on the path:
    /// when some must be loaded first, rebuild the body with `Controller::request_for`.
    Start {
        run: RunId,
        answer: NodeId,
        endpoint: String,
        request: Box<ChatRequest>,
        images: Vec<String>,
    },
    /// Abort the request of `run`; it settles as `Outcome::Aborted`.
    Abort(RunId),
    /// Save the conversation shown.
    Persist,
    /// Save this conversation, no longer shown (its answer was stopped when leaving it).
    SaveOther(Box<Conversation>),
    Announce(Announcement),
    Status(Status),
    /// The messages on the path changed (added, or another branch shown).
    Path,
    /// The settled state of a message changed (state, finish, usage, error).
    Node(NodeId),
    /// Title, settings or endpoint binding of the conversation changed.
    Meta,
    /// Another conversation is shown.
    Replaced,
    /// Text of the answer `node` that arrived since the last publish: append it.
    Publish {
        node: NodeId,
        text: String,
        reasoning: String,
    },
    /// Call `Controller::tick` at this time: text is waiting for its turn.
    TickAt(f64),
    /// The failed `node` may be retried from this time: show a countdown.
    RetryAt {
        node: NodeId,
        at_ms: f64,
    },
    /// An answer ended (done, stopped or failed): tell the host page.
    Settled(NodeId),
}

/// Why a command changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An answer is running.
    Busy,
    /// Nothing to send.
    Empty,
    /// No such message, or not one the command applies to.
    NotFound,
    /// The conversation was made with another endpoint (`bound`, empty when it was saved
    /// before conversations were bound); rebind it first.
    EndpointMoved { bound: String },
    /// Sending again cannot help (`ApiError::is_retryable`).
    NotRetryable,
    /// The server asked to wait this many more seconds.
    Waiting { secs: u64 },
}
