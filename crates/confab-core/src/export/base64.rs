//! Strict standard base64 (RFC 4648 section 4, padded), enough to look inside an imported
//! image. Anything a canonical encoder would not write is refused rather than guessed at.

/// The 6-bit value of one base64 character.
fn value(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes padded standard base64. `None` for any other character (whitespace and the
/// URL-safe `-` `_` included), a length that is not a multiple of four, padding anywhere
/// but at the end, or spare bits that are not zero.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quads = text.len() / 4;
    for (i, quad) in text.chunks_exact(4).enumerate() {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 < quads) {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        if n & ((1 << (8 * pad)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Some(out)
}

/// Encodes padded standard base64 (for building test files).
#[cfg(test)]
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut n = [0u8; 4];
        n[1..=chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes(n);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn decoding_undoes_encoding_for_every_length() {
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..bytes.len() {
            assert_eq!(
                decode(&encode(&bytes[..len])).as_deref(),
                Some(&bytes[..len])
            );
        }
    }

    #[test]
    fn decodes_the_rfc_4648_examples() {
        let cases = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ];
        for (text, bytes) in cases {
            assert_eq!(decode(text).as_deref(), Some(bytes.as_bytes()), "{text}");
        }
        assert_eq!(decode("+/+/").unwrap(), vec![0xFB, 0xFF, 0xBF]);
    }

    #[test]
    fn refuses_what_a_canonical_encoder_would_not_write() {
        let bad = [
            "Zg",       // unpadded
            "Zg=",      // wrong length
            "Zg==Zg==", // padding in the middle
            "Z===",     // too much padding
            "====", "Zm9v\n", // whitespace
            "Zm 9", "-_-_", // URL-safe alphabet
            "Zh==", // spare bits set
            "Zm9=", "Zm=v", // padding before data
        ];
        for text in bad {
            assert_eq!(decode(text), None, "{text:?}");
        }
    }
}
