//! The exact request of a conversation as code a developer can paste: curl, Python (the
//! `openai` package) and JavaScript (`fetch`).
//!
//! Every snippet embeds the same pretty-printed JSON body, so what it sends is what the
//! widget sends. Secret header values (`Authorization`, `api-key`, `x-api-key`) are replaced
//! by a placeholder unless the caller asks to reveal them.

use crate::protocol::ChatRequest;

/// What replaces a secret header value when keys are hidden.
pub const REDACTED: &str = "<API_KEY>";

/// The languages a snippet can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Curl,
    Python,
    JavaScript,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::Curl, Lang::Python, Lang::JavaScript];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Curl => "curl",
            Lang::Python => "python",
            Lang::JavaScript => "javascript",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Lang::Curl => "curl",
            Lang::Python => "Python",
            Lang::JavaScript => "JavaScript",
        }
    }
}

/// Where a request goes and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    /// The absolute chat completions URL, query included.
    pub url: &'a str,
    /// Request headers besides `Content-Type`.
    pub headers: &'a [(String, String)],
    /// Show secret header values instead of the placeholder.
    pub reveal: bool,
}

/// Whether a header carries a credential.
pub fn is_secret_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "api-key" | "x-api-key" | "proxy-authorization"
    )
}

impl Target<'_> {
    /// The headers as shown: secrets hidden unless revealed. `Bearer ` stays visible.
    pub fn shown_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| {
                if self.reveal || !is_secret_header(k) {
                    (k.clone(), v.clone())
                } else if v.starts_with("Bearer ") {
                    (k.clone(), format!("Bearer {REDACTED}"))
                } else {
                    (k.clone(), REDACTED.to_owned())
                }
            })
            .collect()
    }
}

/// The body exactly as sent, pretty-printed.
pub fn body_json(request: &ChatRequest) -> String {
    serde_json::to_string_pretty(request).expect("a request always serializes")
}

/// Quotes `s` for a POSIX shell: inside single quotes nothing is special, and a single
/// quote is written as `'\''` (close, escaped quote, reopen).
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A JSON string literal, which is also a valid JavaScript and Python string literal.
fn str_lit(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

/// The snippet for `lang`.
pub fn snippet(lang: Lang, target: &Target, request: &ChatRequest) -> String {
    match lang {
        Lang::Curl => curl(target, request),
        Lang::Python => python(target, request),
        Lang::JavaScript => javascript(target, request),
    }
}

pub fn curl(target: &Target, request: &ChatRequest) -> String {
    let mut out = format!("curl -N {} \\\n", shell_quote(target.url));
    out.push_str("  -H 'Content-Type: application/json' \\\n");
    for (k, v) in target.shown_headers() {
        out.push_str(&format!("  -H {} \\\n", shell_quote(&format!("{k}: {v}"))));
    }
    out.push_str(&format!(
        "  --data-raw {}\n",
        shell_quote(&body_json(request))
    ));
    out
}

/// Splits a chat completions URL into the base URL the `openai` client wants and its query
/// pairs (Azure's `api-version`).
fn split_url(url: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    };
    let base = path
        .strip_suffix("/chat/completions")
        .unwrap_or(path)
        .to_owned();
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();
    (base, pairs)
}

fn py_dict(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}: {}", str_lit(k), str_lit(v)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

pub fn python(target: &Target, request: &ChatRequest) -> String {
    let (base, query) = split_url(target.url);
    let mut api_key = None;
    let mut headers = Vec::new();
    for (k, v) in target.shown_headers() {
        match (
            k.eq_ignore_ascii_case("authorization"),
            v.strip_prefix("Bearer "),
        ) {
            (true, Some(key)) if api_key.is_none() => api_key = Some(key.to_owned()),
            _ => headers.push((k, v)),
        }
    }
    // The client always sends `Authorization: Bearer <api_key>`; servers without keys
    // ignore it, but the package refuses an empty one.
    let api_key = api_key.unwrap_or_else(|| "none".to_owned());
    let mut client = format!(
        "client = OpenAI(\n    base_url={},\n    api_key={},\n",
        str_lit(&base),
        str_lit(&api_key)
    );
    if !headers.is_empty() {
        client.push_str(&format!("    default_headers={},\n", py_dict(&headers)));
    }
    if !query.is_empty() {
        client.push_str(&format!("    default_query={},\n", py_dict(&query)));
    }
    client.push_str(")\n");
    // JSON never contains `"""` (a quote is always escaped or next to a separator), so a
    // raw triple-quoted string holds it unchanged.
    format!(
        "import json\nfrom openai import OpenAI\n\n{client}\nbody = json.loads(r\"\"\"\n{}\n\"\"\")\n\n\
         stream = client.chat.completions.create(**body)\n\
         for chunk in stream:\n    if chunk.choices and chunk.choices[0].delta.content:\n        \
         print(chunk.choices[0].delta.content, end=\"\", flush=True)\nprint()\n",
        body_json(request)
    )
}

pub fn javascript(target: &Target, request: &ChatRequest) -> String {
    let mut headers = vec![format!(
        "    {}: {}",
        str_lit("Content-Type"),
        str_lit("application/json")
    )];
    for (k, v) in target.shown_headers() {
        headers.push(format!("    {}: {}", str_lit(&k), str_lit(&v)));
    }
    format!(
        "const body = {};\n\n\
         const response = await fetch({}, {{\n  method: \"POST\",\n  headers: {{\n{}\n  }},\n  \
         body: JSON.stringify(body),\n}});\n\
         const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();\n\
         for (;;) {{\n  const {{ value, done }} = await reader.read();\n  if (done) break;\n  \
         console.log(value); // server-sent events: `data: {{...}}` lines\n}}\n",
        body_json(request),
        str_lit(target.url),
        headers.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChatMessage, ResponseFormat, Role, Stop};
    use serde_json::Value;

    fn request() -> ChatRequest {
        let mut r = ChatRequest::streaming(
            "gpt-4o",
            vec![
                ChatMessage::text(Role::System, "You're \"helpful\"\nand 'brief' \\ ok"),
                ChatMessage::text(Role::User, "It's O'Brien's — naïve 日本 \u{2028} \"\"\""),
            ],
        );
        r.temperature = Some(0.3);
        r.seed = Some(-7);
        r.stop = Some(Stop::Many(vec!["'''".into(), "END".into()]));
        r.response_format = Some(ResponseFormat::json_object());
        r
    }

    fn headers() -> Vec<(String, String)> {
        vec![
            ("Authorization".into(), "Bearer sk-it's-secret".into()),
            ("X-Title".into(), "Confab 'play'".into()),
        ]
    }

    /// Undoes `shell_quote` for a word that is a sequence of single-quoted pieces joined
    /// by `\'`, as a POSIX shell does.
    fn shell_unquote(word: &str) -> String {
        let mut out = String::new();
        let mut rest = word;
        loop {
            let inner = rest.strip_prefix('\'').expect("opening quote");
            let end = inner.find('\'').expect("closing quote");
            out.push_str(&inner[..end]);
            rest = &inner[end + 1..];
            match rest.strip_prefix("\\'") {
                Some(r) => {
                    out.push('\'');
                    rest = r;
                }
                None => return out,
            }
        }
    }

    fn sent_body(r: &ChatRequest) -> Value {
        serde_json::to_value(r).unwrap()
    }

    #[test]
    fn shell_quoting_of_single_quotes() {
        assert_eq!(shell_quote("plain"), "'plain'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("''"), r"''\'''\'''");
        for s in ["it's", "''", "a'b'c", "$HOME `x` \\n \"q\"", ""] {
            assert_eq!(shell_unquote(&shell_quote(s)), s);
        }
    }

    #[test]
    fn curl_body_parses_back_to_the_request() {
        let r = request();
        let h = headers();
        let t = Target {
            url: "https://api.example.com/v1/chat/completions",
            headers: &h,
            reveal: false,
        };
        let code = curl(&t, &r);
        let data = code.split("--data-raw ").nth(1).unwrap().trim_end();
        let body: Value = serde_json::from_str(&shell_unquote(data)).unwrap();
        assert_eq!(body, sent_body(&r));
        assert!(code.contains("-H 'Authorization: Bearer <API_KEY>'"));
        assert!(code.contains(r"-H 'X-Title: Confab '\''play'\'''"));
        assert!(!code.contains("secret"));
    }

    #[test]
    fn python_body_parses_back_and_the_client_is_configured() {
        let r = request();
        let h = vec![("api-key".to_owned(), "azkey".to_owned())];
        let t = Target {
            url: "https://r.openai.azure.com/openai/deployments/d1/chat/completions?api-version=2024-10-21",
            headers: &h,
            reveal: true,
        };
        let code = python(&t, &r);
        let start = code.find("r\"\"\"\n").unwrap() + 5;
        let end = code[start..].find("\n\"\"\"").unwrap() + start;
        let body: Value = serde_json::from_str(&code[start..end]).unwrap();
        assert_eq!(body, sent_body(&r));
        assert!(code.contains("base_url=\"https://r.openai.azure.com/openai/deployments/d1\""));
        assert!(code.contains("default_headers={\"api-key\": \"azkey\"}"));
        assert!(code.contains("default_query={\"api-version\": \"2024-10-21\"}"));
        assert!(code.contains("api_key=\"none\""));
    }

    #[test]
    fn python_takes_the_bearer_key_as_api_key() {
        let h = headers();
        let t = Target {
            url: "http://localhost:11434/v1/chat/completions",
            headers: &h,
            reveal: true,
        };
        let code = python(&t, &request());
        assert!(code.contains("api_key=\"sk-it's-secret\""));
        assert!(code.contains("base_url=\"http://localhost:11434/v1\""));
        let hidden = python(
            &Target {
                reveal: false,
                ..t.clone()
            },
            &request(),
        );
        assert!(hidden.contains("api_key=\"<API_KEY>\""));
        assert!(!hidden.contains("secret"));
    }

    #[test]
    fn javascript_body_parses_back_to_the_request() {
        let r = request();
        let h = headers();
        let t = Target {
            url: "http://127.0.0.1:8787/v1/chat/completions",
            headers: &h,
            reveal: false,
        };
        let code = javascript(&t, &r);
        let start = code.find("const body = ").unwrap() + "const body = ".len();
        let end = code.find(";\n\nconst response").unwrap();
        let body: Value = serde_json::from_str(&code[start..end]).unwrap();
        assert_eq!(body, sent_body(&r));
        assert!(code.contains("\"Authorization\": \"Bearer <API_KEY>\""));
        assert!(code.contains("fetch(\"http://127.0.0.1:8787/v1/chat/completions\""));
    }

    #[test]
    fn every_language_embeds_the_same_body() {
        let r = request();
        let t = Target {
            url: "/v1/chat/completions",
            headers: &[],
            reveal: false,
        };
        let body = body_json(&r);
        for lang in Lang::ALL {
            let code = snippet(lang, &t, &r);
            if lang != Lang::Curl {
                assert!(code.contains(&body), "{}", lang.as_str());
            }
        }
    }
}
