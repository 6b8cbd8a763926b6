//! Just enough image header parsing for the demo model to describe what it received:
//! format, pixel size and OpenAI's token estimate. No decoding, no image crate.

use base64::Engine;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `PNG`, `JPEG`, `GIF`, `WebP`, or `unknown`.
    pub format: &'static str,
    /// The MIME type the data URL declared.
    pub declared_mime: String,
    /// Width and height in pixels, when the header could be read.
    pub size: Option<(u32, u32)>,
    /// Decoded byte size.
    pub bytes: usize,
}

/// Reads a `data:image/...;base64,...` URL. `Err` says why it could not be read.
pub fn inspect_data_url(url: &str) -> Result<ImageInfo, String> {
    let rest = url
        .strip_prefix("data:")
        .ok_or_else(|| "not a data: URL (remote images are not fetched)".to_string())?;
    let (meta, payload) = rest
        .split_once(',')
        .ok_or_else(|| "data: URL without a comma".to_string())?;
    let mut meta_parts = meta.split(';');
    let declared_mime = meta_parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if !meta_parts.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        return Err("data: URL is not base64-encoded".into());
    }
    let cleaned: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(cleaned.as_bytes()))
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cleaned.as_bytes()))
        .map_err(|e| format!("invalid base64 ({e})"))?;
    let (format, size) = sniff(&bytes);
    Ok(ImageInfo {
        format,
        declared_mime,
        size,
        bytes: bytes.len(),
    })
}

/// Format from the magic bytes, and the pixel size from the header.
pub fn sniff(b: &[u8]) -> (&'static str, Option<(u32, u32)>) {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        ("PNG", png_size(b))
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        ("JPEG", jpeg_size(b))
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        ("GIF", gif_size(b))
    } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        ("WebP", webp_size(b))
    } else {
        ("unknown", None)
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}
fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as u32)
}
fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 3)?;
    Some(s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16)
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    Some((le16(b, 6)?, le16(b, 8)?))
}

/// Walks the JPEG markers up to the first SOFn (start of frame), which holds the size.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        // Markers start with 0xFF, possibly padded with more 0xFF bytes.
        if *b.get(i)? != 0xFF {
            return None;
        }
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header: no size.
            0xD9 | 0xDA => return None,
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                // Length (2), precision (1), height (2), width (2).
                let h = be16(b, i + 3)?;
                let w = be16(b, i + 5)?;
                return Some((w, h));
            }
            _ => {
                let len = be16(b, i)? as usize;
                if len < 2 {
                    return None;
                }
                i += len;
            }
        }
    }
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        // Lossy: frame tag (3), start code 9d 01 2a, then 14-bit width and height.
        b"VP8 " => {
            if b.get(23..26)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF))
        }
        // Lossless: signature 0x2f, then width-1 and height-1 in 14 bits each.
        b"VP8L" => {
            if *b.get(20)? != 0x2f {
                return None;
            }
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        // Extended: flags (4), then canvas width-1 and height-1 in 24 bits each.
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// OpenAI's rule for image input tokens (confab-core's, shared with the widget's
/// estimate), for a `detail` as written in the request.
pub fn estimate_tokens(width: u32, height: u32, detail: &str) -> u32 {
    use confab_core::protocol::ImageDetail;
    let detail = match detail {
        "low" => ImageDetail::Low,
        "high" => ImageDetail::High,
        _ => ImageDetail::Auto,
    };
    confab_core::estimate::image_tokens(width, height, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rule_matches_openai_examples() {
        // OpenAI's documented examples.
        assert_eq!(estimate_tokens(1024, 1024, "high"), 765);
        assert_eq!(estimate_tokens(2048, 4096, "high"), 1105);
        assert_eq!(estimate_tokens(4096, 8192, "low"), 85);
        assert_eq!(estimate_tokens(512, 512, "auto"), 255);
        assert_eq!(estimate_tokens(100, 50, "high"), 255);
    }

    #[test]
    fn headers_are_read() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(sniff(&png), ("PNG", Some((640, 480))));

        let gif = b"GIF89a\x20\x03\x58\x02rest";
        assert_eq!(sniff(gif), ("GIF", Some((800, 600))));

        // JPEG: SOI, an APP0 segment, then SOF0 with height 300 and width 400.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xFF, 0xC0, 0x00, 0x11, 0x08,
            0x01, 0x2C, 0x01, 0x90, 0x03,
        ];
        assert_eq!(sniff(&jpeg), ("JPEG", Some((400, 300))));

        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        vp8x.extend_from_slice(&[0x1F, 0x03, 0x00, 0x57, 0x02, 0x00]); // 800 x 600
        assert_eq!(sniff(&vp8x), ("WebP", Some((800, 600))));

        let mut vp8l = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2f".to_vec();
        let bits: u32 = (99) | (49 << 14); // 100 x 50
        vp8l.extend_from_slice(&bits.to_le_bytes());
        assert_eq!(sniff(&vp8l), ("WebP", Some((100, 50))));

        let mut vp8 = b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0\0\0\0\x9d\x01\x2a".to_vec();
        vp8.extend_from_slice(&[0x40, 0x01, 0xF0, 0x00]); // 320 x 240
        assert_eq!(sniff(&vp8), ("WebP", Some((320, 240))));

        assert_eq!(sniff(b"hello"), ("unknown", None));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF]), ("JPEG", None));
    }

    #[test]
    fn data_urls_are_decoded() {
        let info = inspect_data_url("data:image/gif;base64,R0lGODlhAQABAAAAACw=").unwrap();
        assert_eq!(info.format, "GIF");
        assert_eq!(info.size, Some((1, 1)));
        assert_eq!(info.declared_mime, "image/gif");
        assert!(inspect_data_url("https://example.com/a.png").is_err());
        assert!(inspect_data_url("data:image/png;base64,@@@").is_err());
    }
}
