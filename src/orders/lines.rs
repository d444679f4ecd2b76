//! Description text on Business Central lines: a line's Description holds 100 characters;
//! longer text, and every further line of a multi-line text, continues on Comment lines.

/// The length of `Description` on a Business Central sales line.
pub const DESCRIPTION_LEN: usize = 100;

/// `text` cut into pieces of at most `DESCRIPTION_LEN` characters: each text line on its own,
/// long lines split, blank lines dropped.
pub fn split_description(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let chars: Vec<char> = line.trim_end().chars().collect();
        for chunk in chars.chunks(DESCRIPTION_LEN) {
            let s: String = chunk.iter().collect();
            if !s.trim().is_empty() {
                out.push(s);
            }
        }
    }
    out
}

/// A value cut to `max` characters (Business Central's `CopyStr` on header fields).
pub fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_long_and_multi_line_text() {
        assert!(split_description("").is_empty());
        assert_eq!(split_description("short"), vec!["short"]);
        let long = "x".repeat(250);
        let parts = split_description(&long);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), 100);
        assert_eq!(parts[2].len(), 50);
        assert_eq!(split_description("a\n\nb"), vec!["a", "b"]);
        // Characters, not bytes.
        let wide = "é".repeat(101);
        let parts = split_description(&wide);
        assert_eq!(parts[0].chars().count(), 100);
        assert_eq!(parts[1], "é");
        assert_eq!(truncate("abcdef", 3), "abc");
    }
}
