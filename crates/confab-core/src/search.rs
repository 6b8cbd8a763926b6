//! The playground's conversation list: a small summary of each conversation, searched by
//! every word of the query in its title and messages, newest first.

use crate::conversation::Conversation;

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub updated_ms: f64,
    pub empty: bool,
    /// Lower-cased title and message text.
    haystack: String,
}

impl Summary {
    pub fn of(c: &Conversation) -> Summary {
        let title = c.title_or_default();
        let mut haystack = title.to_lowercase();
        for n in &c.nodes {
            haystack.push('\n');
            haystack.push_str(&n.text.to_lowercase());
        }
        Summary {
            id: c.id.clone(),
            title,
            updated_ms: c.updated_ms,
            empty: c.nodes.is_empty(),
            haystack,
        }
    }

    /// Every word of `query` appears, ignoring case.
    pub fn matches(&self, query: &str) -> bool {
        query
            .split_whitespace()
            .all(|w| self.haystack.contains(&w.to_lowercase()))
    }
}

/// Adds `s` or replaces the summary with its id.
pub fn upsert(list: &mut Vec<Summary>, s: Summary) {
    match list.iter_mut().find(|x| x.id == s.id) {
        Some(x) => *x = s,
        None => list.push(s),
    }
}

/// What the list shows for `query`: conversations with messages (and the one shown, even
/// empty) that match, newest first.
pub fn shown<'a>(list: &'a [Summary], current: &str, query: &str) -> Vec<&'a Summary> {
    let mut items: Vec<&Summary> = list
        .iter()
        .filter(|x| !x.empty || x.id == current)
        .filter(|x| x.matches(query))
        .collect();
    items.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
    items
}

/// The conversation to show after the shown one was deleted: the newest with messages.
pub fn next_after_delete(list: &[Summary]) -> Option<&Summary> {
    list.iter()
        .filter(|x| !x.empty)
        .max_by(|a, b| a.updated_ms.total_cmp(&b.updated_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(id: &str, title: &str, text: &str, at: f64) -> Conversation {
        let mut c = Conversation::new(id.into(), at);
        c.title = title.into();
        if !text.is_empty() {
            c.push_user(text.into(), vec![], at);
        }
        c
    }

    #[test]
    fn every_word_must_match_title_or_text_ignoring_case() {
        let s = Summary::of(&conv("a", "Rust questions", "How do LIFETIMES work?", 1.0));
        assert!(s.matches(""));
        assert!(s.matches("rust lifetimes"));
        assert!(s.matches("  RUST  "));
        assert!(!s.matches("rust python"));
    }

    #[test]
    fn the_list_is_newest_first_and_hides_other_empty_conversations() {
        let list: Vec<Summary> = [
            conv("old", "", "old text", 1.0),
            conv("new", "", "new text", 3.0),
            conv("blank", "", "", 5.0),
            conv("here", "", "", 4.0),
        ]
        .iter()
        .map(Summary::of)
        .collect();
        let ids: Vec<&str> = shown(&list, "here", "")
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["here", "new", "old"]);
        let ids: Vec<&str> = shown(&list, "here", "old")
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["old"]);
        assert_eq!(next_after_delete(&list).unwrap().id, "new");
    }

    #[test]
    fn upsert_replaces_by_id() {
        let mut list = vec![Summary::of(&conv("a", "one", "x", 1.0))];
        upsert(&mut list, Summary::of(&conv("a", "two", "x", 2.0)));
        upsert(&mut list, Summary::of(&conv("b", "three", "x", 2.0)));
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].title, "two");
    }
}
