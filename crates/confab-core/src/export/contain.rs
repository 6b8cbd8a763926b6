//! What an import may bring in. Images are judged by their bytes, never by their declared
//! type, and kept only as PNG, JPEG, WebP or GIF under that sniffed type, so a file cannot
//! smuggle in an SVG or HTML page that would run script on the widget's origin. Everything
//! imported gets a fresh id, so a file can never overwrite what is already stored.

use super::base64;
use super::Imported;
use crate::conversation::Conversation;
use crate::image_check::{looks_like_svg, sniff};
use std::collections::{BTreeMap, BTreeSet};

/// Largest import accepted: 50 MB (50 × 1,048,576 = 52,428,800 bytes). Checked on the
/// file's size before it is read and on the text's length before it is parsed.
pub const MAX_IMPORT_BYTES: u64 = 50 * 1024 * 1024;

/// Why an image was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadImage {
    /// An SVG drawing (by its bytes or its declared type), which can carry script.
    Svg,
    /// Anything else that is not a PNG, JPEG, WebP or GIF (HTML, text, damaged base64).
    NotRaster,
}

/// Why a whole file was refused. Nothing of a refused file is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The file is larger than [`MAX_IMPORT_BYTES`].
    TooLarge { bytes: u64 },
    /// An image used by a conversation is not a raster image; names both as the user knows
    /// them (the conversation's title, the image's file name or else its id).
    Image {
        conversation: String,
        image: String,
        problem: BadImage,
    },
    /// Nothing could be read; the reason, in English words.
    Unreadable(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal::Unreadable(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        Refusal::Unreadable(reason.to_owned())
    }
}

/// Refuses a file larger than [`MAX_IMPORT_BYTES`].
pub fn check_size(bytes: u64) -> Result<(), Refusal> {
    if bytes > MAX_IMPORT_BYTES {
        Err(Refusal::TooLarge { bytes })
    } else {
        Ok(())
    }
}

/// The same image as a data URL of its sniffed type, or why it is refused.
pub fn sniffed_data_url(url: &str) -> Result<String, BadImage> {
    let (meta, payload) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or(BadImage::NotRaster)?;
    let declared_svg = meta.to_ascii_lowercase().starts_with("image/svg");
    let bytes = meta
        .ends_with(";base64")
        .then(|| base64::decode(payload))
        .flatten()
        .ok_or(BadImage::NotRaster)?;
    match sniff(&bytes) {
        Some(format) => Ok(format!("data:{};base64,{payload}", format.mime())),
        None if declared_svg || looks_like_svg(&bytes) => Err(BadImage::Svg),
        None => Err(BadImage::NotRaster),
    }
}

/// Checks every image the conversations use and returns those, as sniffed data URLs; the
/// conversations' image references get the sniffed type too. Images no conversation uses
/// are dropped and noted in `problems`. The first bad image refuses the whole file.
pub(super) fn contain_images(
    convs: &mut [Conversation],
    mut found: BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, String>, Refusal> {
    let mut kept = BTreeMap::new();
    for conv in convs.iter_mut() {
        let title = conv.title_or_default();
        for img in conv.nodes.iter_mut().flat_map(|n| n.images.iter_mut()) {
            if !kept.contains_key(&img.id) {
                let Some(url) = found.remove(&img.id) else {
                    continue;
                };
                let checked = sniffed_data_url(&url).map_err(|problem| Refusal::Image {
                    conversation: title.clone(),
                    image: if img.name.trim().is_empty() {
                        img.id.clone()
                    } else {
                        img.name.clone()
                    },
                    problem,
                })?;
                kept.insert(img.id.clone(), checked);
            }
            img.mime = mime_of(&kept[&img.id]);
        }
    }
    for id in found.keys() {
        problems.push(format!("Image {id} was skipped: no conversation uses it."));
    }
    Ok(kept)
}

fn mime_of(data_url: &str) -> String {
    data_url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(';'))
        .map(|(mime, _)| mime.to_owned())
        .unwrap_or_default()
}

/// Takes ids from `next` until one is not in `issued`, then records it. A generator that
/// repeats itself gets `-2`, `-3`… appended instead of looping forever.
fn unique(next: &mut impl FnMut() -> String, issued: &mut BTreeSet<String>) -> String {
    let base = next();
    let mut id = base.clone();
    let mut n = 1;
    while issued.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    issued.insert(id.clone());
    id
}

impl Imported {
    /// Gives every conversation and every image a new id, distinct from each other however
    /// the file repeats ids. Image references are rewritten consistently, also those whose
    /// image is missing from the file, so none can point at an image already stored.
    pub fn with_fresh_ids(
        mut self,
        mut conv_id: impl FnMut() -> String,
        mut image_id: impl FnMut() -> String,
    ) -> Imported {
        let mut issued = BTreeSet::new();
        let renamed: BTreeMap<String, String> = super::image_ids(&self.conversations)
            .into_iter()
            .map(|old| (old, unique(&mut image_id, &mut issued)))
            .collect();
        for conv in &mut self.conversations {
            conv.id = unique(&mut conv_id, &mut issued);
            for img in conv.nodes.iter_mut().flat_map(|n| n.images.iter_mut()) {
                img.id = renamed[&img.id].clone();
            }
        }
        self.images = std::mem::take(&mut self.images)
            .into_iter()
            .filter_map(|(old, url)| Some((renamed.get(&old)?.clone(), url)))
            .collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::{from_json, to_json};
    use super::*;
    use crate::conversation::ImageRef;
    use crate::protocol::ImageDetail;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const SVG: &[u8] =
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"/>"#;

    fn image_ref(id: &str, name: &str, mime: &str) -> ImageRef {
        ImageRef {
            id: id.into(),
            mime: mime.into(),
            width: 1,
            height: 1,
            bytes: 16,
            detail: ImageDetail::Auto,
            name: name.into(),
        }
    }

    /// A conversation whose one message shows `images`.
    fn conv(id: &str, title: &str, images: Vec<ImageRef>) -> Conversation {
        let mut c = Conversation::new(id.into(), 1000.0);
        c.title = title.into();
        c.push_user("Look at this".into(), images, 1001.0);
        c
    }

    /// An export file; each image is (id, declared type, bytes).
    fn file(convs: &[Conversation], images: &[(&str, &str, &[u8])]) -> String {
        let images = images
            .iter()
            .map(|(id, mime, bytes)| {
                let url = format!("data:{mime};base64,{}", base64::encode(bytes));
                (id.to_string(), url)
            })
            .collect();
        to_json(convs, &images)
    }

    fn refusal(convs: &[Conversation], images: &[(&str, &str, &[u8])]) -> Refusal {
        from_json(&file(convs, images)).expect_err("the file is refused")
    }

    #[test]
    fn an_svg_with_onload_refuses_the_whole_file_naming_conversation_and_image() {
        let good = conv("c1", "Cats", vec![image_ref("i1", "cat.png", "image/png")]);
        let bad = conv(
            "c2",
            "Holiday",
            vec![image_ref("i2", "sunset.svg", "image/svg+xml")],
        );
        let got = refusal(
            &[good, bad],
            &[("i1", "image/png", PNG), ("i2", "image/svg+xml", SVG)],
        );
        assert_eq!(
            got,
            Refusal::Image {
                conversation: "Holiday".into(),
                image: "sunset.svg".into(),
                problem: BadImage::Svg,
            }
        );
    }

    #[test]
    fn a_mislabelled_image_is_judged_by_its_bytes() {
        let c = conv(
            "c1",
            "Chart",
            vec![image_ref("i1", "chart.jpg", "image/jpeg")],
        );
        let got = from_json(&file(&[c], &[("i1", "image/jpeg", PNG)])).unwrap();
        let url = format!("data:image/png;base64,{}", base64::encode(PNG));
        assert_eq!(got.images["i1"], url);
        assert_eq!(got.conversations[0].nodes[0].images[0].mime, "image/png");

        let c = conv(
            "c1",
            "Chart",
            vec![image_ref("i1", "chart.png", "image/png")],
        );
        assert_eq!(
            refusal(&[c], &[("i1", "image/png", SVG)]),
            Refusal::Image {
                conversation: "Chart".into(),
                image: "chart.png".into(),
                problem: BadImage::Svg,
            }
        );
    }

    #[test]
    fn an_html_polyglot_is_refused_and_a_gif_stays_a_gif() {
        let html = b"<html><body><script>alert(document.cookie)</script>GIF89a";
        let c = conv("c1", "", vec![image_ref("img-77", "", "image/gif")]);
        assert_eq!(
            refusal(&[c], &[("img-77", "image/gif", html)]),
            Refusal::Image {
                conversation: "Look at this".into(),
                image: "img-77".into(),
                problem: BadImage::NotRaster,
            }
        );
        // A real GIF header followed by HTML is a GIF, stored and served as image/gif.
        let gif_html = b"GIF89a\x01\0\x01\0\0\0\0<html><script>alert(1)</script>";
        let c = conv("c1", "Anim", vec![image_ref("i1", "a.gif", "text/html")]);
        let got = from_json(&file(&[c], &[("i1", "text/html", gif_html)])).unwrap();
        assert!(got.images["i1"].starts_with("data:image/gif;base64,"));
        assert_eq!(got.conversations[0].nodes[0].images[0].mime, "image/gif");
    }

    #[test]
    fn damaged_base64_and_non_data_urls_are_refused() {
        for url in [
            "data:image/png;base64,iVBORw0KGgo",
            "data:image/png;base64,iVBO Rw0KGgo=",
            "data:image/png,iVBORw0KGgo=",
            "https://example.com/cat.png",
        ] {
            assert_eq!(sniffed_data_url(url), Err(BadImage::NotRaster), "{url}");
        }
        assert_eq!(
            sniffed_data_url("data:image/svg+xml;base64,PHA+aGk8L3A+"),
            Err(BadImage::Svg)
        );
    }

    #[test]
    fn an_oversized_file_is_refused_before_it_is_parsed() {
        let big = " ".repeat(MAX_IMPORT_BYTES as usize + 1);
        assert_eq!(
            from_json(&big),
            Err(Refusal::TooLarge {
                bytes: MAX_IMPORT_BYTES + 1
            })
        );
        assert_eq!(check_size(MAX_IMPORT_BYTES), Ok(()));
        assert_eq!(MAX_IMPORT_BYTES, 52_428_800);
    }

    #[test]
    fn imported_ids_are_always_fresh_and_references_follow() {
        // "c1" is taken already, and the file uses it twice; both share image "i1", and
        // "i9" (an id that may exist locally) is missing from the file.
        let a = conv("c1", "First", vec![image_ref("i1", "p.png", "image/png")]);
        let b = conv(
            "c1",
            "Second",
            vec![
                image_ref("i1", "p.png", "image/png"),
                image_ref("i9", "gone.png", "image/png"),
            ],
        );
        let got = from_json(&file(&[a, b], &[("i1", "image/png", PNG)])).unwrap();
        let url = got.images["i1"].clone();
        let mut n = 0;
        let got = got.with_fresh_ids(
            || {
                n += 1;
                format!("conv-{n}")
            },
            || "img-new".to_owned(),
        );
        let ids: Vec<&str> = got.conversations.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["conv-1", "conv-2"]);
        let refs = |c: &Conversation| -> Vec<String> {
            c.nodes[0].images.iter().map(|i| i.id.clone()).collect()
        };
        assert_eq!(refs(&got.conversations[0]), ["img-new"]);
        assert_eq!(refs(&got.conversations[1]), ["img-new", "img-new-2"]);
        assert_eq!(got.images, BTreeMap::from([("img-new".to_owned(), url)]));
    }

    #[test]
    fn unused_images_are_dropped_not_checked() {
        let c = conv("c1", "Cats", vec![image_ref("i1", "cat.png", "image/png")]);
        let got = from_json(&file(
            &[c],
            &[("i1", "image/png", PNG), ("stray", "image/svg+xml", SVG)],
        ))
        .unwrap();
        assert_eq!(got.images.keys().collect::<Vec<_>>(), ["i1"]);
        assert_eq!(
            got.problems,
            ["Image stray was skipped: no conversation uses it."]
        );
    }
}
