//! `*` wildcards in a string compared with `eq`: the pattern matches when its parts appear in
//! order, the first at the start and the last at the end unless a `*` stands there.

/// True when `text` matches `pattern`, case-insensitively, `*` standing for any run of
/// characters (none included).
pub(super) fn matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return text.is_empty();
    };
    if parts.len() == 1 {
        return text == *first;
    }
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_runs_of_characters() {
        assert!(matches("*retail*", "Contoso Retail San Diego"));
        assert!(matches("contoso*", "Contoso Retail"));
        assert!(matches("*diego", "Contoso Retail San Diego"));
        assert!(matches("c*r*o", "Contoso Retail San Diego"));
        assert!(matches("ab*ba", "abba"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("*", ""));
        assert!(!matches("*retail*", "Fabrikam"));
        assert!(matches("exact", "EXACT"));
        assert!(!matches("exact", "exactly"));
    }
}
