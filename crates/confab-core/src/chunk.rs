//! The response side of the protocol: streamed chunks and non-streaming completions.
//!
//! Every type here is deliberately forgiving, because real servers differ: `choices` may be
//! missing, `null` or `[]` (Azure prompt-filter results, usage-only chunks); `delta` may be
//! missing; `role` may be missing, `null`, `""` or repeated; `content` may be `null` (or,
//! rarely, a list of text parts); reasoning arrives as `reasoning_content` or `reasoning`;
//! `finish_reason` may be any string; numbers in `usage` may be missing or `null`; an
//! `error` object may sit inside a data frame. Fields not modelled here (`timings`,
//! `system_fingerprint`, `obfuscation`, `prompt_filter_results`, `logprobs`, `tool_calls`,
//! ...) are ignored.

use crate::stream::{FinishReason, Usage};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One `data:` frame of a streamed answer (`object: "chat.completion.chunk"`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatChunk {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub choices: Vec<Choice>,
    #[serde(default, deserialize_with = "lenient_usage")]
    pub usage: Option<Usage>,
    /// An error reported mid-stream with HTTP 200 (`{"error":{...}}`); `null` is no error.
    #[serde(default)]
    pub error: Option<Value>,
}

impl ChatChunk {
    /// The choice Confab shows: index 0 (Confab never asks for `n > 1`).
    pub fn first_choice(&self) -> Option<&Choice> {
        self.choices.iter().find(|c| c.index == 0)
    }
}

/// A whole non-streaming answer (`object: "chat.completion"`). Same shape as a chunk,
/// with `message` instead of `delta`, so the same types serve both.
pub type Completion = ChatChunk;

/// One choice of a chunk (`delta`) or of a completion (`message`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Choice {
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: u32,
    #[serde(default, deserialize_with = "lenient_message")]
    pub delta: Option<Delta>,
    #[serde(default, deserialize_with = "lenient_message")]
    pub message: Option<Delta>,
    #[serde(default, deserialize_with = "lenient_finish")]
    pub finish_reason: Option<FinishReason>,
}

impl Choice {
    /// The text carrier: `delta` in a stream, `message` in a completion (some servers put
    /// `message` in stream chunks too).
    pub fn body(&self) -> Option<&Delta> {
        self.delta.as_ref().or(self.message.as_ref())
    }
}

/// The text of a delta or message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Delta {
    /// `None` when missing, `null` or `""`.
    #[serde(default, deserialize_with = "lenient_role")]
    pub role: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub content: Option<String>,
    /// DeepSeek, vLLM, llama.cpp.
    #[serde(default, deserialize_with = "lenient_text")]
    pub reasoning_content: Option<String>,
    /// Ollama, OpenRouter.
    #[serde(default, deserialize_with = "lenient_text")]
    pub reasoning: Option<String>,
    /// A refusal (OpenAI structured outputs), shown as content.
    #[serde(default, deserialize_with = "lenient_text")]
    pub refusal: Option<String>,
}

impl Delta {
    /// Reasoning text from whichever field the server used (both, concatenated, if a
    /// server sends both and they differ).
    pub fn reasoning_text(&self) -> Option<String> {
        match (
            non_empty(&self.reasoning_content),
            non_empty(&self.reasoning),
        ) {
            (Some(a), Some(b)) if a == b => Some(a.to_owned()),
            (Some(a), Some(b)) => Some(format!("{a}{b}")),
            (Some(a), None) | (None, Some(a)) => Some(a.to_owned()),
            (None, None) => None,
        }
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list that may be `null`, missing or of the wrong type (then empty). Items that do not
/// parse are skipped rather than failing the frame.
fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

fn lenient_message<'de, D>(d: D) -> Result<Option<Delta>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(d)? {
        v @ Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

fn lenient_role<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    })
}

/// Text that may be a string, `null`, or a list of parts with `text` (some servers send
/// content as `[{"type":"text","text":"…"}]`).
fn lenient_text<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(text_of(Value::deserialize(d)?))
}

fn text_of(v: Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s),
        Value::Array(parts) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    Value::String(s) => out.push_str(&s),
                    Value::Object(mut m) => {
                        if let Some(Value::String(s)) = m.remove("text") {
                            out.push_str(&s);
                        }
                    }
                    _ => {}
                }
            }
            Some(out)
        }
        _ => None,
    }
}

fn lenient_finish<'de, D>(d: D) -> Result<Option<FinishReason>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(FinishReason::parse(s.trim())),
        _ => None,
    })
}

fn lenient_usage<'de, D>(d: D) -> Result<Option<Usage>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(match Value::deserialize(d)? {
        v @ Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

/// A count that may be missing, `null`, negative, fractional or a numeric string.
pub(crate) fn lenient_u32<'de, D>(d: D) -> Result<u32, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(count_of(&Value::deserialize(d)?))
}

fn count_of(v: &Value) -> u32 {
    match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                u.min(u32::MAX as u64) as u32
            } else if let Some(f) = n.as_f64() {
                if f.is_finite() && f > 0.0 {
                    f.min(u32::MAX as f64) as u32
                } else {
                    0
                }
            } else {
                0
            }
        }
        Value::String(s) => s.trim().parse::<u32>().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
