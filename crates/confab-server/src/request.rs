//! The chat-completions request as this server forwards it: the documented fields, typed.
//!
//! Parsing never builds a `serde_json::Value` tree (a body of `[0,0,0,…]` would cost 16
//! times its size): known fields go into the structs below, arrays have a length cap
//! checked while they are read, free-form JSON (`tools`, `response_format`, `tool_choice`,
//! fields named by `--allow-field`) stays raw text borrowed from the body, and every other
//! field is skipped without being stored. No `untagged`, internally tagged or `flatten`
//! deserialization either: serde buffers those into a tree first.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// The roles the core protocol knows (system, developer, user, assistant, tool).
pub use confab_core::protocol::Role;

/// Messages in one request.
pub const MAX_MESSAGES: usize = 2048;
/// Content parts in one message.
pub const MAX_PARTS: usize = 100;
/// Stop sequences (OpenAI's own limit).
pub const MAX_STOP: usize = 4;
/// Tools, and tool calls in one message (OpenAI's own limit).
pub const MAX_TOOLS: usize = 128;
/// Free-form JSON (`tools`, `response_format`, `tool_choice`, allowed extra fields), in bytes.
pub const MAX_FREE_FORM_BYTES: usize = 2 * 1024 * 1024;
/// Top-level field names of [`ChatBody`]: forwarded after their checks.
pub const TYPED_FIELDS: &[&str] = &[
    "messages",
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "response_format",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "logprobs",
    "top_logprobs",
    "stream",
    "stream_options",
    "reasoning_effort",
    "user",
];

/// The typed top-level fields. Unknown fields are skipped by serde without being stored.
#[derive(Debug, Deserialize, Serialize)]
pub struct ChatBody<'a> {
    #[serde(borrow)]
    pub messages: Bounded<Message<'a>, MAX_MESSAGES>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a RawValue>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Bounded<&'a RawValue, MAX_TOOLS>>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'a RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Message<'a> {
    pub role: Role,
    /// Absent and `null` are both forwarded as `null` (assistant messages with tool calls).
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Bounded<&'a RawValue, MAX_TOOLS>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

impl Message<'_> {
    pub fn system(text: &str) -> Self {
        Message {
            role: Role::System,
            content: Some(Content::Text(text.to_string())),
            name: None,
            tool_calls: None,
            tool_call_id: None,
            refusal: None,
        }
    }
}

/// A string, or an array of content parts.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
}

impl<'de> Deserialize<'de> for Content {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Content;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(
                    f,
                    "a string or an array of at most {MAX_PARTS} content parts"
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Content, E> {
                Ok(Content::Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Content, E> {
                Ok(Content::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Content, A::Error> {
                Ok(Content::Parts(collect_bounded(seq, MAX_PARTS)?))
            }
        }
        d.deserialize_any(V)
    }
}

/// One content part. `file` and other part types are refused.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
    InputAudio { input_audio: InputAudio },
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ImageUrl {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    Auto,
    Low,
    High,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct InputAudio {
    pub data: String,
    pub format: String,
}

impl<'de> Deserialize<'de> for Part {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(field_identifier, rename_all = "snake_case")]
        enum Field {
            Type,
            Text,
            ImageUrl,
            InputAudio,
            #[serde(other)]
            Other,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Part;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a content part object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Part, A::Error> {
                let (mut kind, mut text, mut image, mut audio) = (None::<String>, None, None, None);
                while let Some(field) = map.next_key::<Field>()? {
                    match field {
                        Field::Type => kind = Some(map.next_value()?),
                        Field::Text => text = Some(map.next_value()?),
                        Field::ImageUrl => image = Some(map.next_value()?),
                        Field::InputAudio => audio = Some(map.next_value()?),
                        Field::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let missing =
                    |what| de::Error::custom(format_args!("a {what} part needs `{what}`"));
                match kind.as_deref() {
                    Some("text") => Ok(Part::Text {
                        text: text.ok_or_else(|| missing("text"))?,
                    }),
                    Some("image_url") => Ok(Part::ImageUrl {
                        image_url: image.ok_or_else(|| missing("image_url"))?,
                    }),
                    Some("input_audio") => Ok(Part::InputAudio {
                        input_audio: audio.ok_or_else(|| missing("input_audio"))?,
                    }),
                    Some(other) => Err(de::Error::custom(format_args!(
                        "content part type {:?} is not accepted here (text, image_url, input_audio)",
                        other.chars().take(40).collect::<String>()
                    ))),
                    None => Err(de::Error::custom("a content part needs a `type`")),
                }
            }
        }
        d.deserialize_map(V)
    }
}

/// `stop`: one string or at most [`MAX_STOP`] strings.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Stop {
    One(String),
    Many(Vec<String>),
}

impl<'de> Deserialize<'de> for Stop {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Stop;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a string or at most {MAX_STOP} strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Stop, E> {
                Ok(Stop::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Stop, A::Error> {
                Ok(Stop::Many(collect_bounded(seq, MAX_STOP)?))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, Serialize)]
pub struct StreamOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_obfuscation: Option<bool>,
}

/// A `Vec` that refuses more than `N` elements while it is being read.
#[derive(Debug)]
pub struct Bounded<T, const N: usize>(pub Vec<T>);

impl<T: Serialize, const N: usize> Serialize for Bounded<T, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an array of at most {N} entries")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Ok(Bounded(collect_bounded(seq, N)?))
            }
        }
        d.deserialize_seq(V::<T, N>(PhantomData))
    }
}

fn collect_bounded<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    mut seq: A,
    max: usize,
) -> Result<Vec<T>, A::Error> {
    let mut out = Vec::new();
    while let Some(item) = seq.next_element()? {
        if out.len() == max {
            return Err(de::Error::custom(format_args!(
                "an array has more than {max} entries"
            )));
        }
        out.push(item);
    }
    Ok(out)
}

/// A parsed request: the typed fields, the allowed extra fields (raw), and the names of
/// the fields that were dropped (for the log only).
#[derive(Debug)]
pub struct ChatRequest<'a> {
    pub body: ChatBody<'a>,
    pub extra: Vec<(String, &'a RawValue)>,
    /// At most [`MAX_NAMES_KEPT`] names; `dropped_count` counts them all.
    pub dropped: Vec<String>,
    pub dropped_count: usize,
}

const MAX_NAMES_KEPT: usize = 20;

impl<'a> ChatRequest<'a> {
    /// Parses `raw`; `allowed` are the `--allow-field` names. `Err` is a message for a 400.
    pub fn parse(raw: &'a [u8], allowed: &[String]) -> Result<Self, String> {
        let mut de = serde_json::Deserializer::from_slice(raw);
        let others = OtherFieldsSeed { allowed }
            .deserialize(&mut de)
            .and_then(|o| de.end().map(|_| o))
            .map_err(|e| format!("the request body is not a JSON object: {e}"))?;
        let body: ChatBody<'a> = serde_json::from_slice(raw)
            .map_err(|e| format!("the request body is not a valid chat completion request: {e}"))?;
        let free_form = body.response_format.map_or(0, |r| r.get().len())
            + body.tool_choice.map_or(0, |r| r.get().len())
            + body
                .tools
                .as_ref()
                .map_or(0, |t| t.0.iter().map(|r| r.get().len()).sum())
            + others
                .kept
                .iter()
                .map(|(_, r)| r.get().len())
                .sum::<usize>();
        if free_form > MAX_FREE_FORM_BYTES {
            return Err(format!(
                "tools, response_format, tool_choice and extra fields together are {free_form} \
                 bytes; at most {MAX_FREE_FORM_BYTES} are accepted"
            ));
        }
        Ok(ChatRequest {
            body,
            extra: others.kept,
            dropped: others.dropped,
            dropped_count: others.dropped_count,
        })
    }

    /// The JSON sent on: the typed fields in their documented order, then the extras.
    pub fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Outgoing<'r, 'a> {
            #[serde(flatten)]
            body: &'r ChatBody<'a>,
            #[serde(flatten)]
            extra: Extra<'r, 'a>,
        }
        struct Extra<'r, 'a>(&'r [(String, &'a RawValue)]);
        impl Serialize for Extra<'_, '_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        serde_json::to_vec(&Outgoing {
            body: &self.body,
            extra: Extra(&self.extra),
        })
        .expect("typed values always serialize")
    }
}

/// Walks the top-level keys once: typed ones are skipped here (the typed pass reads
/// them), allowed extras are kept raw, the rest only have their names noted.
struct OtherFieldsSeed<'c> {
    allowed: &'c [String],
}

struct OtherFields<'a> {
    kept: Vec<(String, &'a RawValue)>,
    dropped: Vec<String>,
    dropped_count: usize,
}

impl<'de> DeserializeSeed<'de> for OtherFieldsSeed<'_> {
    type Value = OtherFields<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OtherFieldsSeed<'_> {
    type Value = OtherFields<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = OtherFields {
            kept: Vec::new(),
            dropped: Vec::new(),
            dropped_count: 0,
        };
        while let Some(key) = map.next_key::<String>()? {
            if TYPED_FIELDS.contains(&key.as_str()) {
                map.next_value::<IgnoredAny>()?;
            } else if self.allowed.contains(&key) {
                if out.kept.iter().any(|(k, _)| *k == key) {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
                let raw: &'de RawValue = map.next_value()?;
                out.kept.push((key, raw));
            } else {
                map.next_value::<IgnoredAny>()?;
                out.dropped_count += 1;
                if out.dropped.len() < MAX_NAMES_KEPT {
                    out.dropped.push(loggable_name(&key));
                }
            }
        }
        Ok(out)
    }
}

/// A client-chosen field name made safe for a log line: short, no control characters.
fn loggable_name(name: &str) -> String {
    name.chars()
        .take(40)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str, allowed: &[&str]) -> Result<String, String> {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        ChatRequest::parse(raw.as_bytes(), &allowed)
            .map(|r| String::from_utf8(r.to_json()).unwrap())
    }

    #[test]
    fn typed_fields_pass_unknown_ones_drop_allowed_ones_stay_raw() {
        let out = parse(
            r#"{"store":true,"model":"m","messages":[{"role":"user","content":"hi","audio":{"id":"x"}}],
               "tools":[{"type":"function","function":{"name":"f","parameters":{"b":1,"a":[1, 2]}}}],
               "metadata":{"k":"v"},"temperature":0.5,"stop":"END"}"#,
            &["metadata"],
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"messages":[{"role":"user","content":"hi"}],"model":"m","temperature":0.5,"stop":"END","tools":[{"type":"function","function":{"name":"f","parameters":{"b":1,"a":[1, 2]}}}],"metadata":{"k":"v"}}"#
        );
    }

    #[test]
    fn arrays_are_capped_while_read() {
        let many = format!(
            r#"{{"messages":[{}]}}"#,
            vec![r#"{"role":"user","content":"x"}"#; MAX_MESSAGES + 1].join(",")
        );
        assert!(parse(&many, &[]).unwrap_err().contains("more than 2048"));
        let stop = r#"{"messages":[],"stop":["a","b","c","d","e"]}"#;
        assert!(parse(stop, &[]).is_err());
        assert!(parse(r#"[0,0,0]"#, &[]).is_err());
        assert!(parse(r#"{"messages":[0,0,0]}"#, &[]).is_err());
    }

    #[test]
    fn parts_are_typed_and_unknown_part_types_refused() {
        let out = parse(
            r#"{"messages":[{"role":"user","content":[{"text":"a","type":"text","x":[1]},
               {"type":"image_url","image_url":{"url":"data:x","detail":"low","junk":1}}]}]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:x","detail":"low"}}]}]}"#
        );
        let err = parse(
            r#"{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"f"}}]}]}"#,
            &[],
        )
        .unwrap_err();
        assert!(err.contains("\"file\""), "{err}");
    }

    #[test]
    fn dropped_names_are_noted_for_the_log() {
        let allowed = vec![];
        let r = ChatRequest::parse(
            br#"{"messages":[],"n":1,"store":true,"service_tier":"priority","evil\nname":1}"#,
            &allowed,
        )
        .unwrap();
        assert_eq!(r.dropped, vec!["store", "service_tier", "evil?name"]);
        assert_eq!(r.body.n, Some(1));
    }
}
