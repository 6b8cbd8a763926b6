//! Export and import of conversations.
//!
//! The JSON file holds the conversations and their images as data URLs:
//! `{"confab_export": 1, "conversations": [...], "images": {"<image id>": "data:image/…"}}`.
//! Import also takes a single conversation or an array of them. A conversation that could
//! not be read is skipped and reported in plain words while the others are kept; but an
//! image that is not a PNG, JPEG, WebP or GIF by its bytes, or a file over
//! [`MAX_IMPORT_BYTES`], refuses the whole file (see [`Refusal`]). What is imported gets
//! fresh ids ([`Imported::with_fresh_ids`]), so nothing stored is ever overwritten.

use crate::conversation::{Conversation, Node};
use crate::protocol::Role;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

mod base64;
mod contain;

pub use contain::{check_size, sniffed_data_url, BadImage, Refusal, MAX_IMPORT_BYTES};

/// The export file format this version writes and reads.
pub const EXPORT_VERSION: u64 = 1;

/// What an import found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Imported {
    pub conversations: Vec<Conversation>,
    /// Image id to data URL.
    pub images: BTreeMap<String, String>,
    /// One plain-words line per thing that could not be read.
    pub problems: Vec<String>,
}

/// The image ids used by `convs`, each once.
pub fn image_ids(convs: &[Conversation]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for c in convs {
        for n in &c.nodes {
            for img in &n.images {
                if !ids.contains(&img.id) {
                    ids.push(img.id.clone());
                }
            }
        }
    }
    ids
}

/// The export file for `convs`, with the images given (id to data URL).
pub fn to_json(convs: &[Conversation], images: &BTreeMap<String, String>) -> String {
    let conversations: Vec<Value> = convs
        .iter()
        .map(|c| serde_json::to_value(c).expect("a conversation serializes"))
        .collect();
    let mut root = Map::new();
    root.insert("confab_export".into(), EXPORT_VERSION.into());
    root.insert("conversations".into(), Value::Array(conversations));
    let imgs: Map<String, Value> = images
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    root.insert("images".into(), Value::Object(imgs));
    serde_json::to_string_pretty(&Value::Object(root)).expect("json serializes")
}

fn describe(value: &Value, index: usize) -> String {
    let title = value
        .get("title")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty());
    match title {
        Some(t) => format!("Conversation {} (\u{201c}{t}\u{201d})", index + 1),
        None => format!("Conversation {}", index + 1),
    }
}

/// The images of an export file as written, id to (unchecked) data URL; a value that is
/// not a string is kept as an empty URL so that using it refuses the file.
fn raw_images(images: Option<&Value>, problems: &mut Vec<String>) -> BTreeMap<String, String> {
    match images {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(id, url)| (id.clone(), url.as_str().unwrap_or_default().to_owned()))
            .collect(),
        Some(_) => {
            problems.push("The images could not be read: \"images\" is not an object.".into());
            BTreeMap::new()
        }
    }
}

/// Reads an export file. `Err` when the file is refused: too large, an image that is not a
/// PNG, JPEG, WebP or GIF, or nothing at all readable. Otherwise the conversations that were
/// readable, the images they use (as data URLs of their sniffed type) and the problems found.
pub fn from_json(text: &str) -> Result<Imported, Refusal> {
    check_size(text.len() as u64)?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err("The file is empty.".into());
    }
    let root: Value = serde_json::from_str(text)
        .map_err(|e| format!("This file is not valid JSON ({e}), so it is not a Confab export."))?;
    let mut out = Imported::default();
    let (items, images) = match &root {
        Value::Array(items) => (items.clone(), None),
        Value::Object(obj) if obj.contains_key("confab_export") => {
            let version = obj.get("confab_export").and_then(Value::as_u64);
            match version {
                Some(v) if v > EXPORT_VERSION => {
                    return Err(format!(
                        "This file was exported by a newer version of Confab (export format {v}); \
                         this version reads format {EXPORT_VERSION}. Update Confab to import it."
                    )
                    .into())
                }
                Some(v) if v >= 1 => {}
                _ => return Err("This Confab export has no valid format number.".into()),
            }
            let items = match obj.get("conversations") {
                Some(Value::Array(a)) => a.clone(),
                _ => return Err("This Confab export has no list of conversations.".into()),
            };
            (items, obj.get("images"))
        }
        Value::Object(obj) if obj.contains_key("format_version") || obj.contains_key("nodes") => {
            (vec![root.clone()], None)
        }
        _ => return Err(
            "This JSON is not a Confab export: it has neither \"confab_export\" nor conversations."
                .into(),
        ),
    };
    for (i, item) in items.iter().enumerate() {
        match Conversation::from_json(&item.to_string()) {
            Ok(c) => out.conversations.push(c),
            Err(e) => out
                .problems
                .push(format!("{} was skipped: {e}", describe(item, i))),
        }
    }
    let found = raw_images(images, &mut out.problems);
    out.images = contain::contain_images(&mut out.conversations, found, &mut out.problems)?;
    let wanted = image_ids(&out.conversations);
    let missing = wanted
        .iter()
        .filter(|id| !out.images.contains_key(*id))
        .count();
    if missing > 0 {
        out.problems.push(format!(
            "{missing} image(s) used by the conversations are not in the file; those messages keep their text."
        ));
    }
    if out.conversations.is_empty() && !items.is_empty() {
        return Err(format!(
            "No conversation in this file could be read. {}",
            out.problems.join(" ")
        )
        .into());
    }
    if items.is_empty() {
        return Err("This file holds no conversations.".into());
    }
    Ok(out)
}

fn role_heading(role: Role) -> &'static str {
    match role {
        Role::System => "System",
        Role::Developer => "Developer",
        Role::User => "User",
        Role::Assistant => "Assistant",
        Role::Tool => "Tool",
    }
}

fn node_markdown(node: &Node, images: &BTreeMap<String, String>, out: &mut String) {
    out.push_str(&format!("### {}\n\n", role_heading(node.role)));
    for img in &node.images {
        let alt = if img.name.is_empty() {
            "image"
        } else {
            img.name.as_str()
        };
        let alt = alt.replace([']', '['], "");
        match images.get(&img.id) {
            Some(url) => out.push_str(&format!("![{alt}]({url})\n\n")),
            None => out.push_str(&format!("*[image: {alt}]*\n\n")),
        }
    }
    if !node.text.is_empty() {
        out.push_str(node.text.trim_end());
        out.push_str("\n\n");
    }
    if let Some(u) = node.usage {
        out.push_str(&format!(
            "<sub>{} + {} = {} tokens</sub>\n\n",
            u.prompt_tokens, u.completion_tokens, u.total_tokens
        ));
    }
}

/// The visible path of a conversation as Markdown: title, settings, then each message.
pub fn to_markdown(conv: &Conversation, images: &BTreeMap<String, String>) -> String {
    let mut out = format!("# {}\n\n", conv.title_or_default());
    let s = &conv.settings;
    let mut params: Vec<String> = Vec::new();
    if !s.model.is_empty() {
        params.push(format!("model: `{}`", s.model));
    }
    let nums = [
        ("temperature", s.temperature),
        ("top_p", s.top_p),
        ("presence_penalty", s.presence_penalty),
        ("frequency_penalty", s.frequency_penalty),
    ];
    for (name, v) in nums {
        if let Some(v) = v {
            params.push(format!("{name}: {v}"));
        }
    }
    if let Some(m) = s.max_tokens {
        params.push(format!("max_tokens: {m}"));
    }
    if let Some(seed) = s.seed {
        params.push(format!("seed: {seed}"));
    }
    if !s.stop.is_empty() {
        params.push(format!("stop: {:?}", s.stop));
    }
    if s.json_mode {
        params.push("response_format: json_object".into());
    }
    for p in params {
        out.push_str(&format!("- {p}\n"));
    }
    if !s.system_prompt.trim().is_empty() {
        out.push_str("\n### System\n\n");
        out.push_str(s.system_prompt.trim_end());
        out.push('\n');
    }
    out.push('\n');
    for node in conv.active_path() {
        node_markdown(node, images, &mut out);
    }
    out
}

/// Several conversations as one Markdown document.
pub fn all_to_markdown(convs: &[Conversation], images: &BTreeMap<String, String>) -> String {
    convs
        .iter()
        .map(|c| to_markdown(c, images))
        .collect::<Vec<_>>()
        .join("\n---\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{ImageRef, Settings};
    use crate::protocol::ImageDetail;
    use crate::stream::{FinishReason, Usage};

    fn sample(id: &str) -> Conversation {
        let mut c = Conversation::new(id.into(), 1000.0);
        c.title = format!("Title {id}");
        c.settings = Settings {
            model: "gpt-4o".into(),
            system_prompt: "Be brief.".into(),
            temperature: Some(0.5),
            seed: Some(42),
            stop: vec!["END".into()],
            json_mode: true,
            ..Default::default()
        };
        let img = ImageRef {
            id: format!("img-{id}"),
            mime: "image/png".into(),
            width: 2,
            height: 2,
            bytes: 10,
            detail: ImageDetail::Low,
            name: "dot.png".into(),
        };
        let u = c.push_user("What is this?".into(), vec![img], 1001.0);
        let a = c.start_assistant(u, 1002.0);
        c.append_content(a, "A dot.");
        c.set_usage(
            a,
            Usage {
                prompt_tokens: 10,
                completion_tokens: 3,
                total_tokens: 13,
            },
        );
        c.finish(a, FinishReason::Stop);
        c
    }

    fn images(ids: &[&str]) -> BTreeMap<String, String> {
        ids.iter()
            .map(|id| {
                (
                    format!("img-{id}"),
                    "data:image/png;base64,iVBORw0KGgo=".into(),
                )
            })
            .collect()
    }

    #[test]
    fn round_trip_gives_equal_conversations_and_images() {
        let convs = vec![sample("a"), sample("b")];
        let imgs = images(&["a", "b"]);
        let back = from_json(&to_json(&convs, &imgs)).unwrap();
        assert_eq!(back.conversations, convs);
        assert_eq!(back.images, imgs);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
    }

    #[test]
    fn a_single_conversation_or_an_array_imports_too() {
        let c = sample("a");
        let one = from_json(&c.to_json()).unwrap();
        assert_eq!(one.conversations, vec![c.clone()]);
        let arr = format!("[{}]", c.to_json());
        assert_eq!(from_json(&arr).unwrap().conversations, vec![c]);
    }

    /// The reason a file that could not be read at all was refused.
    fn refused(text: &str) -> String {
        match from_json(text) {
            Err(Refusal::Unreadable(reason)) => reason,
            other => panic!("expected an unreadable file, got {other:?}"),
        }
    }

    #[test]
    fn bad_files_give_a_clear_message() {
        let e = refused("hello");
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(refused("").contains("empty"));
        let e = refused(r#"{"name": "x"}"#);
        assert!(e.contains("not a Confab export"), "{e}");
        let e = refused(r#"{"confab_export": 9, "conversations": []}"#);
        assert!(e.contains("newer version"), "{e}");
        let e = refused(r#"{"confab_export": 1, "conversations": []}"#);
        assert!(e.contains("no conversations"), "{e}");
        let e = refused(r#"{"confab_export": 1, "conversations": [{"nodes": 3}]}"#);
        assert!(
            e.contains("No conversation in this file could be read"),
            "{e}"
        );
    }

    #[test]
    fn a_partly_bad_file_imports_the_good_conversations() {
        let good = sample("a");
        let mut root: Value =
            serde_json::from_str(&to_json(std::slice::from_ref(&good), &images(&["a"]))).unwrap();
        let convs = root["conversations"].as_array_mut().unwrap();
        convs.insert(
            0,
            serde_json::json!({"title": "Broken", "format_version": 1}),
        );
        convs.push(serde_json::json!({"format_version": 99, "id": "future"}));
        root["images"]["evil"] = Value::String("javascript:alert(1)".into());
        let got = from_json(&root.to_string()).unwrap();
        assert_eq!(got.conversations, vec![good]);
        assert_eq!(got.images, images(&["a"]));
        assert_eq!(got.problems.len(), 3, "{:?}", got.problems);
        assert!(got.problems[0].starts_with("Conversation 1 (\u{201c}Broken\u{201d}) was skipped"));
        assert!(got.problems[1].contains("newer version"));
        assert!(got.problems[2].contains("Image evil"));
    }

    #[test]
    fn missing_images_are_reported_but_the_conversation_stays() {
        let got = from_json(&to_json(&[sample("a")], &BTreeMap::new())).unwrap();
        assert_eq!(got.conversations.len(), 1);
        assert!(got.problems[0].contains("1 image(s)"));
    }

    #[test]
    fn markdown_shows_settings_messages_images_and_usage() {
        let md = to_markdown(&sample("a"), &images(&["a"]));
        assert!(md.starts_with("# Title a\n"));
        assert!(md.contains("- model: `gpt-4o`"));
        assert!(md.contains("- temperature: 0.5"));
        assert!(md.contains("### System\n\nBe brief."));
        assert!(md.contains("### User\n\n![dot.png](data:image/png;base64,iVBORw0KGgo=)"));
        assert!(md.contains("### Assistant\n\nA dot."));
        assert!(md.contains("10 + 3 = 13 tokens"));
        let no_img = to_markdown(&sample("a"), &BTreeMap::new());
        assert!(no_img.contains("*[image: dot.png]*"));
    }
}
