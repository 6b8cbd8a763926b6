//! Reads a proxied answer as it is relayed, for its token usage and its time to first
//! token, without holding it up: the upstream's `usage` (asked for with
//! `stream_options.include_usage`) when it sends one, else an estimate of 4 characters a
//! token over the prompt's text and the answer's content and reasoning. When the answer
//! ends or the client leaves, the tokens go to the budgets and the metrics.

use std::time::Instant;

use confab_core::sse::SseDecoder;
use serde::Deserialize;

use crate::budget::BudgetKey;
use crate::AppState;

/// A non-streamed answer is read for its `usage` up to this size.
const MAX_JSON: usize = 4 * 1024 * 1024;
/// Characters per token in an estimate.
const CHARS_PER_TOKEN: u64 = 4;

pub struct UsageTap {
    st: AppState,
    who: Option<BudgetKey>,
    sse: Option<SseDecoder>,
    json: Vec<u8>,
    usage: Option<Usage>,
    prompt_chars: u64,
    answer_chars: u64,
    started: Instant,
    first_token_seen: bool,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    choices: Option<Vec<Choice>>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Text>,
    #[serde(default)]
    message: Option<Text>,
}

#[derive(Deserialize)]
struct Text {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
}

impl UsageTap {
    /// `started`: when the request went upstream (for the time to first token).
    pub fn new(
        st: AppState,
        who: Option<BudgetKey>,
        prompt_chars: usize,
        sse: bool,
        started: Instant,
    ) -> Self {
        UsageTap {
            st,
            who,
            sse: sse.then(SseDecoder::new),
            json: Vec::new(),
            usage: None,
            prompt_chars: prompt_chars as u64,
            answer_chars: 0,
            started,
            first_token_seen: false,
        }
    }

    /// One relayed chunk of the answer.
    pub fn see(&mut self, bytes: &[u8]) {
        let Some(decoder) = &mut self.sse else {
            if self.json.len() + bytes.len() <= MAX_JSON {
                self.json.extend_from_slice(bytes);
            }
            return;
        };
        let Ok(events) = decoder.push(bytes) else {
            return;
        };
        for event in events {
            if event.data != "[DONE]" {
                if let Ok(chunk) = serde_json::from_str::<Chunk>(&event.data) {
                    self.read(chunk);
                }
            }
        }
    }

    fn read(&mut self, chunk: Chunk) {
        if let Some(u) = chunk.usage {
            self.usage = Some(u);
        }
        let mut chars = 0;
        for choice in chunk.choices.iter().flatten() {
            for text in [&choice.delta, &choice.message].into_iter().flatten() {
                for s in [&text.content, &text.reasoning_content, &text.reasoning]
                    .into_iter()
                    .flatten()
                {
                    chars += s.chars().count() as u64;
                }
            }
        }
        if chars > 0 && !self.first_token_seen {
            self.first_token_seen = true;
            self.st
                .metrics()
                .time_to_first_token
                .observe(self.started.elapsed());
        }
        self.answer_chars += chars;
    }

    /// Prompt and completion tokens, and whether they are estimated.
    fn tokens(&self) -> (u64, u64, bool) {
        let estimate = |chars: u64| chars.div_ceil(CHARS_PER_TOKEN);
        match self.usage {
            Some(Usage {
                prompt_tokens: Some(p),
                completion_tokens: Some(c),
            }) => (p, c, false),
            _ => (
                estimate(self.prompt_chars),
                estimate(self.answer_chars),
                true,
            ),
        }
    }
}

impl Drop for UsageTap {
    fn drop(&mut self) {
        if self.sse.is_none() && !self.json.is_empty() {
            if let Ok(chunk) = serde_json::from_slice::<Chunk>(&self.json) {
                self.read(chunk);
            }
        }
        let (prompt, completion, estimated) = self.tokens();
        self.st.metrics().tokens(prompt, completion, estimated);
        let Some(who) = self.who.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let st = self.st.clone();
        rt.spawn(async move {
            st.limits().record_usage(&who, prompt + completion).await;
        });
    }
}
