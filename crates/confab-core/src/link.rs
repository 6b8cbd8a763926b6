//! Deciding which URLs from model output may become a live link or image.
//!
//! Model output is untrusted (a prompt injection can make a model write anything), so a URL
//! becomes an `href` or image `src` only when it is an absolute `http`, `https` or (links only)
//! `mailto` URL. The scheme is found the way a browser finds it, following the WHATWG URL
//! standard, without pulling in the `url` crate (+54 KB of wasm):
//!
//! 1. strip leading and trailing C0 control or space characters
//!    (<https://url.spec.whatwg.org/#concept-basic-url-parser>, first step);
//! 2. remove all ASCII tab or newline characters anywhere (so `java\tscript:` is `javascript:`);
//! 3. the scheme is the run before the first `:` when it matches
//!    `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`, compared ASCII-lowercased
//!    (<https://url.spec.whatwg.org/#scheme-state>).
//!
//! Character references such as `&#106;avascript:` are decoded by the markdown parser before a
//! URL reaches this module, so they are checked in their decoded form.
//!
//! Decisions:
//! - Links: only absolute `http:`, `https:` and `mailto:` URLs. Relative URLs, `#fragment` and
//!   protocol-relative `//host/x` are rejected: they would resolve against the page that embeds
//!   the widget, which is never what a model means.
//! - Images: only `http:` and `https:`; a protocol-relative `//host/x` is read as
//!   `https://host/x` (it still only loads after the user clicks its placeholder).
//!   A URL without a host (`https://`, `https:///`) is rejected.

/// The cleaned URL (controls trimmed, tabs and newlines removed) and its lowercased scheme, if
/// it has one.
fn clean(url: &str) -> (String, Option<String>) {
    // C0 control or space: U+0000 to U+0020.
    let trimmed = url.trim_matches(|c: char| c <= '\u{20}');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let scheme = scheme_of(&cleaned);
    (cleaned, scheme)
}

/// The ASCII-lowercased scheme of an already cleaned URL, or `None` when the URL is relative.
fn scheme_of(cleaned: &str) -> Option<String> {
    let colon = cleaned.find(':')?;
    let candidate = &cleaned[..colon];
    let mut bytes = candidate.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic() {
        return None;
    }
    if !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')) {
        return None;
    }
    Some(candidate.to_ascii_lowercase())
}

/// The URL to use as a link's `href`, or `None` when the link must be shown as plain text.
///
/// Allowed: absolute `http`, `https` and `mailto` URLs (an `http(s)` URL must name a host).
/// The returned string is the cleaned URL, i.e. what a browser would parse anyway.
pub fn safe_link(url: &str) -> Option<String> {
    let (cleaned, scheme) = clean(url);
    match scheme.as_deref() {
        Some("http") | Some("https") => {
            host_of_cleaned(&cleaned)?;
            Some(cleaned)
        }
        Some("mailto") => Some(cleaned),
        _ => None,
    }
}

/// The URL to use as an image `src`, or `None` when the image must not be loaded at all.
///
/// Allowed: absolute `http` and `https` URLs with a host; `//host/path` is turned into
/// `https://host/path`. Even an allowed image must not load before the user asks for it
/// unless its [`host_of`] is allow-listed.
pub fn safe_image(url: &str) -> Option<String> {
    let (cleaned, scheme) = clean(url);
    let absolute = match scheme.as_deref() {
        Some("http") | Some("https") => cleaned,
        None if is_protocol_relative(&cleaned) => format!("https:{cleaned}"),
        _ => return None,
    };
    host_of_cleaned(&absolute)?;
    Some(absolute)
}

/// `//host...` (a browser treats `\` like `/` in URLs of special schemes).
fn is_protocol_relative(cleaned: &str) -> bool {
    let b = cleaned.as_bytes();
    b.len() > 2 && matches!(b[0], b'/' | b'\\') && matches!(b[1], b'/' | b'\\')
}

/// The lowercased host of an absolute `http` or `https` URL, e.g. for an image placeholder
/// ("load image from example.com?") or an allow-list check.
///
/// Follows how a browser reads special URLs: any run of `/` or `\` after the scheme is skipped,
/// the host ends at `/`, `\`, `?` or `#`, user info before the last `@` and a port are dropped,
/// percent-escapes are decoded. Returns `None` for other schemes, an empty host or a host with
/// characters a browser would refuse.
pub fn host_of(url: &str) -> Option<String> {
    let (cleaned, scheme) = clean(url);
    match scheme.as_deref() {
        Some("http") | Some("https") => host_of_cleaned(&cleaned),
        _ => None,
    }
}

fn host_of_cleaned(cleaned: &str) -> Option<String> {
    let colon = cleaned.find(':')?;
    let rest = cleaned[colon + 1..].trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_port = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let host = if host_port.starts_with('[') {
        // IPv6 literal: keep the brackets, drop a port after them.
        let close = host_port.find(']')?;
        &host_port[..=close]
    } else {
        match host_port.find(':') {
            Some(c) => &host_port[..c],
            None => host_port,
        }
    };
    let host = percent_decode(host)?.to_lowercase();
    // Forbidden host code points (https://url.spec.whatwg.org/#forbidden-host-code-point),
    // checked after decoding, as a browser does.
    let forbidden = |c: char| {
        c <= '\u{20}'
            || matches!(
                c,
                '#' | '%'
                    | '/'
                    | ':'
                    | '<'
                    | '>'
                    | '?'
                    | '@'
                    | '['
                    | ']'
                    | '\\'
                    | '^'
                    | '|'
                    | '\u{7f}'
            )
    };
    let valid = if let Some(ipv6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !ipv6.is_empty()
            && ipv6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        !host.is_empty() && !host.chars().any(forbidden)
    };
    if !valid {
        return None;
    }
    Some(host)
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_plain_web_and_mail_links() {
        assert_eq!(
            safe_link("https://example.com/a?b#c").as_deref(),
            Some("https://example.com/a?b#c")
        );
        assert_eq!(
            safe_link("HTTP://Example.com").as_deref(),
            Some("HTTP://Example.com")
        );
        assert_eq!(
            safe_link("mailto:a@example.com").as_deref(),
            Some("mailto:a@example.com")
        );
    }

    #[test]
    fn rejects_script_schemes_however_disguised() {
        for url in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "\u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java\nscript:alert(1)",
            "java\rscript:alert(1)",
            "\u{0}\u{1f} javascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "blob:https://example.com/x",
        ] {
            assert_eq!(safe_link(url), None, "{url:?}");
            assert_eq!(safe_image(url), None, "{url:?}");
        }
    }

    #[test]
    fn tabs_and_newlines_inside_an_allowed_scheme_are_removed() {
        assert_eq!(
            safe_link("ht\ttps://exa\nmple.com").as_deref(),
            Some("https://example.com")
        );
    }

    #[test]
    fn rejects_relative_and_protocol_relative_links() {
        for url in [
            "/path",
            "path",
            "#frag",
            "//evil.com/x",
            "?q=1",
            "",
            "https:",
            "https://",
        ] {
            assert_eq!(safe_link(url), None, "{url:?}");
        }
        // Not a scheme: a space or a slash before the colon makes it a relative URL.
        assert_eq!(safe_link("java script:alert(1)"), None);
        assert_eq!(safe_link("/javascript:alert(1)"), None);
    }

    #[test]
    fn images_are_http_only_and_protocol_relative_becomes_https() {
        assert_eq!(
            safe_image("//cdn.example.com/a.png").as_deref(),
            Some("https://cdn.example.com/a.png")
        );
        assert_eq!(safe_image("mailto:a@example.com"), None);
        assert_eq!(safe_image("/local.png"), None);
        assert_eq!(safe_image("https:///"), None);
        // A browser skips any number of slashes: this loads from host `x.png`.
        assert_eq!(host_of("https:///x.png").as_deref(), Some("x.png"));
        assert_eq!(
            safe_image("https://x.example/?q=secret").as_deref(),
            Some("https://x.example/?q=secret")
        );
    }

    #[test]
    fn host_is_what_a_browser_would_contact() {
        let h = |u: &str| host_of(u);
        assert_eq!(h("https://Example.COM/x").as_deref(), Some("example.com"));
        assert_eq!(h("https://user:pw@evil.com/x").as_deref(), Some("evil.com"));
        assert_eq!(h("https://good.com@evil.com/").as_deref(), Some("evil.com"));
        assert_eq!(h("https://evil.com#@good.com").as_deref(), Some("evil.com"));
        assert_eq!(h("https://evil.com?@good.com").as_deref(), Some("evil.com"));
        assert_eq!(
            h("https://good.com\\@evil.com").as_deref(),
            Some("good.com")
        );
        assert_eq!(h("https:\\\\evil.com/x").as_deref(), Some("evil.com"));
        assert_eq!(h("https:evil.com/x").as_deref(), Some("evil.com"));
        assert_eq!(h("https://evil.com:8443/x").as_deref(), Some("evil.com"));
        assert_eq!(h("https://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(h("https://[::1@evil.com]/"), None);
        assert_eq!(h("https://ex%61mple.com/").as_deref(), Some("example.com"));
        assert_eq!(h("https://evil.com%2f.good.com/"), None);
        assert_eq!(h("mailto:a@b.com"), None);
        assert_eq!(h("//example.com"), None);
    }
}
