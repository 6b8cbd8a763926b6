//! Token cost estimates shown before sending, and image resize math.
//!
//! Images follow OpenAI's published tile rule for GPT-4o-class vision models: `low` detail
//! costs a flat 85 tokens; `high` (and `auto`, counted as the worst case) scales the image
//! to fit within 2048 x 2048, then scales it down so the shortest side is at most 768 px,
//! and costs 170 tokens per 512 px tile plus 85. Text is a rough guess (about four
//! characters per token, one per CJK character): good for "this is a big prompt", not billing.

use crate::protocol::ImageDetail;

/// Flat cost of a low-detail image, and the base cost of a high-detail one.
pub const BASE_IMAGE_TOKENS: u32 = 85;
/// Cost of each 512 px tile of a high-detail image.
pub const TILE_TOKENS: u32 = 170;

/// Estimated prompt tokens for an image of this size at this detail level.
pub fn image_tokens(width: u32, height: u32, detail: ImageDetail) -> u32 {
    if detail == ImageDetail::Low || width == 0 || height == 0 {
        return BASE_IMAGE_TOKENS;
    }
    let (w, h) = high_detail_size(width, height);
    let tiles = w.div_ceil(512) as u64 * h.div_ceil(512) as u64;
    (tiles * TILE_TOKENS as u64 + BASE_IMAGE_TOKENS as u64).min(u32::MAX as u64) as u32
}

/// The size OpenAI scales an image to before tiling it at high detail.
pub fn high_detail_size(width: u32, height: u32) -> (u32, u32) {
    let (mut w, mut h) = (width as f64, height as f64);
    let long = w.max(h);
    if long > 2048.0 {
        let s = 2048.0 / long;
        w *= s;
        h *= s;
    }
    let short = w.min(h);
    if short > 768.0 {
        let s = 768.0 / short;
        w *= s;
        h *= s;
    }
    // Rounded, as an image resizer produces whole pixels; never below one pixel.
    ((w.round() as u32).max(1), (h.round() as u32).max(1))
}

/// A rough token count for text: CJK ideographs, kana and hangul count one each, other
/// characters about four to a token. Empty text is zero.
pub fn text_tokens(text: &str) -> u32 {
    let mut wide: u64 = 0;
    let mut other: u64 = 0;
    for c in text.chars() {
        if is_wide_script(c) {
            wide += 1;
        } else {
            other += 1;
        }
    }
    (wide + other.div_ceil(4)).min(u32::MAX as u64) as u32
}

fn is_wide_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF       // hiragana, katakana
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xAC00..=0xD7AF     // hangul syllables
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width katakana
        | 0x20000..=0x3FFFF   // CJK extensions B and later
    )
}

/// The size of an image scaled down (never up) so its longer side is at most
/// `max_long_side`, keeping the aspect ratio; each side stays at least 1 px.
pub fn fit_within(width: u32, height: u32, max_long_side: u32) -> (u32, u32) {
    let long = width.max(height);
    let max = max_long_side.max(1);
    if long <= max || width == 0 || height == 0 {
        return (width, height);
    }
    let scale = |side: u32| -> u32 {
        if side == long {
            max
        } else {
            ((side as u64 * max as u64 + long as u64 / 2) / long as u64).max(1) as u32
        }
    };
    (scale(width), scale(height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn openai_published_examples() {
        // "A 1024 x 1024 square image in detail: high mode costs 765 tokens."
        assert_eq!(image_tokens(1024, 1024, ImageDetail::High), 765);
        // "A 2048 x 4096 image in detail: high mode costs 1105 tokens."
        assert_eq!(image_tokens(2048, 4096, ImageDetail::High), 1105);
        // "A 4096 x 8192 image in detail: low mode costs 85 tokens."
        assert_eq!(image_tokens(4096, 8192, ImageDetail::Low), 85);
    }

    #[test]
    fn auto_is_counted_as_high() {
        assert_eq!(image_tokens(1024, 1024, ImageDetail::Auto), 765);
        assert_eq!(
            image_tokens(4000, 3000, ImageDetail::Auto),
            image_tokens(4000, 3000, ImageDetail::High)
        );
    }

    #[test]
    fn small_images_are_not_scaled_up() {
        // 512 x 512 is one tile; 100 x 100 too.
        assert_eq!(image_tokens(512, 512, ImageDetail::High), 255);
        assert_eq!(image_tokens(100, 100, ImageDetail::High), 255);
        assert_eq!(high_detail_size(100, 50), (100, 50));
        assert_eq!(image_tokens(513, 100, ImageDetail::High), 85 + 2 * 170);
    }

    #[test]
    fn a_phone_photo() {
        // 4000 x 3000 -> 2048 x 1536 -> 1024 x 768 -> 2 x 2 tiles.
        assert_eq!(high_detail_size(4000, 3000), (1024, 768));
        assert_eq!(image_tokens(4000, 3000, ImageDetail::High), 765);
        assert_eq!(image_tokens(3000, 4000, ImageDetail::High), 765);
    }

    #[test]
    fn a_long_strip() {
        // 10000 x 500 -> 2048 x 102: 4 x 1 tiles.
        assert_eq!(high_detail_size(10000, 500), (2048, 102));
        assert_eq!(image_tokens(10000, 500, ImageDetail::High), 85 + 4 * 170);
    }

    #[test]
    fn degenerate_sizes_do_not_panic() {
        assert_eq!(image_tokens(0, 0, ImageDetail::High), 85);
        assert_eq!(image_tokens(u32::MAX, 1, ImageDetail::High), 85 + 4 * 170);
        assert!(image_tokens(u32::MAX, u32::MAX, ImageDetail::High) <= 85 + 4 * 170);
    }

    #[test]
    fn text_estimates() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("a"), 1);
        assert_eq!(text_tokens("Hello, world!"), 4);
        assert_eq!(text_tokens(&"word ".repeat(100)), 125);
        assert_eq!(text_tokens("你好世界"), 4);
        assert_eq!(text_tokens("こんにちは"), 5);
        assert_eq!(text_tokens("안녕하세요"), 5);
        // Mixed: 2 CJK + "abcd" (1).
        assert_eq!(text_tokens("你好abcd"), 3);
        // Emoji and accents count as characters, not bytes.
        assert_eq!(text_tokens("éééé"), 1);
    }

    #[test]
    fn fit_within_scales_the_long_side_down() {
        assert_eq!(fit_within(4000, 3000, 2048), (2048, 1536));
        assert_eq!(fit_within(3000, 4000, 2048), (1536, 2048));
        assert_eq!(fit_within(1000, 800, 2048), (1000, 800), "never scaled up");
        assert_eq!(fit_within(2048, 2048, 2048), (2048, 2048));
        assert_eq!(fit_within(10000, 1, 100), (100, 1), "never below one pixel");
        assert_eq!(fit_within(1001, 1000, 1000), (1000, 999));
        assert_eq!(fit_within(0, 50, 10), (0, 50));
        assert_eq!(fit_within(u32::MAX, u32::MAX / 2, 2048), (2048, 1024));
        assert_eq!(fit_within(50, 40, 0), (1, 1));
    }

    proptest! {
        #[test]
        fn fit_within_keeps_bounds_and_ratio(w in 1u32..100_000, h in 1u32..100_000, max in 1u32..5000) {
            let (fw, fh) = fit_within(w, h, max);
            prop_assert!(fw.max(fh) <= max);
            prop_assert!(fw >= 1 && fh >= 1);
            prop_assert!(fw <= w && fh <= h);
            if w.max(h) > max {
                prop_assert_eq!(fw.max(fh), max);
                // The ratio is kept to within rounding of one pixel.
                let expected_short = w.min(h) as f64 * max as f64 / w.max(h) as f64;
                prop_assert!((fw.min(fh) as f64 - expected_short.max(1.0)).abs() <= 1.0);
            }
        }

        #[test]
        fn high_detail_never_costs_less_than_low(w in 0u32..20_000, h in 0u32..20_000) {
            let high = image_tokens(w, h, ImageDetail::High);
            prop_assert!(high >= 85);
            // At most 2048 x 768 after scaling: 4 x 2 tiles.
            prop_assert!(high <= 85 + 8 * 170);
        }
    }
}
