//! The answer being written, as the transcript draws it: a markdown document fed only the
//! new text of each published frame, and a frame counter its view follows.

use confab_core::conversation::NodeId;
use confab_core::markdown::StreamingDoc;
use leptos::prelude::*;

/// Shared by the chat (which appends) and the answer's view (which draws); the view keeps
/// it after the answer settles, so nothing is drawn again. Reference-counted, not owned by
/// whichever view happened to start the answer (a Retry button goes away with its row).
#[derive(Clone)]
pub struct LiveDoc {
    pub node: NodeId,
    pub doc: ArcStoredValue<StreamingDoc>,
    /// Bumped once per published frame.
    pub frame: ArcRwSignal<u64>,
    pub reasoning: ArcRwSignal<String>,
    /// The answer settled: the view settles the document once.
    pub done: ArcRwSignal<bool>,
}

impl LiveDoc {
    /// A document for `node`, starting from the text it already has (a continued answer).
    pub fn new(node: NodeId, text: &str, reasoning: String) -> Self {
        let mut doc = StreamingDoc::new();
        doc.push(text);
        LiveDoc {
            node,
            doc: ArcStoredValue::new(doc),
            frame: ArcRwSignal::new(0),
            reasoning: ArcRwSignal::new(reasoning),
            done: ArcRwSignal::new(false),
        }
    }

    /// Appends a frame's new text: parses only the open tail.
    pub fn append(&self, text: &str, reasoning: &str) {
        if !text.is_empty() {
            self.doc.update_value(|d| d.push(text));
            self.frame.update(|f| *f += 1);
        }
        if !reasoning.is_empty() {
            self.reasoning.update(|r| r.push_str(reasoning));
        }
    }
}
