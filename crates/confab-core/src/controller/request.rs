//! The request bodies the controller sends and "View code" shows: the conversation's
//! settings, with the configured model and system prompt filling what it leaves out.

use super::{Controller, RunId};
use crate::conversation::{ImageRef, NodeId};
use crate::protocol::{ChatRequest, Role};

impl Controller {
    /// The body of `run`'s request with images given by `image_url`: for a transport that
    /// had to load the path's images first (the `images` of [`Effect::Start`]).
    pub fn request_for(
        &self,
        run: RunId,
        image_url: &dyn Fn(&ImageRef) -> Option<String>,
    ) -> Option<ChatRequest> {
        let run = self.run.as_ref().filter(|r| r.id == run)?;
        Some(self.request_upto(run.upto, image_url))
    }

    /// The request for an answer after `upto`: the conversation's settings, the configured
    /// model when it names none, the configured system prompt when it has none.
    pub(super) fn request_upto(
        &self,
        upto: NodeId,
        image_url: &dyn Fn(&ImageRef) -> Option<String>,
    ) -> ChatRequest {
        let mut request = self.conv.build_request(upto, image_url);
        if request.model.is_empty() && !self.config.model.is_empty() {
            request.model = self.config.model.clone();
        }
        crate::conversation::apply_configured_system_prompt(
            &mut request,
            &self.config.system_prompt,
        );
        request
    }

    /// What "View code" shows: the request of the last answer on the path (or for the path
    /// as it stands; an empty conversation asks `placeholder`).
    pub fn current_request(
        &self,
        placeholder: &str,
        image_url: &dyn Fn(&ImageRef) -> Option<String>,
    ) -> ChatRequest {
        let path = self.conv.active_path();
        let upto = match path.last() {
            None => None,
            Some(last) if last.role == Role::Assistant => last.parent.or(Some(last.id)),
            Some(last) => Some(last.id),
        };
        match upto {
            Some(upto) => self.request_upto(upto, image_url),
            None => {
                let mut probe = self.clone();
                let u = probe
                    .conv
                    .push_user(placeholder.to_owned(), Vec::new(), 0.0);
                probe.request_upto(u, &|_| None)
            }
        }
    }
}
