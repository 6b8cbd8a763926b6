//! Which endpoint a conversation may be sent to.
//!
//! A conversation remembers the chat URL it was first sent to (`Conversation::endpoint`,
//! absolute, resolved by the widget against the page) and is only ever sent there again.
//! Changing where it goes is an explicit act: the user's "Send it to …" button or a change
//! in the endpoint form, or the site owner's `setConfig({endpoint})`. A link that points
//! the page at another endpoint therefore cannot carry a stored conversation with it.

use super::Conversation;

/// How the conversation stands against the endpoint now configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointCheck {
    /// Made with the endpoint now configured: it may be sent.
    Same,
    /// Nothing sent yet: the first request binds it.
    Unbound,
    /// Has messages but no endpoint: saved by a Confab from before conversations were
    /// bound, or imported from such a file. Where it went is unknown, so like `Moved` it is
    /// sent nowhere until the user confirms the endpoint (a link must not carry it off).
    Unconfirmed,
    /// Made with another endpoint (`bound`): nothing is sent until the user rebinds it.
    Moved { bound: String },
}

impl EndpointCheck {
    /// Whether a request to the configured endpoint may go out.
    pub fn may_send(&self) -> bool {
        !matches!(
            self,
            EndpointCheck::Moved { .. } | EndpointCheck::Unconfirmed
        )
    }
}

impl Conversation {
    /// Compares the endpoint this conversation is bound to with `current` (the absolute
    /// chat URL now configured). URLs are compared exactly, after trimming: the widget
    /// gives both in the browser's normalised form.
    pub fn endpoint_check(&self, current: &str) -> EndpointCheck {
        let bound = self.endpoint.trim();
        if bound.is_empty() && !self.nodes.is_empty() {
            EndpointCheck::Unconfirmed
        } else if bound.is_empty() {
            EndpointCheck::Unbound
        } else if bound == current.trim() {
            EndpointCheck::Same
        } else {
            EndpointCheck::Moved {
                bound: bound.to_owned(),
            }
        }
    }

    /// Call before a request to `current`: an unbound conversation becomes bound to it and
    /// the request may go (`Ok`); one made with another endpoint is left as it is and the
    /// request is refused (`Err` with the endpoint it was made with, empty when unknown).
    pub fn claim_endpoint(&mut self, current: &str) -> Result<(), String> {
        match self.endpoint_check(current) {
            EndpointCheck::Same => Ok(()),
            EndpointCheck::Unbound => {
                self.endpoint = current.trim().to_owned();
                Ok(())
            }
            EndpointCheck::Moved { bound } => Err(bound),
            EndpointCheck::Unconfirmed => Err(String::new()),
        }
    }

    /// The user (or the site owner) chose `current` for this conversation: it is bound to
    /// it from now on. A blank `current` changes nothing.
    pub fn rebind_endpoint(&mut self, current: &str) {
        let current = current.trim();
        if !current.is_empty() {
            self.endpoint = current.to_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "http://127.0.0.1:8797/v1/chat/completions";
    const B: &str = "https://elsewhere.example/v1/chat/completions";

    fn conv() -> Conversation {
        Conversation::new("c1".into(), 0.0)
    }

    #[test]
    fn a_new_conversation_is_unbound_and_the_first_request_binds_it() {
        let mut c = conv();
        assert_eq!(c.endpoint_check(A), EndpointCheck::Unbound);
        assert!(c.endpoint_check(A).may_send());
        assert_eq!(c.claim_endpoint(A), Ok(()));
        assert_eq!(c.endpoint, A);
        assert_eq!(c.endpoint_check(A), EndpointCheck::Same);
        assert_eq!(c.claim_endpoint(A), Ok(()));
    }

    #[test]
    fn a_conversation_made_with_another_endpoint_is_refused_and_kept() {
        let mut c = conv();
        c.claim_endpoint(A).unwrap();
        assert_eq!(
            c.endpoint_check(B),
            EndpointCheck::Moved { bound: A.into() }
        );
        assert!(!c.endpoint_check(B).may_send());
        assert_eq!(c.claim_endpoint(B), Err(A.to_owned()));
        assert_eq!(c.endpoint, A, "a refused request does not rebind");
    }

    #[test]
    fn rebinding_is_the_only_way_to_another_endpoint() {
        let mut c = conv();
        c.claim_endpoint(A).unwrap();
        c.rebind_endpoint(B);
        assert_eq!(c.endpoint, B);
        assert_eq!(c.endpoint_check(B), EndpointCheck::Same);
        assert_eq!(
            c.endpoint_check(A),
            EndpointCheck::Moved { bound: B.into() }
        );
        c.rebind_endpoint("  ");
        assert_eq!(c.endpoint, B, "a blank endpoint changes nothing");
    }

    #[test]
    fn the_binding_is_stored_and_old_files_need_the_user_to_confirm_it() {
        let mut c = conv();
        assert!(
            !c.to_json().contains("\"endpoint\""),
            "unbound: not written"
        );
        c.claim_endpoint(A).unwrap();
        let back = Conversation::from_json(&c.to_json()).unwrap();
        assert_eq!(back.endpoint, A);
        let old = r#"{"format_version":1,"id":"old","nodes":[{"id":0,"role":"user","text":"hi"}]}"#;
        let old = Conversation::from_json(old).unwrap();
        assert_eq!(old.endpoint, "");
        // Its messages went somewhere unknown: a link's endpoint must not simply take it.
        assert_eq!(old.endpoint_check(B), EndpointCheck::Unconfirmed);
        assert!(!old.endpoint_check(B).may_send());
        let mut old = old;
        assert_eq!(old.claim_endpoint(B), Err(String::new()));
        assert_eq!(old.endpoint, "", "a refused request does not bind");
        old.rebind_endpoint(A);
        assert_eq!(old.endpoint_check(A), EndpointCheck::Same);
    }

    #[test]
    fn endpoints_are_compared_exactly_after_trimming() {
        let mut c = conv();
        c.claim_endpoint(&format!(" {A} ")).unwrap();
        assert_eq!(c.endpoint, A);
        assert_eq!(c.endpoint_check(&format!("{A}\n")), EndpointCheck::Same);
        assert_eq!(
            c.endpoint_check("http://127.0.0.1:8797/v1/chat/completions?x=1"),
            EndpointCheck::Moved { bound: A.into() }
        );
    }
}
