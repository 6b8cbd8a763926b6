//! The server's rules applied to a chat request, the same for the proxy and the demo
//! model: the system prompt, the model pin or allow-list, the token caps, `n`, and images.
//! What comes out is the exact JSON the upstream (or the demo model) receives.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;

use crate::config::Config;
use crate::error::{bad_param, bad_request, openai_error};
use crate::image_policy;
use crate::request::{ChatRequest, Content, Message, Part, StreamOptions};

/// OpenAI's own maximum for `top_logprobs`.
pub const MAX_TOP_LOGPROBS: u64 = 20;

pub const MODEL_REQUIRED: &str =
    "No model was chosen: set data-model on the widget, or start confab-server with --model.";

/// The request as it goes on.
pub struct Prepared {
    pub json: Vec<u8>,
    pub stream: bool,
    /// Characters of text in the messages, for a token estimate when no usage comes back.
    pub prompt_chars: usize,
}

/// [`prepare`] on a blocking thread when the body is large: parsing megabytes must not
/// hold up the streams the same worker thread relays.
#[allow(clippy::result_large_err)]
pub async fn prepare_body(st: &crate::AppState, body: Bytes) -> Result<Prepared, Response> {
    if body.len() < 256 * 1024 {
        return prepare(st.config(), &body);
    }
    let st = st.clone();
    tokio::task::spawn_blocking(move || prepare(st.config(), &body))
        .await
        .unwrap_or_else(|_| {
            Err(openai_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request could not be checked",
                "server_error",
                None,
            ))
        })
}

/// Parses `raw` and applies the rules; `Err` is the 400 to send back.
#[allow(clippy::result_large_err)]
pub fn prepare(config: &Config, raw: &[u8]) -> Result<Prepared, Response> {
    let mut req = ChatRequest::parse(raw, &config.allow_fields)
        .map_err(|msg| bad_request(msg, "invalid_request"))?;
    if req.dropped_count > 0 {
        // Names only: values may hold anything. The client is not told.
        tracing::info!(
            fields = %req.dropped.join(","),
            count = req.dropped_count,
            "dropped request fields"
        );
    }
    let body = &mut req.body;
    choose_model(config, &mut body.model)?;
    if let Some(n) = body.n {
        if n != 1 {
            return Err(bad_param(
                format!("`n` must be 1 here (this server answers with one choice), not {n}"),
                "n",
                "n_not_supported",
            ));
        }
    }
    if let Some(cap) = config.max_tokens.map(u64::from) {
        let clamp = |v: &mut Option<u64>| {
            if let Some(n) = v {
                *n = (*n).clamp(1, cap);
            }
        };
        clamp(&mut body.max_tokens);
        clamp(&mut body.max_completion_tokens);
        if body.max_tokens.is_none() && body.max_completion_tokens.is_none() {
            body.max_tokens = Some(cap);
        }
    }
    if let Some(n) = &mut body.top_logprobs {
        *n = (*n).min(MAX_TOP_LOGPROBS);
    }
    check_images(config, &mut req)?;
    if let Some(prompt) = &config.system_prompt {
        req.body.messages.0.insert(0, Message::system(prompt));
    }
    let stream = req.body.stream == Some(true);
    if stream && config.counts_usage() && !config.is_demo() {
        // Budgets and metrics count the upstream's own figures when it sends them.
        req.body
            .stream_options
            .get_or_insert(StreamOptions {
                include_usage: None,
                include_obfuscation: None,
            })
            .include_usage = Some(true);
    }
    Ok(Prepared {
        json: req.to_json(),
        stream,
        prompt_chars: text_chars(&req),
    })
}

fn text_chars(req: &ChatRequest) -> usize {
    req.body
        .messages
        .0
        .iter()
        .map(|m| match &m.content {
            Some(Content::Text(t)) => t.chars().count(),
            Some(Content::Parts(parts)) => parts
                .iter()
                .map(|p| match p {
                    Part::Text { text } => text.chars().count(),
                    _ => 0,
                })
                .sum(),
            None => 0,
        })
        .sum()
}

/// `--model` pins; `--allowed-models` checks (a missing model gets the first); with
/// neither, the proxy needs the client's model and the demo model does without.
#[allow(clippy::result_large_err)]
fn choose_model(config: &Config, model: &mut Option<String>) -> Result<(), Response> {
    let asked = model.take().filter(|m| !m.is_empty());
    *model = if let Some(pinned) = &config.model {
        Some(pinned.clone())
    } else if !config.allowed_models.is_empty() {
        match asked {
            None => Some(config.allowed_models[0].clone()),
            Some(m) if config.allowed_models.contains(&m) => Some(m),
            Some(m) => {
                let shown: String = m.chars().take(100).collect();
                return Err(openai_error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the model `{shown}` is not available here; allowed: {}",
                        config.allowed_models.join(", ")
                    ),
                    "invalid_request_error",
                    Some("model_not_found"),
                ));
            }
        }
    } else if asked.is_none() && !config.is_demo() {
        return Err(bad_param(MODEL_REQUIRED, "model", "model_required"));
    } else {
        asked
    };
    Ok(())
}

/// Checks every image; a remote one goes on in the form it was checked in.
#[allow(clippy::result_large_err)]
fn check_images(config: &Config, req: &mut ChatRequest) -> Result<(), Response> {
    for (i, message) in req.body.messages.0.iter_mut().enumerate() {
        let Some(Content::Parts(parts)) = &mut message.content else {
            continue;
        };
        for (j, part) in parts.iter_mut().enumerate() {
            let Part::ImageUrl { image_url } = part else {
                continue;
            };
            match image_policy::check(&image_url.url, config.max_image_bytes, &config.image_hosts) {
                Ok(None) => {}
                Ok(Some(parsed)) => image_url.url = parsed,
                Err(why) => {
                    let at = format!("messages[{i}].content[{j}]");
                    return Err(bad_param(
                        format!("{at}: {why}"),
                        &format!("{at}.image_url.url"),
                        "invalid_image_url",
                    ));
                }
            }
        }
    }
    Ok(())
}
