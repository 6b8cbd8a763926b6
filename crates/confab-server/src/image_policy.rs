//! Images by value only: an `image_url` must be a base64 `data:` URL whose bytes are PNG,
//! JPEG, WebP or GIF (sniffed, not declared), within the size limit. A remote URL would make
//! the upstream fetch an address the client chose (`http://169.254.169.254/…`), so it is
//! refused unless its host is listed in `--image-hosts`.
//!
//! Checking costs no copy of the image: the base64 text is scanned once, and only its
//! first bytes are decoded to read the magic number.

use base64::Engine;

use crate::images::sniff;

/// `Ok` when the URL may be forwarded: `Ok(None)` as sent, `Ok(Some(url))` replaced by
/// this re-serialised form (a remote URL). `Err` says why not, in a sentence for the client.
pub fn check(url: &str, max_bytes: usize, hosts: &[String]) -> Result<Option<String>, String> {
    let scheme_end = url.find(':').unwrap_or(0);
    match url[..scheme_end].to_ascii_lowercase().as_str() {
        "data" => check_data_url(&url[scheme_end + 1..], max_bytes).map(|()| None),
        "http" | "https" => check_remote_url(url, hosts).map(Some),
        _ => Err("an image must be a data: URL (PNG, JPEG, WebP or GIF)".into()),
    }
}

/// A remote image URL from a listed host, as the upstream will read it.
///
/// Parsers disagree on odd URLs: `https://listed.example\@169.254.169.254/` is on
/// `listed.example` for the WHATWG parser (`\` is `/`) and on 169.254.169.254 for others.
/// So the forms on which they disagree are refused (a backslash, user info, whitespace or
/// a control character anywhere), and what goes on is the URL as parsed here, never the
/// text that came.
fn check_remote_url(url: &str, hosts: &[String]) -> Result<String, String> {
    if url.contains('\\') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the image URL contains a backslash, whitespace or a control character".into());
    }
    let parsed =
        url::Url::parse(url).map_err(|_| "the image URL is not a valid URL".to_string())?;
    if !parsed.username().is_empty() || parsed.password().is_some() || has_userinfo(url) {
        return Err("the image URL must not contain a user name or password".into());
    }
    match parsed.host_str().map(str::to_ascii_lowercase) {
        Some(h) if hosts.contains(&h) => Ok(parsed.as_str().to_string()),
        _ => Err(
            "remote image URLs are not accepted here: send the image itself, as a \
             data: URL (PNG, JPEG, WebP or GIF)"
                .into(),
        ),
    }
}

/// An `@` in the authority (`https://@host/` has an empty user name, but other parsers
/// may still split there).
fn has_userinfo(url: &str) -> bool {
    let after_scheme = url.split_once(':').map_or(url, |(_, rest)| rest);
    let authority = after_scheme.trim_start_matches('/');
    let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
    authority[..end].contains('@')
}

fn check_data_url(rest: &str, max_bytes: usize) -> Result<(), String> {
    let (meta, payload) = rest.split_once(',').ok_or("the data: URL has no comma")?;
    let mut meta_parts = meta.split(';');
    let declared = meta_parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !meta_parts.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err("the data: URL is not base64-encoded".into());
    }
    let declared_format = match declared.as_str() {
        "image/png" => "PNG",
        "image/jpeg" | "image/jpg" => "JPEG",
        "image/webp" => "WebP",
        "image/gif" => "GIF",
        _ => {
            return Err(format!(
                "the data: URL declares {:?}; only image/png, image/jpeg, image/webp and \
                 image/gif are accepted",
                declared.chars().take(40).collect::<String>()
            ))
        }
    };
    // One pass: the alphabet, and the decoded size from the count of base64 digits.
    let mut digits = 0usize;
    for b in payload.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_' => digits += 1,
            b'=' | b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => return Err("the data: URL is not valid base64".into()),
        }
    }
    let bytes = digits * 3 / 4;
    if bytes > max_bytes {
        return Err(format!(
            "the image is {bytes} bytes; this server accepts at most {max_bytes}"
        ));
    }
    let head: String = payload
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != '=')
        .take(64)
        .collect();
    let head = &head[..head.len() / 4 * 4];
    let decoded = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(head)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head))
        .map_err(|_| "the data: URL is not valid base64".to_string())?;
    match sniff(&decoded).0 {
        "unknown" => Err("the image's bytes are not PNG, JPEG, WebP or GIF".into()),
        found if found != declared_format => Err(format!(
            "the data: URL declares {declared} but its bytes are {found}"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(mime: &str, bytes: &[u8]) -> String {
        format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

    #[test]
    fn images_by_value_are_sniffed() {
        assert_eq!(check(&data("image/gif", GIF), 1000, &[]), Ok(None));
        let mismatch = check(&data("image/png", GIF), 1000, &[]).unwrap_err();
        assert!(mismatch.contains("GIF"), "{mismatch}");
        let svg = data("image/svg+xml", b"<svg onload=alert(1)>");
        assert!(check(&svg, 1000, &[]).unwrap_err().contains("svg"));
        let html = data("image/png", b"<html><script>");
        assert!(check(&html, 1000, &[]).unwrap_err().contains("not PNG"));
        let big = check(&data("image/gif", &[GIF, &[0u8; 2000]].concat()), 1000, &[]);
        assert!(big.unwrap_err().contains("at most 1000"));
        assert!(check("data:image/gif;base64,R0lG!!", 1000, &[]).is_err());
        assert!(check("data:image/gif,GIF89a", 1000, &[]).is_err());
    }

    #[test]
    fn remote_urls_only_from_listed_hosts() {
        let hosts = vec!["images.example.com".to_string()];
        assert!(check("http://169.254.169.254/latest/meta-data/", 10, &hosts).is_err());
        assert!(check("https://evil.example/a.png", 10, &hosts).is_err());
        assert_eq!(
            check("https://IMAGES.example.com/a.png", 10, &hosts),
            Ok(Some("https://images.example.com/a.png".into()))
        );
        assert!(check("file:///etc/passwd", 10, &hosts).is_err());
        assert!(check("ftp://images.example.com/a.png", 10, &hosts).is_err());
    }

    #[test]
    fn urls_that_parsers_read_differently_are_refused() {
        let hosts = vec!["images.example.com".to_string()];
        for bad in [
            "https://images.example.com\\@169.254.169.254/latest",
            "https://images.example.com\\.evil.example/a.png",
            "https://user:pw@images.example.com/a.png",
            "https://@images.example.com/a.png",
            "https://169.254.169.254@images.example.com/a.png",
            "https://images.example.com/a b.png",
            "https://images.example.com/a\t.png",
            "https://images.exa\nmple.com/a.png",
            "https://images.example.com/a\u{a0}.png",
            "https://images.example.com/a\u{7f}.png",
        ] {
            assert!(check(bad, 10, &hosts).is_err(), "{bad:?}");
        }
        // What is forwarded is the parsed URL, not the text that came.
        assert_eq!(
            check("HTTPS:images.example.com/a/../b.png?x=1#f", 10, &hosts),
            Ok(Some("https://images.example.com/b.png?x=1#f".into()))
        );
        // A query may hold an `@`.
        assert!(check("https://images.example.com/a.png?by=a@b", 10, &hosts).is_ok());
    }
}
