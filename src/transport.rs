//! The only browser I/O of the chat: POST the request, read the body as a stream, feed it to
//! the core decoder and hand each event to the caller. Imports no views.

use confab_core::controller::Outcome;
use confab_core::error::{parse_error_body, ApiError, ErrorKind};
use confab_core::protocol::ChatRequest;
use confab_core::stream::{is_event_stream, parse_completion_json, ChatStream, StreamEvent};
use futures_util::StreamExt;
use gloo_net::http::Request;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortController;

/// No byte for this long ends the answer as a timeout, keeping what arrived.
pub const IDLE_TIMEOUT_MS: i32 = 60_000;

/// Handle to abort an answer in flight.
#[derive(Clone)]
pub struct Abort {
    controller: AbortController,
}

impl Abort {
    pub fn new() -> Self {
        Abort {
            controller: AbortController::new().expect("AbortController is available"),
        }
    }

    pub fn abort(&self) {
        self.controller.abort();
    }

    fn signal(&self) -> web_sys::AbortSignal {
        self.controller.signal()
    }
}

impl Default for Abort {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends `request` and calls `on_event` for each decoded event. Errors arrive as
/// `StreamEvent::Error`; the return value says whether the answer ran to its end.
pub async fn send_chat(
    endpoint: &str,
    headers: &[(String, String)],
    request: &ChatRequest,
    abort: &Abort,
    mut on_event: impl FnMut(StreamEvent),
) -> Outcome {
    let body = match serde_json::to_string(request) {
        Ok(b) => b,
        Err(e) => {
            on_event(StreamEvent::Error(error(
                ErrorKind::BadResponse,
                e.to_string(),
            )));
            return Outcome::Finished;
        }
    };
    let signal = abort.signal();
    let idle = IdleTimer::start(abort.clone());

    let mut builder = Request::post(endpoint)
        .header("Content-Type", "application/json")
        .header("Accept", "text/event-stream, application/json")
        .abort_signal(Some(&signal));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let response = match builder.body(body) {
        Ok(req) => req.send().await,
        Err(e) => {
            on_event(StreamEvent::Error(error(ErrorKind::Network, e.to_string())));
            return Outcome::Finished;
        }
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => return network_failure(&signal, &idle, e.to_string(), on_event),
    };
    idle.reset();

    if !response.ok() {
        let status = response.status();
        let retry_after = response.headers().get("retry-after");
        let text = response.text().await.unwrap_or_default();
        on_event(StreamEvent::Error(parse_error_body(
            status,
            &text,
            retry_after.as_deref(),
        )));
        return Outcome::Finished;
    }

    let content_type = response.headers().get("content-type").unwrap_or_default();
    if !is_event_stream(&content_type) {
        // Some proxies strip streaming: accept a plain JSON answer.
        return match response.text().await {
            Ok(text) => {
                match parse_completion_json(&text) {
                    Ok(events) => events.into_iter().for_each(&mut on_event),
                    Err(e) => on_event(StreamEvent::Error(e)),
                }
                Outcome::Finished
            }
            Err(e) => network_failure(&signal, &idle, e.to_string(), on_event),
        };
    }

    let Some(raw_body) = response.body() else {
        on_event(StreamEvent::Error(error(
            ErrorKind::BadResponse,
            "The server answered without a body.".into(),
        )));
        return Outcome::Finished;
    };
    let mut chunks =
        wasm_streams::ReadableStream::from_raw(raw_body.unchecked_into()).into_stream();
    let mut decoder = ChatStream::new();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(bytes) => {
                idle.reset();
                let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
                for ev in decoder.push(&bytes) {
                    on_event(ev);
                }
            }
            Err(e) => {
                // Keep what arrived; the reader failed because of Stop, the idle timer or the network.
                let msg = e
                    .as_string()
                    .unwrap_or_else(|| "the connection was lost".into());
                return network_failure(&signal, &idle, msg, on_event);
            }
        }
    }
    idle.cancel();
    for ev in decoder.finish() {
        on_event(ev);
    }
    Outcome::Finished
}

fn network_failure(
    signal: &web_sys::AbortSignal,
    idle: &IdleTimer,
    detail: String,
    mut on_event: impl FnMut(StreamEvent),
) -> Outcome {
    idle.cancel();
    if idle.fired() {
        on_event(StreamEvent::Error(error(
            ErrorKind::Timeout,
            format!(
                "No answer for {} seconds; what arrived is kept.",
                IDLE_TIMEOUT_MS / 1000
            ),
        )));
        return Outcome::Finished;
    }
    if signal.aborted() {
        return Outcome::Aborted;
    }
    on_event(StreamEvent::Error(error(
        ErrorKind::Network,
        format!("Could not reach the server ({detail})."),
    )));
    Outcome::Finished
}

fn error(kind: ErrorKind, message: String) -> ApiError {
    ApiError {
        kind,
        status: None,
        message,
        code: None,
        retry_after_secs: None,
    }
}

/// Aborts the request when no byte has arrived for `IDLE_TIMEOUT_MS`.
struct IdleTimer {
    abort: Abort,
    handle: Cell<Option<i32>>,
    fired: Rc<Cell<bool>>,
    callback: Closure<dyn FnMut()>,
}

impl IdleTimer {
    fn start(abort: Abort) -> Self {
        let fired = Rc::new(Cell::new(false));
        let callback = {
            let fired = fired.clone();
            let abort = abort.clone();
            Closure::<dyn FnMut()>::new(move || {
                fired.set(true);
                abort.abort();
            })
        };
        let timer = IdleTimer {
            abort,
            handle: Cell::new(None),
            fired,
            callback,
        };
        timer.reset();
        timer
    }

    fn reset(&self) {
        self.cancel();
        if self.abort.signal().aborted() {
            return;
        }
        let handle = web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                self.callback.as_ref().unchecked_ref(),
                IDLE_TIMEOUT_MS,
            )
            .ok()
        });
        self.handle.set(handle);
    }

    fn cancel(&self) {
        if let (Some(h), Some(w)) = (self.handle.take(), web_sys::window()) {
            w.clear_timeout_with_handle(h);
        }
    }

    fn fired(&self) -> bool {
        self.fired.get()
    }
}

impl Drop for IdleTimer {
    fn drop(&mut self) {
        self.cancel();
    }
}
