//! Deciding what to do with an image the user attached, from its first bytes: what it
//! really is (not what its name says), whether it is accepted, and how to prepare it.
//! The pixels themselves are decoded and resized by the browser.

/// Formats browsers decode and vision models accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }
}

/// Identifies an image by its magic bytes.
pub fn sniff(head: &[u8]) -> Option<ImageFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Largest file accepted, as OpenAI's limit per image.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// Why an attachment was refused, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    TooMany { max: usize },
    TooLarge { name: String, bytes: u64 },
    Empty { name: String },
    Svg { name: String },
    NotAnImage { name: String },
    Corrupt { name: String },
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::TooMany { max } => {
                write!(
                    f,
                    "At most {max} images per message; the others were not added."
                )
            }
            Rejection::TooLarge { name, bytes } => write!(
                f,
                "{name} is {:.1} MB; images up to {} MB are accepted.",
                *bytes as f64 / 1_048_576.0,
                MAX_FILE_BYTES / 1_048_576
            ),
            Rejection::Empty { name } => write!(f, "{name} is empty."),
            Rejection::Svg { name } => write!(
                f,
                "{name} is an SVG drawing; please attach a PNG, JPEG, GIF or WebP picture."
            ),
            Rejection::NotAnImage { name } => write!(
                f,
                "{name} is not a PNG, JPEG, GIF or WebP image, whatever its name says."
            ),
            Rejection::Corrupt { name } => {
                write!(
                    f,
                    "{name} could not be read as an image; it may be damaged."
                )
            }
        }
    }
}

/// Checks a file before decoding it: count, size, and what its first bytes say it is.
pub fn check_file(
    name: &str,
    bytes: u64,
    head: &[u8],
    already_attached: usize,
    max_images: usize,
) -> Result<ImageFormat, Rejection> {
    if already_attached >= max_images {
        return Err(Rejection::TooMany { max: max_images });
    }
    let name = name.to_string();
    if bytes == 0 {
        return Err(Rejection::Empty { name });
    }
    if bytes > MAX_FILE_BYTES {
        return Err(Rejection::TooLarge { name, bytes });
    }
    if looks_like_svg(head) {
        return Err(Rejection::Svg { name });
    }
    sniff(head).ok_or(Rejection::NotAnImage { name })
}

/// Whether the first bytes are an SVG drawing (`<svg`, or an XML prolog then `<svg`).
pub fn looks_like_svg(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(512)]).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with("<svg") || (text.starts_with("<?xml") && text.contains("<svg"))
}

/// Whether a GIF has more than one frame (only the first is sent).
pub fn is_animated_gif(data: &[u8]) -> bool {
    gif_frame_count(data) > 1
}

/// Counts image descriptors by walking the GIF block structure (stops at the second).
fn gif_frame_count(data: &[u8]) -> usize {
    if sniff(data) != Some(ImageFormat::Gif) || data.len() < 13 {
        return 0;
    }
    let mut pos = 13;
    let flags = data[10];
    if flags & 0x80 != 0 {
        pos += 3 * (1 << ((flags & 0x07) + 1));
    }
    let mut frames = 0;
    while pos < data.len() && frames < 2 {
        match data[pos] {
            0x2C => {
                frames += 1;
                if pos + 10 > data.len() {
                    break;
                }
                let local = data[pos + 9];
                pos += 10;
                if local & 0x80 != 0 {
                    pos += 3 * (1 << ((local & 0x07) + 1));
                }
                pos += 1; // LZW minimum code size
                pos = skip_sub_blocks(data, pos);
            }
            0x21 => pos = skip_sub_blocks(data, pos + 2),
            _ => break, // 0x3B trailer, or damage
        }
    }
    frames
}

fn skip_sub_blocks(data: &[u8], mut pos: usize) -> usize {
    while pos < data.len() {
        let len = data[pos] as usize;
        pos += 1 + len;
        if len == 0 {
            break;
        }
    }
    pos
}

/// Whether a PNG may have transparent pixels (alpha colour type or a tRNS chunk).
pub fn png_may_have_alpha(data: &[u8]) -> bool {
    if sniff(data) != Some(ImageFormat::Png) || data.len() < 33 {
        return false;
    }
    let color_type = data[25];
    if color_type == 4 || color_type == 6 {
        return true;
    }
    // Walk chunks up to IDAT looking for tRNS.
    let mut pos = 8;
    while pos + 8 <= data.len() {
        let len =
            u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let kind = &data[pos + 4..pos + 8];
        if kind == b"tRNS" {
            return true;
        }
        if kind == b"IDAT" {
            return false;
        }
        pos += 12 + len;
    }
    false
}

/// What the browser should produce from a decoded image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The file is already small enough and in a good format: send it as it is.
    Original,
    Jpeg {
        width: u32,
        height: u32,
    },
    Png {
        width: u32,
        height: u32,
    },
}

/// A file at most this large, within the size limit and with no orientation to apply, is
/// sent untouched (a re-encode would only lose quality).
pub const KEEP_AS_IS_BYTES: u64 = 512 * 1024;
/// Transparent PNGs stay PNG up to this many pixels; larger ones become JPEG.
const PNG_KEEP_PIXELS: u64 = 1024 * 1024;
/// JPEG quality of re-encoded images.
pub const JPEG_QUALITY: f64 = 0.85;

/// Chooses the output for an image of `width` x `height` (as displayed, orientation
/// applied). `max_long_side` is 2048 by default and 512 for low detail.
pub fn plan(
    format: ImageFormat,
    width: u32,
    height: u32,
    bytes: u64,
    has_alpha: bool,
    rotated_by_exif: bool,
    max_long_side: u32,
) -> Output {
    let (w, h) = fit_long_side(width, height, max_long_side);
    let resized = (w, h) != (width, height);
    let friendly = matches!(
        format,
        ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Webp
    );
    if !resized && !rotated_by_exif && friendly && bytes <= KEEP_AS_IS_BYTES {
        return Output::Original;
    }
    if has_alpha && (w as u64) * (h as u64) <= PNG_KEEP_PIXELS {
        Output::Png {
            width: w,
            height: h,
        }
    } else {
        Output::Jpeg {
            width: w,
            height: h,
        }
    }
}

/// Scales so the long side is at most `max_long_side`, keeping the aspect ratio and at
/// least one pixel per side.
pub fn fit_long_side(width: u32, height: u32, max_long_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_long_side || long == 0 {
        return (width, height);
    }
    let scale = max_long_side as f64 / long as f64;
    let w = ((width as f64 * scale).round() as u32).clamp(1, max_long_side);
    let h = ((height as f64 * scale).round() as u32).clamp(1, max_long_side);
    (w, h)
}

/// Reads the EXIF orientation (1..=8) from a JPEG's APP1 segment, if any.
pub fn jpeg_orientation(data: &[u8]) -> Option<u16> {
    if sniff(data) != Some(ImageFormat::Jpeg) {
        return None;
    }
    let mut pos = 2;
    while pos + 4 <= data.len() && data[pos] == 0xFF {
        let marker = data[pos + 1];
        let len = u16::from_be_bytes([data[pos + 2], data[pos + 3]]) as usize;
        if marker == 0xE1 && data.get(pos + 4..pos + 10) == Some(b"Exif\0\0") {
            return tiff_orientation(data.get(pos + 10..pos + 2 + len)?);
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        pos += 2 + len;
    }
    None
}

fn tiff_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |p: usize| -> Option<u16> {
        let b = tiff.get(p..p + 2)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |p: usize| -> Option<u32> {
        let b = tiff.get(p..p + 4)?;
        Some(if little {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        })
    };
    let ifd = u32_at(4)? as usize;
    let entries = u16_at(ifd)? as usize;
    (0..entries).find_map(|i| {
        let e = ifd + 2 + i * 12;
        (u16_at(e)? == 0x0112)
            .then(|| u16_at(e + 8))
            .flatten()
            .filter(|o| (1..=8).contains(o))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn png_with_color_type(color_type: u8) -> Vec<u8> {
        let mut v = PNG_HEAD.to_vec();
        v.extend_from_slice(&13u32.to_be_bytes());
        v.extend_from_slice(b"IHDR");
        v.extend_from_slice(&10u32.to_be_bytes());
        v.extend_from_slice(&10u32.to_be_bytes());
        v.extend_from_slice(&[8, color_type, 0, 0, 0]);
        v.extend_from_slice(&[0, 0, 0, 0]); // crc
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(b"IDAT");
        v
    }

    #[test]
    fn a_text_file_named_png_is_refused_by_its_content() {
        let err = check_file("photo.png", 20, b"hello, I am text", 0, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            "photo.png is not a PNG, JPEG, GIF or WebP image, whatever its name says."
        );
    }

    #[test]
    fn svg_empty_huge_and_one_too_many_get_their_own_messages() {
        let svg =
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert!(matches!(
            check_file("a.svg", 80, svg, 0, 4),
            Err(Rejection::Svg { .. })
        ));
        assert!(matches!(
            check_file("b.png", 0, b"", 0, 4),
            Err(Rejection::Empty { .. })
        ));
        let big = check_file("c.jpg", 21 * 1024 * 1024, &[0xFF, 0xD8, 0xFF], 0, 4).unwrap_err();
        assert!(big.to_string().contains("21.0 MB"), "{big}");
        assert_eq!(
            check_file("d.png", 10, PNG_HEAD, 4, 4).unwrap_err(),
            Rejection::TooMany { max: 4 }
        );
        assert_eq!(
            check_file("e.png", 10, PNG_HEAD, 3, 4),
            Ok(ImageFormat::Png)
        );
    }

    #[test]
    fn png_alpha_is_seen_in_the_header() {
        assert!(png_may_have_alpha(&png_with_color_type(6)));
        assert!(!png_may_have_alpha(&png_with_color_type(2)));
    }

    #[test]
    fn a_twelve_megapixel_photo_is_scaled_to_2048_and_becomes_jpeg() {
        let out = plan(ImageFormat::Jpeg, 4000, 3000, 4_000_000, false, false, 2048);
        assert_eq!(
            out,
            Output::Jpeg {
                width: 2048,
                height: 1536
            }
        );
        let low = plan(ImageFormat::Jpeg, 4000, 3000, 4_000_000, false, false, 512);
        assert_eq!(
            low,
            Output::Jpeg {
                width: 512,
                height: 384
            }
        );
    }

    #[test]
    fn small_files_are_left_alone_unless_exif_rotates_them() {
        assert_eq!(
            plan(ImageFormat::Png, 800, 600, 90_000, true, false, 2048),
            Output::Original
        );
        assert_eq!(
            plan(ImageFormat::Jpeg, 800, 600, 90_000, false, true, 2048),
            Output::Jpeg {
                width: 800,
                height: 600
            }
        );
        // GIFs are always re-encoded so only the first frame is sent.
        assert!(matches!(
            plan(ImageFormat::Gif, 100, 100, 5_000, false, false, 2048),
            Output::Jpeg { .. }
        ));
    }

    #[test]
    fn small_transparent_images_stay_png_large_ones_become_jpeg() {
        assert!(matches!(
            plan(ImageFormat::Png, 3000, 3000, 9_000_000, true, false, 2048),
            Output::Jpeg { .. }
        ));
        assert_eq!(
            plan(ImageFormat::Png, 900, 900, 2_000_000, true, false, 2048),
            Output::Png {
                width: 900,
                height: 900
            }
        );
    }

    #[test]
    fn fitting_keeps_the_aspect_ratio_and_a_pixel_at_least() {
        assert_eq!(fit_long_side(3000, 4000, 2048), (1536, 2048));
        assert_eq!(fit_long_side(10_000, 1, 2048), (2048, 1));
        assert_eq!(fit_long_side(100, 50, 2048), (100, 50));
    }

    fn gif(frames: usize) -> Vec<u8> {
        let mut v = b"GIF89a".to_vec();
        v.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0]); // 1x1, global table of 2 colours
        v.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        for _ in 0..frames {
            v.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]); // graphic control
            v.extend_from_slice(&[0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0]);
            v.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]);
        }
        v.push(0x3B);
        v
    }

    #[test]
    fn animated_gifs_are_told_apart_from_still_ones() {
        assert!(!is_animated_gif(&gif(1)));
        assert!(is_animated_gif(&gif(3)));
        assert!(!is_animated_gif(b"GIF89a"));
    }

    fn jpeg_with_orientation(o: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&0x0112u16.to_be_bytes());
        tiff.extend_from_slice(&3u16.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&o.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE1];
        v.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        v.extend_from_slice(b"Exif\0\0");
        v.extend_from_slice(&tiff);
        v.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        v
    }

    #[test]
    fn exif_orientation_is_read_from_jpeg() {
        assert_eq!(jpeg_orientation(&jpeg_with_orientation(6)), Some(6));
        assert_eq!(jpeg_orientation(&jpeg_with_orientation(1)), Some(1));
        assert_eq!(jpeg_orientation(&[0xFF, 0xD8, 0xFF, 0xDB, 0, 2]), None);
        assert_eq!(jpeg_orientation(b"not a jpeg"), None);
    }
}
