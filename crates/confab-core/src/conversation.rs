//! A conversation as a tree of messages, so edits and regenerations keep every branch.
//!
//! Nodes live in a `Vec` indexed by their id and only ever get added, so looking a node up
//! and appending streamed text are O(1), and the active path is one walk up the parents
//! (O(depth)). Each node remembers which child was last shown (`active_child`), so switching
//! to a sibling brings back the branch the user last saw under it.
//!
//! The JSON form carries `format_version`; files from a newer Confab are refused with a
//! clear message instead of being half read, and fields added later get defaults so older
//! files keep loading.

use crate::error::ApiError;
use crate::protocol::{
    ChatMessage, ChatRequest, ContentPart, ImageDetail, ImageUrl, ResponseFormat, Role, Stop,
};
use crate::stream::{FinishReason, StreamEvent, Usage};
use serde::{Deserialize, Serialize};

mod binding;
pub use binding::EndpointCheck;

/// The format this version writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Characters of the first user message used as the default title.
pub const TITLE_CHARS: usize = 40;

pub type NodeId = u32;

/// Request parameters of a conversation. Unset (`None`) parameters are left out of the
/// request so the server's defaults apply.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub model: String,
    pub system_prompt: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    pub json_mode: bool,
}

/// An image attached to a user message. The bytes live elsewhere (a Blob in IndexedDB);
/// the conversation keeps what is needed to show and cost it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// Key of the Blob in IndexedDB.
    pub id: String,
    #[serde(default)]
    pub mime: String,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub detail: ImageDetail,
    #[serde(default)]
    pub name: String,
}

/// Where a message stands.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    #[default]
    Done,
    /// The answer is arriving.
    Streaming,
    /// The user stopped it; the partial text is kept.
    Stopped,
    /// The page was closed or reloaded while it was arriving.
    Interrupted,
    /// It failed; any partial text is kept.
    Failed(ApiError),
}

impl MessageState {
    /// The state's name, as the widget shows it in `data-state` (`done`, `streaming`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageState::Done => "done",
            MessageState::Streaming => "streaming",
            MessageState::Stopped => "stopped",
            MessageState::Interrupted => "interrupted",
            MessageState::Failed(_) => "failed",
        }
    }
}

/// One message in the tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<NodeId>,
    pub role: Role,
    #[serde(default)]
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reasoning: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
    #[serde(default)]
    pub state: MessageState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<FinishReason>,
    #[serde(default)]
    pub created_ms: f64,
    /// The child shown last under this node, so switching branches restores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_child: Option<NodeId>,
}

impl Node {
    /// Whether the answer is still arriving.
    pub fn is_streaming(&self) -> bool {
        self.state == MessageState::Streaming
    }

    /// The error, for a failed message.
    pub fn error(&self) -> Option<&ApiError> {
        match &self.state {
            MessageState::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// A conversation: settings plus a tree of messages with one active path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub format_version: u32,
    pub id: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub created_ms: f64,
    #[serde(default)]
    pub updated_ms: f64,
    #[serde(default)]
    pub settings: Settings,
    /// All messages; `nodes[i].id == i`, and a parent always comes before its children.
    #[serde(default)]
    pub nodes: Vec<Node>,
    /// The last message of the path shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<NodeId>,
    /// The absolute chat URL this conversation was first sent to; empty until then (and in
    /// files from before conversations were bound). See [`Conversation::endpoint_check`].
    /// Not a setting: a new conversation that keeps the settings is not bound.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
}

impl Conversation {
    pub fn new(id: String, now_ms: f64) -> Self {
        Conversation {
            format_version: FORMAT_VERSION,
            id,
            title: String::new(),
            created_ms: now_ms,
            updated_ms: now_ms,
            settings: Settings::default(),
            nodes: Vec::new(),
            active: None,
            endpoint: String::new(),
        }
    }

    /// The conversation "New chat" starts after this one: empty, with this one's
    /// settings (the playground's parameters carry over), never its endpoint binding.
    pub fn successor(&self, id: String, now_ms: f64) -> Conversation {
        let mut next = Conversation::new(id, now_ms);
        next.settings = self.settings.clone();
        next
    }

    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        self.nodes.get_mut(id as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The last message of the active path.
    pub fn active_leaf(&self) -> Option<NodeId> {
        self.active
    }

    /// The messages shown: from the root to the active leaf.
    pub fn active_path(&self) -> Vec<&Node> {
        match self.active {
            Some(leaf) => self.path_to(leaf),
            None => Vec::new(),
        }
    }

    /// The messages from the root down to `id`, inclusive.
    pub fn path_to(&self, id: NodeId) -> Vec<&Node> {
        let mut path = Vec::new();
        let mut cur = self.node(id);
        while let Some(n) = cur {
            path.push(n);
            // Parents always have smaller ids (checked on load), so this ends.
            cur = n.parent.filter(|&p| p < n.id).and_then(|p| self.node(p));
        }
        path.reverse();
        path
    }

    /// The children of `parent` (`None`: the roots), oldest first.
    pub fn children(&self, parent: Option<NodeId>) -> Vec<NodeId> {
        let start = parent.map_or(0, |p| p as usize + 1);
        self.nodes
            .iter()
            .skip(start)
            .filter(|n| n.parent == parent)
            .map(|n| n.id)
            .collect()
    }

    /// Whether any answer is still streaming.
    pub fn is_streaming(&self) -> bool {
        self.nodes.iter().any(Node::is_streaming)
    }

    fn add(
        &mut self,
        parent: Option<NodeId>,
        role: Role,
        text: String,
        images: Vec<ImageRef>,
        state: MessageState,
        now_ms: f64,
    ) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let parent = parent.filter(|&p| (p as usize) < self.nodes.len());
        self.nodes.push(Node {
            id,
            parent,
            role,
            text,
            reasoning: String::new(),
            images,
            state,
            usage: None,
            finish: None,
            created_ms: now_ms,
            active_child: None,
        });
        self.set_active(id);
        self.touch(now_ms);
        id
    }

    fn touch(&mut self, now_ms: f64) {
        if now_ms > self.updated_ms {
            self.updated_ms = now_ms;
        }
    }

    /// Makes `leaf` the end of the active path and records the path in each ancestor.
    fn set_active(&mut self, leaf: NodeId) {
        if self.node(leaf).is_none() {
            return;
        }
        self.active = Some(leaf);
        let mut child = leaf;
        while let Some(parent) = self.nodes[child as usize].parent.filter(|&p| p < child) {
            self.nodes[parent as usize].active_child = Some(child);
            child = parent;
        }
    }

    /// Adds a user message after the active leaf and makes it active.
    pub fn push_user(&mut self, text: String, images: Vec<ImageRef>, now_ms: f64) -> NodeId {
        let parent = self.active;
        self.add(parent, Role::User, text, images, MessageState::Done, now_ms)
    }

    /// Starts an answer under `parent` (streaming, empty) and makes it active.
    pub fn start_assistant(&mut self, parent: NodeId, now_ms: f64) -> NodeId {
        self.add(
            Some(parent),
            Role::Assistant,
            String::new(),
            Vec::new(),
            MessageState::Streaming,
            now_ms,
        )
    }

    pub fn append_content(&mut self, id: NodeId, text: &str) {
        if let Some(n) = self.node_mut(id) {
            n.text.push_str(text);
        }
    }

    pub fn append_reasoning(&mut self, id: NodeId, text: &str) {
        if let Some(n) = self.node_mut(id) {
            n.reasoning.push_str(text);
        }
    }

    pub fn set_usage(&mut self, id: NodeId, usage: Usage) {
        if let Some(n) = self.node_mut(id) {
            n.usage = Some(usage);
        }
    }

    /// The model finished: the message is done.
    pub fn finish(&mut self, id: NodeId, reason: FinishReason) {
        if let Some(n) = self.node_mut(id) {
            n.finish = Some(reason);
            if !matches!(n.state, MessageState::Failed(_)) {
                n.state = MessageState::Done;
            }
        }
    }

    /// The user stopped the answer; the partial text stays. A finished answer stays done.
    pub fn stop(&mut self, id: NodeId) {
        if let Some(n) = self.node_mut(id) {
            if n.state == MessageState::Streaming {
                n.state = MessageState::Stopped;
            }
        }
    }

    /// The answer failed; the partial text stays.
    pub fn fail(&mut self, id: NodeId, error: ApiError) {
        if let Some(n) = self.node_mut(id) {
            n.state = MessageState::Failed(error);
        }
    }

    /// Applies one stream event to the answer `id`.
    pub fn apply(&mut self, id: NodeId, event: &StreamEvent) {
        match event {
            StreamEvent::Content(t) => self.append_content(id, t),
            StreamEvent::Reasoning(t) => self.append_reasoning(id, t),
            StreamEvent::Usage(u) => self.set_usage(id, *u),
            StreamEvent::Finish(r) => self.finish(id, r.clone()),
            StreamEvent::Error(e) => self.fail(id, e.clone()),
        }
    }

    /// Edits a user message: the edit is a new sibling (the original branch is kept) and
    /// becomes active.
    pub fn edit_user(
        &mut self,
        id: NodeId,
        new_text: String,
        images: Vec<ImageRef>,
        now_ms: f64,
    ) -> NodeId {
        let parent = match self.node(id) {
            Some(n) => n.parent,
            None => self.active,
        };
        self.add(
            parent,
            Role::User,
            new_text,
            images,
            MessageState::Done,
            now_ms,
        )
    }

    /// Asks again: a new, streaming sibling of the answer `assistant_id`.
    pub fn regenerate(&mut self, assistant_id: NodeId, now_ms: f64) -> NodeId {
        let parent = self.node(assistant_id).and_then(|n| n.parent);
        self.add(
            parent,
            Role::Assistant,
            String::new(),
            Vec::new(),
            MessageState::Streaming,
            now_ms,
        )
    }

    /// Position of `id` among its siblings: (1-based index, count); (0, 0) if unknown.
    /// One pass over the nodes without allocating, so showing it on every message of a
    /// 1,000-message conversation stays around a millisecond.
    pub fn siblings(&self, id: NodeId) -> (usize, usize) {
        let Some(node) = self.node(id) else {
            return (0, 0);
        };
        let start = node.parent.map_or(0, |p| p as usize + 1);
        let (mut index, mut count) = (0, 0);
        for n in &self.nodes[start..] {
            if n.parent == node.parent {
                count += 1;
                if n.id == id {
                    index = count;
                }
            }
        }
        (index, count)
    }

    /// Shows the sibling `delta` places from `id` (clamped to the first and last), with the
    /// branch last seen under it. Returns the sibling now shown.
    pub fn switch_sibling(&mut self, id: NodeId, delta: i32) -> Option<NodeId> {
        let node = self.node(id)?;
        let sibs = self.children(node.parent);
        let index = sibs.iter().position(|&s| s == id)? as i64;
        let target = (index + delta as i64).clamp(0, sibs.len() as i64 - 1) as usize;
        let target = sibs[target];
        let leaf = self.last_seen_leaf(target);
        self.set_active(leaf);
        Some(target)
    }

    /// Follows `active_child` down from `id` (or the newest child where none is recorded).
    fn last_seen_leaf(&self, id: NodeId) -> NodeId {
        let mut cur = id;
        loop {
            let recorded = self.nodes[cur as usize]
                .active_child
                .filter(|&c| self.node(c).is_some_and(|n| n.parent == Some(cur)));
            let next = recorded.or_else(|| self.children(Some(cur)).last().copied());
            match next {
                Some(c) if c > cur => cur = c,
                _ => return cur,
            }
        }
    }

    /// The messages to send for an answer after `upto`: the system prompt (if any), then
    /// the path from the root to `upto`. Answers with no text (failed, stopped or still
    /// empty) are left out; reasoning is never sent back. Images whose URL `image_url`
    /// cannot produce (e.g. a missing blob) are left out.
    pub fn request_messages(
        &self,
        upto: NodeId,
        image_url: impl Fn(&ImageRef) -> Option<String>,
    ) -> Vec<ChatMessage> {
        let mut out = Vec::new();
        if !self.settings.system_prompt.trim().is_empty() {
            out.push(ChatMessage::text(
                Role::System,
                self.settings.system_prompt.clone(),
            ));
        }
        for node in self.path_to(upto) {
            match node.role {
                Role::Assistant if node.text.trim().is_empty() => {}
                Role::User if !node.images.is_empty() => {
                    let mut parts = Vec::new();
                    if !node.text.is_empty() {
                        parts.push(ContentPart::Text {
                            text: node.text.clone(),
                        });
                    }
                    for img in &node.images {
                        if let Some(url) = image_url(img) {
                            parts.push(ContentPart::ImageUrl {
                                image_url: ImageUrl {
                                    url,
                                    detail: Some(img.detail),
                                },
                            });
                        }
                    }
                    let has_image = parts
                        .iter()
                        .any(|p| matches!(p, ContentPart::ImageUrl { .. }));
                    if has_image {
                        out.push(ChatMessage::parts(Role::User, parts));
                    } else {
                        out.push(ChatMessage::text(Role::User, node.text.clone()));
                    }
                }
                role => out.push(ChatMessage::text(role, node.text.clone())),
            }
        }
        out
    }

    /// The streaming request for an answer after `upto`, with this conversation's settings.
    pub fn build_request(
        &self,
        upto: NodeId,
        image_url: impl Fn(&ImageRef) -> Option<String>,
    ) -> ChatRequest {
        let s = &self.settings;
        let mut req =
            ChatRequest::streaming(s.model.trim(), self.request_messages(upto, image_url));
        req.temperature = s.temperature;
        req.top_p = s.top_p;
        req.max_tokens = s.max_tokens;
        req.presence_penalty = s.presence_penalty;
        req.frequency_penalty = s.frequency_penalty;
        req.seed = s.seed;
        let mut stops: Vec<String> = s.stop.iter().filter(|x| !x.is_empty()).cloned().collect();
        req.stop = match stops.len() {
            0 => None,
            1 => stops.pop().map(Stop::One),
            _ => Some(Stop::Many(stops)),
        };
        if s.json_mode {
            req.response_format = Some(ResponseFormat::json_object());
        }
        req
    }

    /// Answers that were streaming when the page went away become interrupted. Call after
    /// loading from storage. Returns how many changed.
    pub fn mark_interrupted(&mut self) -> usize {
        let mut changed = 0;
        for n in &mut self.nodes {
            if n.state == MessageState::Streaming {
                n.state = MessageState::Interrupted;
                changed += 1;
            }
        }
        changed
    }

    /// The title, or one made from the first user message, or "New chat".
    pub fn title_or_default(&self) -> String {
        let title = self.title.trim();
        if !title.is_empty() {
            return title.to_owned();
        }
        let first_user = self
            .active_path()
            .into_iter()
            .find(|n| n.role == Role::User)
            .or_else(|| self.nodes.iter().find(|n| n.role == Role::User));
        match first_user {
            Some(n) => {
                let text = n.text.split_whitespace().collect::<Vec<_>>().join(" ");
                if text.is_empty() {
                    if n.images.is_empty() {
                        "New chat".to_owned()
                    } else {
                        "Image".to_owned()
                    }
                } else {
                    shorten(&text, TITLE_CHARS)
                }
            }
            None => "New chat".to_owned(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a conversation always serializes")
    }

    /// Reads a conversation, refusing files from a newer Confab and repairing what can be
    /// repaired (an invalid active message or branch memory).
    pub fn from_json(json: &str) -> Result<Conversation, String> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
            format!("This is not a Confab conversation: it is not valid JSON ({e}).")
        })?;
        let version = match value.get("format_version") {
            Some(v) => v.as_u64().ok_or_else(|| {
                "This is not a Confab conversation: its format_version is not a number.".to_owned()
            })?,
            None => {
                return Err(
                    "This is not a Confab conversation: it has no format_version.".to_owned(),
                )
            }
        };
        if version > FORMAT_VERSION as u64 {
            return Err(format!(
                "This conversation was saved by a newer version of Confab (format {version}); \
                 this version reads format {FORMAT_VERSION}. Update Confab to open it."
            ));
        }
        if version < 1 {
            return Err(format!(
                "This conversation uses format {version}, which Confab does not know."
            ));
        }
        let mut conv: Conversation = serde_json::from_value(value)
            .map_err(|e| format!("This conversation file is damaged: {e}."))?;
        conv.check_and_repair()?;
        Ok(conv)
    }

    fn check_and_repair(&mut self) -> Result<(), String> {
        for (i, n) in self.nodes.iter().enumerate() {
            if n.id as usize != i {
                return Err(format!(
                    "This conversation file is damaged: message {i} has id {}.",
                    n.id
                ));
            }
            if let Some(p) = n.parent {
                if p >= n.id {
                    return Err(format!(
                        "This conversation file is damaged: message {} has parent {p}.",
                        n.id
                    ));
                }
            }
        }
        for i in 0..self.nodes.len() {
            if let Some(c) = self.nodes[i].active_child {
                if self.node(c).map(|n| n.parent) != Some(Some(i as NodeId)) {
                    self.nodes[i].active_child = None;
                }
            }
        }
        match self.active {
            Some(a) if self.node(a).is_some() => {}
            _ if self.nodes.is_empty() => self.active = None,
            _ => {
                // Show the newest branch.
                let leaf = self.nodes.len() as NodeId - 1;
                self.set_active(leaf);
            }
        }
        Ok(())
    }
}

/// At most `max` characters, cut at a word boundary when one is near, with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let head = &text[..cut];
            let head = match head.rfind(' ') {
                Some(space) if head[..space].chars().count() >= max / 2 => &head[..space],
                _ => head,
            };
            format!("{}…", head.trim_end())
        }
    }
}

/// Puts the widget's configured system prompt (`data-system-prompt`, `?system-prompt=`,
/// `setConfig({systemPrompt})`) first in `request`, as `{"role":"system","content":prompt}`.
///
/// The conversation's own system prompt wins: when the request built from the
/// conversation already starts with a system message (the playground's per-conversation
/// "System prompt" setting), it is left as it is, so the two are never both sent. A blank
/// `prompt` changes nothing. The embed has no per-conversation prompt, so there the
/// configured one is always sent. (confab-server's `--system-prompt` is separate: the proxy
/// adds it in front of whatever the page sends.)
pub fn apply_configured_system_prompt(request: &mut ChatRequest, prompt: &str) {
    if prompt.trim().is_empty() {
        return;
    }
    if request
        .messages
        .first()
        .is_some_and(|m| m.role == Role::System)
    {
        return;
    }
    request
        .messages
        .insert(0, ChatMessage::text(Role::System, prompt));
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod system_prompt_tests;
