//! Sentences of report messages: a finding's message, its field and its remediation read as
//! separate sentences wherever a view runs lines together.

/// `text` trimmed, ending with a full stop unless it already ends a sentence (`.`, `!`, `?`, `:`)
/// or is empty.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with(['.', '!', '?', ':']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn a_full_stop_is_added_once() {
        assert_eq!(sentence("ticket not approved "), "ticket not approved.");
        assert_eq!(sentence("done."), "done.");
        assert_eq!(sentence("why?"), "why?");
        assert_eq!(sentence(""), "");
    }
}
