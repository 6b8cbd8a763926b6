//! Server-sent events, decoded as the WHATWG HTML standard's
//! "interpreting an event stream" describes.
//!
//! The decoder is byte level and incremental: feed it whatever the network hands over with
//! [`SseDecoder::push`] and it returns the events completed by those bytes. Every byte is
//! examined once (a partial line is kept, never rescanned), so a single 8 MB event arriving
//! one byte at a time costs the same as arriving in one piece.
//!
//! Behaviour, per the standard:
//! - lines end in CRLF, LF or a lone CR; a CR at the end of one push followed by a LF at the
//!   start of the next is one line end, not two;
//! - one leading UTF-8 byte order mark is dropped, even when split across pushes;
//! - each complete line is decoded as UTF-8 with replacement characters, so a character
//!   split across pushes arrives whole;
//! - lines starting with `:` are comments (keep-alives) and are ignored;
//! - `field: value` loses one space after the colon; a line without a colon is a field name
//!   with an empty value;
//! - `data` lines are joined with `\n`; a blank line dispatches the event unless no `data`
//!   line was seen;
//! - `event` sets the type (`"message"` when absent), `id` sets the last event id (ignored if
//!   it contains NUL), `retry` sets the reconnection time (ASCII digits only);
//! - at the end of the stream an event without its closing blank line is dropped.

use std::fmt;

/// Default cap on one line: 16 MiB, so an 8 MB event (a large base64 image) still decodes.
pub const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field, `"message"` when the event had none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id at dispatch time (it persists across events, per the standard);
    /// `None` while no id or an empty id was set.
    pub id: Option<String>,
    /// A valid `retry:` field given within this event's lines, if any. The decoder's current
    /// reconnection time is also available from [`SseDecoder::retry`].
    pub retry: Option<u64>,
}

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A line grew past the decoder's cap; the stream is not usable after this.
    LineTooLong { limit: usize },
}

impl fmt::Display for SseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SseError::LineTooLong { limit } => write!(
                f,
                "the server sent a line longer than {} in its event stream",
                human_bytes(*limit)
            ),
        }
    }
}

impl std::error::Error for SseError {}

fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// Incremental event stream decoder. See the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct SseDecoder {
    max_line: usize,
    /// How many bytes of a leading BOM have been matched; `None` once the start is decided.
    bom_matched: Option<usize>,
    /// The bytes of the current line when it spans pushes (already scanned).
    partial: Vec<u8>,
    /// The last push ended in CR: a LF at the start of the next push ends nothing.
    after_cr: bool,
    data: String,
    has_data: bool,
    event_type: String,
    last_id: String,
    retry: Option<u64>,
    event_retry: Option<u64>,
    failed: Option<SseError>,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SseDecoder {
    /// A decoder with the default line cap ([`DEFAULT_MAX_LINE`]).
    pub fn new() -> Self {
        Self::with_max_line(DEFAULT_MAX_LINE)
    }

    /// A decoder that fails with [`SseError::LineTooLong`] once a line (without its line
    /// end) exceeds `max_line` bytes. This bounds the memory one stream can take.
    pub fn with_max_line(max_line: usize) -> Self {
        SseDecoder {
            max_line,
            bom_matched: Some(0),
            partial: Vec::new(),
            after_cr: false,
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            last_id: String::new(),
            retry: None,
            event_retry: None,
            failed: None,
        }
    }

    /// The line cap this decoder enforces.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// The reconnection time most recently set by a `retry:` field.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event id buffer (empty when none was set).
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// Feeds bytes; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut out = Vec::new();
        self.push_into(bytes, &mut out)?;
        Ok(out)
    }

    /// Like [`push`](Self::push), appending to `out`. When a line is too long, the events
    /// completed before it are still in `out`, and the error is returned by every later call.
    pub fn push_into(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let mut bytes = bytes;
        if let Some(matched) = self.bom_matched {
            let n = (BOM.len() - matched).min(bytes.len());
            if bytes[..n] == BOM[matched..matched + n] {
                bytes = &bytes[n..];
                if matched + n < BOM.len() {
                    // Still possibly a BOM; wait for more bytes.
                    self.bom_matched = Some(matched + n);
                    return Ok(());
                }
                self.bom_matched = None;
            } else {
                // Not a BOM: the held back bytes are ordinary content.
                self.bom_matched = None;
                self.feed(&BOM[..matched], out)?;
            }
        }
        self.feed(bytes, out)
    }

    /// Ends the stream. An event still missing its blank line is dropped, as the standard
    /// says, so this returns no events; it reports a line that was too long. The decoder is
    /// then reset and can decode a new stream.
    pub fn finish(&mut self) -> Result<Vec<SseEvent>, SseError> {
        let failed = self.failed.take();
        *self = Self::with_max_line(self.max_line);
        match failed {
            Some(err) => Err(err),
            None => Ok(Vec::new()),
        }
    }

    fn fail(&mut self) -> Result<(), SseError> {
        let err = SseError::LineTooLong {
            limit: self.max_line,
        };
        self.partial = Vec::new();
        self.failed = Some(err.clone());
        Err(err)
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut rest = bytes;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            if rest[0] == b'\n' {
                rest = &rest[1..];
            }
        }
        while let Some(i) = memchr::memchr2(b'\n', b'\r', rest) {
            if self.partial.is_empty() {
                if i > self.max_line {
                    return self.fail();
                }
                self.line(&rest[..i], out);
            } else {
                if self.partial.len() + i > self.max_line {
                    return self.fail();
                }
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(&rest[..i]);
                self.line(&line, out);
                line.clear();
                // Keep a small allocation for the next split line; give back big ones.
                if line.capacity() <= 64 * 1024 {
                    self.partial = line;
                }
            }
            let was_cr = rest[i] == b'\r';
            rest = &rest[i + 1..];
            if was_cr {
                match rest.first() {
                    None => self.after_cr = true,
                    Some(b'\n') => rest = &rest[1..],
                    Some(_) => {}
                }
            }
        }
        if !rest.is_empty() {
            if self.partial.len() + rest.len() > self.max_line {
                return self.fail();
            }
            self.partial.extend_from_slice(rest);
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..i], value)
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.has_data = true;
                self.data.push_str(&String::from_utf8_lossy(value));
            }
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"id" if !value.contains(&0) => {
                self.last_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All digits; only a value too large for u64 fails, and is ignored.
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse::<u64>() {
                    self.retry = Some(ms);
                    self.event_retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event_type = std::mem::take(&mut self.event_type);
        let retry = self.event_retry.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        out.push(SseEvent {
            event: if event_type.is_empty() {
                "message".to_owned()
            } else {
                event_type
            },
            data: std::mem::take(&mut self.data),
            id: if self.last_id.is_empty() {
                None
            } else {
                Some(self.last_id.clone())
            },
            retry,
        });
    }
}

#[cfg(test)]
mod tests;
