//! Prompt templates with `{{variables}}`: the starters shipped with Confab and the user's
//! own. A variable name is letters, digits, `_`, `-` or spaces (trimmed); `{{ name }}` and
//! `{{name}}` are the same variable. Anything else between braces stays as written.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    pub text: String,
}

impl Template {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            text: text.into(),
        }
    }

    pub fn variables(&self) -> Vec<String> {
        variables(&self.text)
    }
}

/// Each `{{ ... }}` span: (byte start, byte end after `}}`, trimmed name) when the inside
/// is a valid name.
fn spans(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|i| i + from) {
        let inner_start = open + 2;
        let Some(close) = text[inner_start..].find("}}").map(|i| i + inner_start) else {
            break;
        };
        let inner = &text[inner_start..close];
        // `{{{x}}}`: the variable starts at the innermost `{{`.
        if let Some(extra) = inner.rfind("{{") {
            from = inner_start + extra;
            continue;
        }
        let name = inner.trim();
        let valid = !name.is_empty()
            && name.chars().count() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ' '));
        if valid {
            out.push((open, close + 2, name));
            from = close + 2;
        } else {
            // `{{{x}}}`: try again one brace later.
            from = open + 1;
        }
    }
    out
}

/// The variable names in order of first appearance, without repeats.
pub fn variables(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (_, _, name) in spans(text) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

/// Replaces each variable by its value. Values are inserted as written (a value that
/// contains `{{x}}` is not expanded again); variables without a value stay as `{{name}}`.
pub fn fill(text: &str, values: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, name) in spans(text) {
        out.push_str(&text[last..start]);
        match values.iter().find(|(k, _)| k == name) {
            Some((_, v)) => out.push_str(v),
            None => out.push_str(&text[start..end]),
        }
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// The starter templates.
pub fn starters() -> Vec<Template> {
    vec![
        Template::new(
            "Translate",
            "Translate the following text into {{language}}. Keep the meaning, tone and formatting; reply with the translation only.\n\n{{text}}",
        ),
        Template::new(
            "Summarize",
            "Summarize the following in {{length}} for {{audience}}. Keep names, numbers and decisions.\n\n{{text}}",
        ),
        Template::new(
            "Explain code",
            "Explain what this {{language}} code does, step by step, and point out any bugs or risky parts.\n\n```\n{{code}}\n```",
        ),
        Template::new(
            "Write SQL",
            "Write a {{dialect}} SQL query for this request: {{request}}\n\nSchema:\n{{schema}}\n\nReply with the query in a code block and one sentence on how it works.",
        ),
        Template::new(
            "Describe an image",
            "Describe the attached image for {{purpose}}: what it shows, any text in it, and details that matter. Be factual and say when you are unsure.",
        ),
        Template::new(
            "Extract JSON",
            "Extract {{fields}} from the text below. Reply with one JSON object only, using null for anything missing.\n\n{{text}}",
        ),
    ]
}

/// The user's saved templates from their JSON form; unreadable data gives none.
pub fn parse_saved(json: &str) -> Vec<Template> {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn saved_to_json(templates: &[Template]) -> String {
    serde_json::to_string(templates).expect("templates serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_in_order_without_repeats() {
        assert_eq!(
            variables("{{b}} then {{ a }} then {{b}} and {{first name}}"),
            vec!["b", "a", "first name"]
        );
        assert!(variables("no vars, {single}, {{}}, {{ }}").is_empty());
    }

    #[test]
    fn invalid_names_and_unclosed_braces_stay_text() {
        assert!(variables("{{a.b}} {{x:y}} {{open").is_empty());
        assert_eq!(
            fill("{{a.b}} {{open", &vals(&[("open", "x")])),
            "{{a.b}} {{open"
        );
    }

    #[test]
    fn triple_braces_take_the_inner_variable() {
        assert_eq!(variables("{{{x}}}"), vec!["x"]);
        assert_eq!(fill("{{{x}}}", &vals(&[("x", "1")])), "{1}");
    }

    #[test]
    fn fill_replaces_all_occurrences_and_keeps_missing_ones() {
        let t = "Hi {{name}}, {{ name }}! {{missing}}";
        assert_eq!(
            fill(t, &vals(&[("name", "Ann")])),
            "Hi Ann, Ann! {{missing}}"
        );
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(
            fill("{{a}} {{b}}", &vals(&[("a", "{{b}}"), ("b", "B")])),
            "{{b}} B"
        );
    }

    #[test]
    fn unicode_around_variables() {
        assert_eq!(
            fill(
                "翻译成{{语言}}：{{text}}",
                &vals(&[("语言", "英语"), ("text", "你好")])
            ),
            "翻译成英语：你好"
        );
    }

    #[test]
    fn starters_cover_the_promised_tasks_and_all_have_variables() {
        let s = starters();
        assert_eq!(s.len(), 6);
        for t in &s {
            assert!(!t.variables().is_empty(), "{}", t.name);
        }
        assert_eq!(starters()[0].variables(), vec!["language", "text"]);
    }

    #[test]
    fn saved_templates_round_trip_and_bad_data_gives_none() {
        let t = vec![Template::new("Mine", "Do {{x}}")];
        assert_eq!(parse_saved(&saved_to_json(&t)), t);
        assert!(parse_saved("not json").is_empty());
    }
}
