//! A small syntax highlighter for code blocks in answers.
//!
//! Highlighting crates cost 200 to 600 KB of wasm (see TOOLCHAIN.md), so this is our own
//! tokenizer: per language family a table of keywords, comment and string syntax, and one
//! linear scan. It does not parse: it colors keywords, literals, strings, comments, numbers,
//! function names and punctuation, which is what makes code in an answer readable.
//!
//! [`highlight`] returns slices of the input that cover it completely and in order, for any
//! input (unknown languages, unterminated strings, arbitrary UTF-8): concatenated, they give the
//! input back.

use std::ops::Range;

/// What a token is, for coloring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// Identifiers, whitespace and anything not colored.
    Plain,
    Keyword,
    /// Built-in constants: `true`, `None`, `null`, …
    Literal,
    /// Type names: built-in ones and, in languages that use the convention, `CapitalizedNames`.
    Type,
    /// A name being called or defined: `name(`, Rust `macro!`.
    Function,
    String,
    Number,
    Comment,
    Punct,
    /// HTML/XML tag names, CSS selectors.
    Tag,
    /// HTML attributes, CSS properties, JSON keys.
    Attr,
    /// Shell `$VARIABLE`s.
    Variable,
    /// Preprocessor lines, decorators and attributes, lifetimes, HTML doctypes and entities.
    Meta,
}

impl TokenKind {
    /// Every kind, in declaration order: `ALL[kind as usize] == kind` (the highlighter
    /// module sends kinds as numbers).
    pub const ALL: [TokenKind; 13] = [
        TokenKind::Plain,
        TokenKind::Keyword,
        TokenKind::Literal,
        TokenKind::Type,
        TokenKind::Function,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Comment,
        TokenKind::Punct,
        TokenKind::Tag,
        TokenKind::Attr,
        TokenKind::Variable,
        TokenKind::Meta,
    ];

    /// The CSS class for this kind (all prefixed `cf-tok-`).
    pub fn as_class(&self) -> &'static str {
        match self {
            TokenKind::Plain => "cf-tok-plain",
            TokenKind::Keyword => "cf-tok-kw",
            TokenKind::Literal => "cf-tok-lit",
            TokenKind::Type => "cf-tok-type",
            TokenKind::Function => "cf-tok-fn",
            TokenKind::String => "cf-tok-str",
            TokenKind::Number => "cf-tok-num",
            TokenKind::Comment => "cf-tok-com",
            TokenKind::Punct => "cf-tok-punct",
            TokenKind::Tag => "cf-tok-tag",
            TokenKind::Attr => "cf-tok-attr",
            TokenKind::Variable => "cf-tok-var",
            TokenKind::Meta => "cf-tok-meta",
        }
    }
}

/// A language (family) the highlighter knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    TypeScript,
    Json,
    Shell,
    Sql,
    Html,
    Css,
    C,
    Go,
    Java,
    /// TOML, YAML, INI: `#` comments, strings, numbers.
    Config,
}

impl Language {
    /// The language for a code fence's info word, case-insensitive (`rs`, `py`, `tsx`, …).
    pub fn from_name(name: &str) -> Option<Language> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "rust" | "rs" => Language::Rust,
            "python" | "py" | "python3" | "py3" => Language::Python,
            "javascript" | "js" | "jsx" | "mjs" | "cjs" | "node" => Language::JavaScript,
            "typescript" | "ts" | "tsx" | "mts" => Language::TypeScript,
            "json" | "jsonc" | "json5" | "jsonl" => Language::Json,
            "shell" | "bash" | "sh" | "zsh" | "console" | "shell-session" | "fish"
            | "powershell" | "ps1" => Language::Shell,
            "sql" | "postgres" | "postgresql" | "mysql" | "sqlite" | "plsql" => Language::Sql,
            "html" | "xml" | "svg" | "xhtml" | "vue" | "svelte" => Language::Html,
            "css" | "scss" | "less" => Language::Css,
            "c" | "h" | "cpp" | "c++" | "cc" | "cxx" | "hpp" | "objc" | "cs" | "csharp" | "c#" => {
                Language::C
            }
            "go" | "golang" => Language::Go,
            "java" | "kotlin" | "kt" | "scala" => Language::Java,
            "toml" | "yaml" | "yml" | "ini" | "cfg" | "conf" | "dockerfile" | "makefile" => {
                Language::Config
            }
            _ => return None,
        })
    }
}

/// Splits `code` into colored tokens. Unknown languages give one [`TokenKind::Plain`] token.
///
/// The slices cover `code` exactly, in order; adjacent tokens of the same kind are merged.
pub fn highlight<'a>(lang: &str, code: &'a str) -> Vec<(TokenKind, &'a str)> {
    let mut out = Tokens::default();
    match Language::from_name(lang) {
        Some(Language::Html) => html(code, 0..code.len(), &mut out),
        Some(Language::Css) => css(code, 0..code.len(), &mut out),
        Some(language) => generic(code, 0..code.len(), spec(language), &mut out),
        None => out.push(TokenKind::Plain, 0..code.len()),
    }
    out.0
        .into_iter()
        .map(|(kind, range)| (kind, &code[range]))
        .collect()
}

/// Tokens as ranges, merged as they are pushed.
#[derive(Default)]
struct Tokens(Vec<(TokenKind, Range<usize>)>);

impl Tokens {
    fn push(&mut self, kind: TokenKind, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, r)) if *last == kind && r.end == range.start => r.end = range.end,
            _ => self.0.push((kind, range)),
        }
    }
}

/// Syntax of a C-like (or at least keyword/string/comment shaped) language.
struct Spec {
    keywords: &'static [&'static str],
    literals: &'static [&'static str],
    types: &'static [&'static str],
    line_comments: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    /// Rust nests block comments.
    nested_comments: bool,
    /// Quotes starting a string that ends at the line's end if unterminated.
    quotes: &'static [u8],
    /// Quotes starting a string that may span lines (JS templates, Go raw strings).
    multiline_quotes: &'static [u8],
    /// Whether `\` escapes inside `multiline_quotes` strings (JS templates: yes; Go raw: no).
    multiline_escapes: bool,
    /// Python `"""` and `'''` strings.
    triple_quotes: bool,
    /// Letters that may prefix a string (`r"…"`, `b'…'`, `f"…"`).
    string_prefixes: &'static [&'static str],
    rust: bool,
    shell: bool,
    /// `#` at a line start begins a preprocessor line.
    preprocessor: bool,
    /// `@name` is a decorator or annotation.
    at_meta: bool,
    case_insensitive: bool,
    /// `CapitalizedName` is a type.
    capitalized_types: bool,
    /// A string followed by `:` is a key.
    json_keys: bool,
    /// Extra identifier characters besides letters, digits and `_`.
    ident_extra: &'static [u8],
}

const BASE: Spec = Spec {
    keywords: &[],
    literals: &[],
    types: &[],
    line_comments: &[],
    block_comment: None,
    nested_comments: false,
    quotes: b"\"'",
    multiline_quotes: b"",
    multiline_escapes: false,
    triple_quotes: false,
    string_prefixes: &[],
    rust: false,
    shell: false,
    preprocessor: false,
    at_meta: false,
    case_insensitive: false,
    capitalized_types: false,
    json_keys: false,
    ident_extra: b"",
};

const JS_KEYWORDS: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "finally",
    "for",
    "from",
    "function",
    "get",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "of",
    "return",
    "set",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];
const TS_KEYWORDS: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "declare",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "finally",
    "for",
    "from",
    "function",
    "get",
    "if",
    "implements",
    "import",
    "in",
    "infer",
    "instanceof",
    "interface",
    "is",
    "keyof",
    "let",
    "namespace",
    "new",
    "of",
    "private",
    "protected",
    "public",
    "readonly",
    "return",
    "satisfies",
    "set",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "try",
    "type",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];
const JS_LITERALS: &[&str] = &["false", "null", "true", "undefined", "NaN", "Infinity"];
const C_COMMENTS: Option<(&str, &str)> = Some(("/*", "*/"));

fn spec(language: Language) -> &'static Spec {
    static RUST: Spec = Spec {
        keywords: &[
            "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
            "extern", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
            "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
            "type", "unsafe", "use", "where", "while", "yield",
        ],
        literals: &["true", "false", "None", "Some", "Ok", "Err"],
        types: &[
            "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize",
            "f32", "f64", "bool", "char", "str", "String", "Vec", "Option", "Result", "Box",
        ],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        nested_comments: true,
        quotes: b"\"",
        string_prefixes: &["b"],
        rust: true,
        capitalized_types: true,
        ..BASE
    };
    static PYTHON: Spec = Spec {
        keywords: &[
            "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
            "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in",
            "is", "lambda", "match", "case", "nonlocal", "not", "or", "pass", "raise", "return",
            "try", "while", "with", "yield", "self",
        ],
        literals: &["True", "False", "None"],
        types: &[
            "int", "float", "str", "bool", "list", "dict", "set", "tuple", "bytes", "object",
        ],
        line_comments: &["#"],
        triple_quotes: true,
        string_prefixes: &[
            "r", "b", "f", "u", "rb", "br", "fr", "rf", "R", "B", "F", "U", "Rb", "bR", "RB", "BR",
            "Fr", "fR", "FR", "rF", "Rf", "RF",
        ],
        at_meta: true,
        capitalized_types: true,
        ..BASE
    };
    static JAVASCRIPT: Spec = Spec {
        keywords: JS_KEYWORDS,
        literals: JS_LITERALS,
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        multiline_quotes: b"`",
        multiline_escapes: true,
        capitalized_types: true,
        ident_extra: b"$",
        ..BASE
    };
    static TYPESCRIPT: Spec = Spec {
        keywords: TS_KEYWORDS,
        literals: JS_LITERALS,
        types: &[
            "string", "number", "boolean", "any", "unknown", "never", "object", "bigint", "symbol",
        ],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        multiline_quotes: b"`",
        multiline_escapes: true,
        at_meta: true,
        capitalized_types: true,
        ident_extra: b"$",
        ..BASE
    };
    static JSON: Spec = Spec {
        literals: &["true", "false", "null"],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        json_keys: true,
        ..BASE
    };
    static SHELL: Spec = Spec {
        keywords: &[
            "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "until",
            "case", "esac", "function", "return", "export", "local", "readonly", "unset", "source",
            "alias", "sudo", "cd", "echo", "exit", "set",
        ],
        literals: &["true", "false"],
        line_comments: &["#"],
        shell: true,
        ident_extra: b"-.",
        ..BASE
    };
    static SQL: Spec = Spec {
        keywords: &[
            "add",
            "all",
            "alter",
            "and",
            "as",
            "asc",
            "begin",
            "between",
            "by",
            "case",
            "cascade",
            "check",
            "column",
            "commit",
            "constraint",
            "create",
            "cross",
            "database",
            "default",
            "delete",
            "desc",
            "distinct",
            "drop",
            "else",
            "end",
            "exists",
            "foreign",
            "from",
            "full",
            "group",
            "having",
            "if",
            "in",
            "index",
            "inner",
            "insert",
            "into",
            "is",
            "join",
            "key",
            "left",
            "like",
            "limit",
            "not",
            "offset",
            "on",
            "or",
            "order",
            "outer",
            "over",
            "partition",
            "primary",
            "references",
            "returning",
            "right",
            "rollback",
            "select",
            "set",
            "table",
            "then",
            "transaction",
            "union",
            "unique",
            "update",
            "using",
            "values",
            "view",
            "when",
            "where",
            "with",
        ],
        literals: &["null", "true", "false"],
        types: &[
            "int",
            "integer",
            "bigint",
            "smallint",
            "serial",
            "bigserial",
            "text",
            "varchar",
            "char",
            "boolean",
            "bool",
            "date",
            "timestamp",
            "timestamptz",
            "numeric",
            "decimal",
            "real",
            "float",
            "double",
            "json",
            "jsonb",
            "uuid",
            "blob",
        ],
        line_comments: &["--"],
        block_comment: C_COMMENTS,
        case_insensitive: true,
        ..BASE
    };
    static C: Spec = Spec {
        keywords: &[
            "auto",
            "break",
            "case",
            "catch",
            "class",
            "const",
            "constexpr",
            "continue",
            "default",
            "delete",
            "do",
            "else",
            "enum",
            "explicit",
            "extern",
            "for",
            "friend",
            "goto",
            "if",
            "inline",
            "namespace",
            "new",
            "noexcept",
            "operator",
            "private",
            "protected",
            "public",
            "register",
            "return",
            "sizeof",
            "static",
            "struct",
            "switch",
            "template",
            "this",
            "throw",
            "try",
            "typedef",
            "typename",
            "union",
            "using",
            "virtual",
            "volatile",
            "while",
            "override",
            "final",
        ],
        literals: &["true", "false", "NULL", "nullptr"],
        types: &[
            "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
            "bool", "size_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
            "uint32_t", "uint64_t", "string", "std",
        ],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        preprocessor: true,
        ..BASE
    };
    static GO: Spec = Spec {
        keywords: &[
            "break",
            "case",
            "chan",
            "const",
            "continue",
            "default",
            "defer",
            "else",
            "fallthrough",
            "for",
            "func",
            "go",
            "goto",
            "if",
            "import",
            "interface",
            "map",
            "package",
            "range",
            "return",
            "select",
            "struct",
            "switch",
            "type",
            "var",
        ],
        literals: &["true", "false", "nil", "iota"],
        types: &[
            "bool",
            "byte",
            "complex64",
            "complex128",
            "error",
            "float32",
            "float64",
            "int",
            "int8",
            "int16",
            "int32",
            "int64",
            "rune",
            "string",
            "uint",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "uintptr",
            "any",
        ],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        multiline_quotes: b"`",
        ..BASE
    };
    static JAVA: Spec = Spec {
        keywords: &[
            "abstract",
            "assert",
            "break",
            "case",
            "catch",
            "class",
            "continue",
            "default",
            "do",
            "else",
            "enum",
            "extends",
            "final",
            "finally",
            "for",
            "fun",
            "if",
            "implements",
            "import",
            "instanceof",
            "interface",
            "native",
            "new",
            "package",
            "private",
            "protected",
            "public",
            "record",
            "return",
            "static",
            "super",
            "switch",
            "synchronized",
            "this",
            "throw",
            "throws",
            "transient",
            "try",
            "val",
            "var",
            "volatile",
            "while",
            "yield",
            "object",
            "when",
        ],
        literals: &["true", "false", "null"],
        types: &[
            "boolean", "byte", "char", "double", "float", "int", "long", "short", "void",
        ],
        line_comments: &["//"],
        block_comment: C_COMMENTS,
        at_meta: true,
        capitalized_types: true,
        ..BASE
    };
    static CONFIG: Spec = Spec {
        literals: &["true", "false", "yes", "no", "on", "off", "null"],
        line_comments: &["#", ";"],
        ident_extra: b"-",
        ..BASE
    };
    match language {
        Language::Rust => &RUST,
        Language::Python => &PYTHON,
        Language::JavaScript => &JAVASCRIPT,
        Language::TypeScript => &TYPESCRIPT,
        Language::Json => &JSON,
        Language::Shell => &SHELL,
        Language::Sql => &SQL,
        Language::C => &C,
        Language::Go => &GO,
        Language::Java => &JAVA,
        Language::Config => &CONFIG,
        // Have their own tokenizers; all-plain if reached.
        Language::Html | Language::Css => &BASE,
    }
}

fn is_ident_start(b: u8, spec: &Spec) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 || spec.ident_extra.contains(&b) && b != b'-'
}

fn is_ident_char(b: u8, spec: &Spec) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 || spec.ident_extra.contains(&b)
}

/// Length of the character starting at byte `i` (1 for ASCII and for invalid positions).
fn char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

/// Whether `i` is at the start of a line, after optional spaces or tabs.
fn at_line_start(bytes: &[u8], start: usize, i: usize) -> bool {
    let mut j = i;
    while j > start && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    j == start || bytes[j - 1] == b'\n'
}

/// The end of a string whose opening quote(s) end at `i`: after the closing `close`, or at the
/// line end (single-line strings) or text end when unterminated.
fn string_end(
    s: &str,
    mut i: usize,
    end: usize,
    close: &[u8],
    escapes: bool,
    multiline: bool,
) -> usize {
    let bytes = s.as_bytes();
    while i < end {
        let b = bytes[i];
        if escapes && b == b'\\' && i + 1 < end {
            i += 1 + char_len(s, i + 1);
            continue;
        }
        if b == b'\n' && !multiline {
            return i;
        }
        if bytes[i..end].starts_with(close) {
            return i + close.len();
        }
        i += 1;
    }
    end
}

/// The tokenizer for keyword/string/comment shaped languages.
fn generic(s: &str, range: Range<usize>, spec: &Spec, out: &mut Tokens) {
    let bytes = s.as_bytes();
    let (start, end) = (range.start, range.end);
    let mut i = start;
    while i < end {
        let b = bytes[i];
        let rest = &bytes[i..end];
        // Comments.
        if let Some(lc) = spec
            .line_comments
            .iter()
            .find(|lc| rest.starts_with(lc.as_bytes()))
        {
            let shell_ok = !spec.shell || i == start || bytes[i - 1].is_ascii_whitespace();
            let config_ok = *lc != ";" || at_line_start(bytes, start, i);
            if shell_ok && config_ok {
                let stop = memchr_newline(bytes, i, end);
                out.push(TokenKind::Comment, i..stop);
                i = stop;
                continue;
            }
        }
        if let Some((open, close)) = spec.block_comment {
            if rest.starts_with(open.as_bytes()) {
                let stop = block_comment_end(
                    bytes,
                    i + open.len(),
                    end,
                    open,
                    close,
                    spec.nested_comments,
                );
                out.push(TokenKind::Comment, i..stop);
                i = stop;
                continue;
            }
        }
        if spec.preprocessor && b == b'#' && at_line_start(bytes, start, i) {
            let stop = memchr_newline(bytes, i, end);
            out.push(TokenKind::Meta, i..stop);
            i = stop;
            continue;
        }
        // Strings.
        if spec.triple_quotes && (rest.starts_with(b"\"\"\"") || rest.starts_with(b"'''")) {
            let stop = string_end(s, i + 3, end, &rest[..3], true, true);
            out.push(TokenKind::String, i..stop);
            i = stop;
            continue;
        }
        if spec.quotes.contains(&b) || spec.multiline_quotes.contains(&b) {
            let multiline = spec.multiline_quotes.contains(&b);
            // Shell single quotes have no escapes; Go raw strings neither.
            let escapes = if multiline {
                spec.multiline_escapes
            } else {
                !(spec.shell && b == b'\'')
            };
            let stop = string_end(s, i + 1, end, &[b], escapes, multiline || spec.shell);
            let kind = if spec.json_keys && next_non_space(bytes, stop, end) == Some(b':') {
                TokenKind::Attr
            } else {
                TokenKind::String
            };
            out.push(kind, i..stop);
            i = stop;
            continue;
        }
        if spec.rust && b == b'\'' {
            let stop = rust_quote(s, i, end);
            let kind = if bytes[stop - 1] == b'\'' && stop - i > 2 {
                TokenKind::String
            } else {
                TokenKind::Meta // a lifetime such as 'a
            };
            out.push(kind, i..stop);
            i = stop;
            continue;
        }
        if spec.shell && b == b'$' {
            let stop = shell_variable(s, i, end);
            out.push(TokenKind::Variable, i..stop);
            i = stop;
            continue;
        }
        if spec.at_meta && b == b'@' && i + 1 < end && is_ident_start(bytes[i + 1], spec) {
            let mut j = i + 1;
            while j < end && (is_ident_char(bytes[j], spec) || bytes[j] == b'.') {
                j += 1;
            }
            out.push(TokenKind::Meta, i..j);
            i = j;
            continue;
        }
        if spec.rust && b == b'#' && i + 1 < end && matches!(bytes[i + 1], b'[' | b'!') {
            // Attributes: up to the closing bracket on this line.
            let line_end = memchr_newline(bytes, i, end);
            let stop = bytes[i..line_end]
                .iter()
                .position(|&c| c == b']')
                .map_or(line_end, |p| i + p + 1);
            out.push(TokenKind::Meta, i..stop);
            i = stop;
            continue;
        }
        // Numbers.
        if b.is_ascii_digit()
            || (b == b'.'
                && i + 1 < end
                && bytes[i + 1].is_ascii_digit()
                && !prev_is_ident(bytes, start, i, spec))
        {
            let stop = number_end(bytes, i, end);
            out.push(TokenKind::Number, i..stop);
            i = stop;
            continue;
        }
        // Words.
        if is_ident_start(b, spec) {
            let mut j = i;
            while j < end && is_ident_char(bytes[j], spec) {
                j += 1;
            }
            // Ends on a character boundary: identifier bytes include all non-ASCII bytes.
            let word = &s[i..j];
            // String prefixes: r"…", b'…', f"…", Rust raw strings r#"…"#.
            if j < end && spec.string_prefixes.contains(&word) && matches!(bytes[j], b'"' | b'\'') {
                let q = bytes[j];
                let (close, escapes): (&[u8], bool) =
                    if spec.triple_quotes && bytes[j..end].starts_with(&[q, q, q]) {
                        (&bytes[j..j + 3], !word.contains(['r', 'R']))
                    } else {
                        (&bytes[j..j + 1], !word.contains(['r', 'R']))
                    };
                let stop = string_end(
                    s,
                    j + close.len(),
                    end,
                    close,
                    escapes,
                    close.len() == 3 || spec.rust,
                );
                out.push(TokenKind::String, i..stop);
                i = stop;
                continue;
            }
            if spec.rust
                && (word == "r" || word == "br")
                && j < end
                && matches!(bytes[j], b'#' | b'"')
            {
                if let Some(stop) = rust_raw_string(bytes, j, end) {
                    out.push(TokenKind::String, i..stop);
                    i = stop;
                    continue;
                }
            }
            let kind = word_kind(word, spec, bytes, j, end);
            out.push(kind, i..j);
            i = j;
            continue;
        }
        if b.is_ascii_whitespace() {
            let mut j = i + 1;
            while j < end && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            out.push(TokenKind::Plain, i..j);
            i = j;
            continue;
        }
        if b.is_ascii_punctuation() {
            out.push(TokenKind::Punct, i..i + 1);
            i += 1;
            continue;
        }
        // Control characters and anything else.
        let len = char_len(s, i);
        out.push(TokenKind::Plain, i..i + len);
        i += len;
    }
}

fn prev_is_ident(bytes: &[u8], start: usize, i: usize, spec: &Spec) -> bool {
    i > start && is_ident_char(bytes[i - 1], spec)
}

fn word_kind(word: &str, spec: &Spec, bytes: &[u8], j: usize, end: usize) -> TokenKind {
    let is = |list: &[&str]| {
        if spec.case_insensitive {
            list.iter().any(|k| k.eq_ignore_ascii_case(word))
        } else {
            list.contains(&word)
        }
    };
    if word.len() <= 16 {
        if is(spec.keywords) {
            return TokenKind::Keyword;
        }
        if is(spec.literals) {
            return TokenKind::Literal;
        }
        if is(spec.types) {
            return TokenKind::Type;
        }
    }
    let next = if j < end { Some(bytes[j]) } else { None };
    if next == Some(b'(') || (spec.rust && next == Some(b'!') && bytes.get(j + 1) != Some(&b'=')) {
        return TokenKind::Function;
    }
    if spec.capitalized_types
        && word.as_bytes()[0].is_ascii_uppercase()
        && word.bytes().any(|c| c.is_ascii_lowercase())
    {
        return TokenKind::Type;
    }
    TokenKind::Plain
}

fn memchr_newline(bytes: &[u8], i: usize, end: usize) -> usize {
    bytes[i..end]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(end, |p| i + p)
}

fn next_non_space(bytes: &[u8], i: usize, end: usize) -> Option<u8> {
    bytes[i..end]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

fn block_comment_end(
    bytes: &[u8],
    mut i: usize,
    end: usize,
    open: &str,
    close: &str,
    nested: bool,
) -> usize {
    let mut depth = 1usize;
    while i < end {
        if bytes[i..end].starts_with(close.as_bytes()) {
            depth -= 1;
            i += close.len();
            if depth == 0 {
                return i;
            }
        } else if nested && bytes[i..end].starts_with(open.as_bytes()) {
            depth += 1;
            i += open.len();
        } else {
            i += 1;
        }
    }
    end
}

fn number_end(bytes: &[u8], i: usize, end: usize) -> usize {
    let hex = bytes[i..end].starts_with(b"0x") || bytes[i..end].starts_with(b"0X");
    let mut j = i + 1;
    while j < end {
        let c = bytes[j];
        let digit_part = c.is_ascii_alphanumeric() || c == b'_';
        let fraction = c == b'.' && j + 1 < end && bytes[j + 1].is_ascii_digit();
        let exponent_sign = matches!(c, b'+' | b'-') && !hex && matches!(bytes[j - 1], b'e' | b'E');
        if !(digit_part || fraction || exponent_sign) {
            break;
        }
        j += 1;
    }
    j
}

/// A Rust `'c'` / `'\n'` char literal or a `'a` lifetime starting at `i`.
fn rust_quote(s: &str, i: usize, end: usize) -> usize {
    let bytes = s.as_bytes();
    let mut j = i + 1;
    if j >= end {
        return end;
    }
    if bytes[j] == b'\\' {
        // Escaped char: up to the closing quote on this line.
        j += 1;
        if j < end {
            j += char_len(s, j);
        }
        while j < end && bytes[j] != b'\'' && bytes[j] != b'\n' {
            j += 1;
        }
        return if j < end && bytes[j] == b'\'' {
            j + 1
        } else {
            j
        };
    }
    let after = j + char_len(s, j);
    if after < end && bytes[after] == b'\'' {
        return after + 1;
    }
    // A lifetime or label.
    while j < end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
        j += 1;
    }
    j.max(i + 1)
}

/// `r#"…"#` starting at the `#` or `"` after `r`; `None` if it is not one.
fn rust_raw_string(bytes: &[u8], j: usize, end: usize) -> Option<usize> {
    let hashes = bytes[j..end].iter().take_while(|&&b| b == b'#').count();
    let quote = j + hashes;
    if quote >= end || bytes[quote] != b'"' {
        return None;
    }
    let mut k = quote + 1;
    while k < end {
        if bytes[k] == b'"'
            && k + 1 + hashes <= end
            && bytes[k + 1..k + 1 + hashes].iter().all(|&b| b == b'#')
        {
            return Some(k + 1 + hashes);
        }
        k += 1;
    }
    Some(end)
}

/// `$NAME`, `${…}`, `$1`, `$?` starting at `i`.
fn shell_variable(s: &str, i: usize, end: usize) -> usize {
    let bytes = s.as_bytes();
    let j = i + 1;
    if j >= end {
        return end;
    }
    if bytes[j] == b'{' {
        let line_end = memchr_newline(bytes, j, end);
        return bytes[j..line_end]
            .iter()
            .position(|&b| b == b'}')
            .map_or(line_end, |p| j + p + 1);
    }
    if bytes[j].is_ascii_alphabetic() || bytes[j] == b'_' {
        let mut k = j;
        while k < end && (bytes[k].is_ascii_alphanumeric() || bytes[k] == b'_') {
            k += 1;
        }
        return k;
    }
    if bytes[j].is_ascii_digit()
        || matches!(bytes[j], b'?' | b'@' | b'#' | b'$' | b'!' | b'*' | b'-')
    {
        return j + 1;
    }
    j
}

/// HTML and XML: tags, attributes, comments, entities; `<script>` and `<style>` contents as
/// JavaScript and CSS.
fn html(s: &str, range: Range<usize>, out: &mut Tokens) {
    let bytes = s.as_bytes();
    let end = range.end;
    let mut i = range.start;
    while i < end {
        let rest = &bytes[i..end];
        if rest.starts_with(b"<!--") {
            let stop = find(bytes, i + 4, end, b"-->").map_or(end, |p| p + 3);
            out.push(TokenKind::Comment, i..stop);
            i = stop;
        } else if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            let stop = find(bytes, i + 2, end, b">").map_or(end, |p| p + 1);
            out.push(TokenKind::Meta, i..stop);
            i = stop;
        } else if rest[0] == b'<'
            && rest.len() > 1
            && (rest[1].is_ascii_alphabetic() || rest[1] == b'/')
        {
            let closing = rest[1] == b'/';
            let name_start = i + 1 + usize::from(closing);
            out.push(TokenKind::Punct, i..name_start);
            let mut j = name_start;
            while j < end
                && (bytes[j].is_ascii_alphanumeric()
                    || matches!(bytes[j], b'-' | b':' | b'_' | b'.'))
            {
                j += 1;
            }
            out.push(TokenKind::Tag, name_start..j);
            let name = s[name_start..j].to_ascii_lowercase();
            j = html_attributes(s, j, end, out);
            i = j;
            // Raw text elements: their content in their own language.
            if !closing && (name == "script" || name == "style") {
                let close = format!("</{name}");
                let content_end = find_ignore_case(bytes, i, end, close.as_bytes()).unwrap_or(end);
                if name == "script" {
                    generic(s, i..content_end, spec(Language::JavaScript), out);
                } else {
                    css(s, i..content_end, out);
                }
                i = content_end;
            }
        } else if rest[0] == b'&' {
            let stop = rest
                .iter()
                .take(32)
                .position(|&b| b == b';')
                .filter(|&p| {
                    p > 1
                        && rest[1..p]
                            .iter()
                            .all(|b| b.is_ascii_alphanumeric() || *b == b'#')
                })
                .map_or(i + 1, |p| i + p + 1);
            let kind = if stop > i + 1 {
                TokenKind::Meta
            } else {
                TokenKind::Plain
            };
            out.push(kind, i..stop);
            i = stop;
        } else {
            let stop = bytes[i + 1..end]
                .iter()
                .position(|&b| b == b'<' || b == b'&')
                .map_or(end, |p| i + 1 + p);
            out.push(TokenKind::Plain, i..stop);
            i = stop;
        }
    }
}

/// Attributes of a tag up to and including its `>`; returns the position after it.
fn html_attributes(s: &str, mut j: usize, end: usize, out: &mut Tokens) -> usize {
    let bytes = s.as_bytes();
    while j < end {
        let b = bytes[j];
        if b == b'>' {
            out.push(TokenKind::Punct, j..j + 1);
            return j + 1;
        }
        if b == b'/' || b == b'=' {
            out.push(TokenKind::Punct, j..j + 1);
            j += 1;
        } else if b == b'"' || b == b'\'' {
            let stop = find(bytes, j + 1, end, &[b]).map_or(end, |p| p + 1);
            out.push(TokenKind::String, j..stop);
            j = stop;
        } else if b.is_ascii_whitespace() {
            out.push(TokenKind::Plain, j..j + 1);
            j += 1;
        } else if b == b'<' {
            // A new tag began: this one was never closed.
            return j;
        } else {
            let after_eq = j > 0 && bytes[j - 1] == b'=';
            let mut k = j;
            while k < end
                && !bytes[k].is_ascii_whitespace()
                && !matches!(bytes[k], b'>' | b'=' | b'/' | b'<' | b'"' | b'\'')
            {
                k += 1;
            }
            // Unquoted attribute values may contain `/` (`href=/a/b`).
            if after_eq {
                while k < end && !bytes[k].is_ascii_whitespace() && !matches!(bytes[k], b'>' | b'<')
                {
                    k += 1;
                }
            }
            let k = if k == j { j + char_len(s, j) } else { k };
            let kind = if after_eq {
                TokenKind::String
            } else {
                TokenKind::Attr
            };
            out.push(kind, j..k);
            j = k;
        }
    }
    end
}

fn find(bytes: &[u8], from: usize, end: usize, needle: &[u8]) -> Option<usize> {
    if from >= end {
        return None;
    }
    bytes[from..end]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ignore_case(bytes: &[u8], from: usize, end: usize, needle: &[u8]) -> Option<usize> {
    if from >= end {
        return None;
    }
    bytes[from..end]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// CSS: selectors, properties, values, at-rules, comments.
fn css(s: &str, range: Range<usize>, out: &mut Tokens) {
    let bytes = s.as_bytes();
    let end = range.end;
    let mut i = range.start;
    // Inside a declaration block, and after the `:` of a declaration.
    let mut depth = 0usize;
    let mut in_value = false;
    while i < end {
        let b = bytes[i];
        let rest = &bytes[i..end];
        if rest.starts_with(b"/*") {
            let stop = find(bytes, i + 2, end, b"*/").map_or(end, |p| p + 2);
            out.push(TokenKind::Comment, i..stop);
            i = stop;
            continue;
        }
        match b {
            b'"' | b'\'' => {
                let stop = string_end(s, i + 1, end, &[b], true, false);
                out.push(TokenKind::String, i..stop);
                i = stop;
            }
            b'{' => {
                depth += 1;
                in_value = false;
                out.push(TokenKind::Punct, i..i + 1);
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                in_value = false;
                out.push(TokenKind::Punct, i..i + 1);
                i += 1;
            }
            b';' => {
                in_value = false;
                out.push(TokenKind::Punct, i..i + 1);
                i += 1;
            }
            b':' if depth > 0 && !in_value => {
                in_value = true;
                out.push(TokenKind::Punct, i..i + 1);
                i += 1;
            }
            b'@' => {
                let mut j = i + 1;
                while j < end && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
                    j += 1;
                }
                out.push(TokenKind::Keyword, i..j);
                i = j;
            }
            b'#' if in_value => {
                let mut j = i + 1;
                while j < end && bytes[j].is_ascii_alphanumeric() {
                    j += 1;
                }
                out.push(TokenKind::Number, i..j);
                i = j;
            }
            b'!' if in_value
                && bytes[i..end].len() >= 10
                && bytes[i + 1..i + 10].eq_ignore_ascii_case(b"important") =>
            {
                out.push(TokenKind::Keyword, i..i + 10);
                i += 10;
            }
            _ if b.is_ascii_digit()
                || (b == b'.' && in_value && i + 1 < end && bytes[i + 1].is_ascii_digit()) =>
            {
                let mut j = i + 1;
                while j < end
                    && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'.' || bytes[j] == b'%')
                {
                    j += 1;
                }
                out.push(TokenKind::Number, i..j);
                i = j;
            }
            _ if b.is_ascii_alphabetic() || b == b'-' || b == b'_' || b >= 0x80 => {
                let mut j = i;
                while j < end
                    && (bytes[j].is_ascii_alphanumeric()
                        || matches!(bytes[j], b'-' | b'_')
                        || bytes[j] >= 0x80)
                {
                    j += 1;
                }
                let kind = if in_value {
                    if j < end && bytes[j] == b'(' {
                        TokenKind::Function
                    } else {
                        TokenKind::Plain
                    }
                } else if depth > 0 && next_non_space(bytes, j, end) == Some(b':') {
                    TokenKind::Attr
                } else {
                    TokenKind::Tag
                };
                out.push(kind, i..j);
                i = j;
            }
            _ if b.is_ascii_whitespace() => {
                out.push(TokenKind::Plain, i..i + 1);
                i += 1;
            }
            _ if b.is_ascii_punctuation() => {
                out.push(TokenKind::Punct, i..i + 1);
                i += 1;
            }
            _ => {
                let len = char_len(s, i);
                out.push(TokenKind::Plain, i..i + len);
                i += len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds<'a>(lang: &str, code: &'a str) -> Vec<(TokenKind, &'a str)> {
        highlight(lang, code)
            .into_iter()
            .filter(|(k, _)| *k != TokenKind::Plain)
            .collect()
    }

    fn has(lang: &str, code: &str, kind: TokenKind, text: &str) -> bool {
        highlight(lang, code).contains(&(kind, text))
    }

    #[test]
    fn every_kind_is_listed_at_its_number() {
        for (i, kind) in TokenKind::ALL.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
    }

    #[test]
    fn rust_keywords_strings_comments_and_numbers() {
        let code = "fn main() {\n    let x: u32 = 0x1F; // hi\n    println!(\"a \\\" b\");\n}\n";
        assert!(has("rust", code, TokenKind::Keyword, "fn"));
        assert!(has("rust", code, TokenKind::Function, "main"));
        assert!(has("rust", code, TokenKind::Keyword, "let"));
        assert!(has("rust", code, TokenKind::Type, "u32"));
        assert!(has("rust", code, TokenKind::Number, "0x1F"));
        assert!(has("rust", code, TokenKind::Comment, "// hi"));
        assert!(has("rust", code, TokenKind::Function, "println"));
        assert!(has("rust", code, TokenKind::String, "\"a \\\" b\""));
    }

    #[test]
    fn rust_raw_strings_chars_lifetimes_and_nested_comments() {
        assert!(has(
            "rs",
            "let s = r#\"a \"quoted\" b\"#;",
            TokenKind::String,
            "r#\"a \"quoted\" b\"#"
        ));
        assert!(has("rs", "let c = '\\n';", TokenKind::String, "'\\n'"));
        assert!(has("rs", "let c = 'x';", TokenKind::String, "'x'"));
        assert!(has("rs", "fn f<'a>(x: &'a str)", TokenKind::Meta, "'a"));
        assert!(has(
            "rs",
            "/* a /* b */ c */ x",
            TokenKind::Comment,
            "/* a /* b */ c */"
        ));
        assert!(has(
            "rs",
            "#[derive(Debug)]\nstruct A;",
            TokenKind::Meta,
            "#[derive(Debug)]"
        ));
    }

    #[test]
    fn python_triple_quotes_prefixes_and_decorators() {
        let code = "@cache\ndef f(x):\n    \"\"\"Doc \"string\"\n    more\"\"\"\n    return f'{x}' # done\n";
        assert!(has("py", code, TokenKind::Meta, "@cache"));
        assert!(has("py", code, TokenKind::Keyword, "def"));
        assert!(has("py", code, TokenKind::Function, "f"));
        assert!(has(
            "py",
            code,
            TokenKind::String,
            "\"\"\"Doc \"string\"\n    more\"\"\""
        ));
        assert!(has("py", code, TokenKind::String, "f'{x}'"));
        assert!(has("py", code, TokenKind::Comment, "# done"));
        assert!(has("python", "x = None", TokenKind::Literal, "None"));
    }

    #[test]
    fn javascript_templates_and_typescript_types() {
        let code = "const s = `a ${b}\nc`; // x";
        assert!(has("js", code, TokenKind::Keyword, "const"));
        assert!(has("js", code, TokenKind::String, "`a ${b}\nc`"));
        assert!(has("js", code, TokenKind::Comment, "// x"));
        assert!(has(
            "ts",
            "interface A { x: string }",
            TokenKind::Keyword,
            "interface"
        ));
        assert!(has("tsx", "let a: number = 1", TokenKind::Type, "number"));
        assert!(has("jsx", "new Map()", TokenKind::Function, "Map"));
    }

    #[test]
    fn json_keys_are_attributes_and_values_strings() {
        let code = "{\"name\": \"confab\", \"n\": -1.5e3, \"ok\": true, \"x\": null}";
        assert!(has("json", code, TokenKind::Attr, "\"name\""));
        assert!(has("json", code, TokenKind::String, "\"confab\""));
        assert!(has("json", code, TokenKind::Number, "1.5e3"));
        assert!(has("json", code, TokenKind::Literal, "true"));
        assert!(has("json", code, TokenKind::Literal, "null"));
    }

    #[test]
    fn shell_comments_variables_and_quotes() {
        let code = "# setup\nexport PATH=\"$HOME/bin:$PATH\" # note\necho 'it''s' a#b ${X}\n";
        assert!(has("bash", code, TokenKind::Comment, "# setup"));
        assert!(has("sh", code, TokenKind::Keyword, "export"));
        assert!(has("sh", code, TokenKind::Comment, "# note"));
        assert!(has("zsh", code, TokenKind::Variable, "${X}"));
        // `#` inside a word is not a comment.
        assert!(!kinds("sh", code)
            .iter()
            .any(|(k, t)| *k == TokenKind::Comment && t.contains("#b")));
    }

    #[test]
    fn sql_keywords_any_case() {
        let code = "SELECT id, name FROM users WHERE name = 'O''Brien' -- who\nlimit 10;";
        assert!(has("sql", code, TokenKind::Keyword, "SELECT"));
        assert!(has("sql", code, TokenKind::Keyword, "limit"));
        assert!(has("sql", code, TokenKind::Comment, "-- who"));
        assert!(has("sql", code, TokenKind::String, "'O''Brien'"));
        assert!(has("sql", code, TokenKind::Number, "10"));
    }

    #[test]
    fn html_tags_attributes_comments_and_script() {
        let code = "<!DOCTYPE html>\n<a href=\"/x\" data-y=1>T &amp; U</a><!-- c --><script>let x = 1;</script>";
        assert!(has("html", code, TokenKind::Meta, "<!DOCTYPE html>"));
        assert!(has("html", code, TokenKind::Tag, "a"));
        assert!(has("html", code, TokenKind::Attr, "href"));
        assert!(has("html", code, TokenKind::String, "\"/x\""));
        assert!(has("html", code, TokenKind::Meta, "&amp;"));
        assert!(has("html", code, TokenKind::Comment, "<!-- c -->"));
        assert!(has("html", code, TokenKind::Keyword, "let"));
        assert!(has("xml", "<a:b c='d'/>", TokenKind::Tag, "a:b"));
    }

    #[test]
    fn css_properties_values_and_at_rules() {
        let code = "@media (max-width: 600px) {\n  .a > b:hover { color: #fff !important; margin: 0 1.5em; }\n}";
        assert!(has("css", code, TokenKind::Keyword, "@media"));
        assert!(has("css", code, TokenKind::Attr, "color"));
        assert!(has("css", code, TokenKind::Number, "#fff"));
        assert!(has("css", code, TokenKind::Keyword, "!important"));
        assert!(has("css", code, TokenKind::Number, "1.5em"));
    }

    #[test]
    fn c_go_java_basics() {
        assert!(has(
            "c",
            "#include <stdio.h>\nint main(void) { return 0; }",
            TokenKind::Meta,
            "#include <stdio.h>"
        ));
        assert!(has(
            "cpp",
            "int main(void) { return 0; }",
            TokenKind::Type,
            "int"
        ));
        assert!(has(
            "c++",
            "auto p = nullptr;",
            TokenKind::Literal,
            "nullptr"
        ));
        assert!(has(
            "go",
            "func main() { s := `raw\\n` }",
            TokenKind::String,
            "`raw\\n`"
        ));
        assert!(has("go", "func main() {}", TokenKind::Keyword, "func"));
        assert!(has(
            "java",
            "@Override public void run() {}",
            TokenKind::Meta,
            "@Override"
        ));
        assert!(has("java", "String s = null;", TokenKind::Type, "String"));
    }

    #[test]
    fn unknown_language_is_plain_and_known_aliases_resolve() {
        assert_eq!(
            highlight("brainfuck", "+[->+<]"),
            vec![(TokenKind::Plain, "+[->+<]")]
        );
        assert_eq!(highlight("", "x"), vec![(TokenKind::Plain, "x")]);
        assert!(highlight("rust", "").is_empty());
        for name in ["Rust", "PY", "js", "TSX", "console", "h", "golang", "yml"] {
            assert!(Language::from_name(name).is_some(), "{name}");
        }
    }

    #[test]
    fn unterminated_single_line_string_stops_at_line_end() {
        let t = highlight("js", "let a = \"open\nlet b = 1;");
        assert!(t.contains(&(TokenKind::String, "\"open")));
        assert!(t.contains(&(TokenKind::Keyword, "let")));
        assert_eq!(
            t.iter().filter(|(k, _)| *k == TokenKind::Keyword).count(),
            2
        );
    }

    #[test]
    fn classes_are_prefixed() {
        assert_eq!(TokenKind::Keyword.as_class(), "cf-tok-kw");
        assert_eq!(TokenKind::String.as_class(), "cf-tok-str");
        assert_eq!(TokenKind::Comment.as_class(), "cf-tok-com");
    }
}
