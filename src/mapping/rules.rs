//! Transformation rules applied to a field's value on its way to the target.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A transformation rule. In a mapping file: `rules = ["trim", { truncate = 50 }]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// Remove leading and trailing white space.
    Trim,
    /// Upper case.
    Upper,
    /// Lower case.
    Lower,
    /// Keep at most this many characters.
    Truncate(usize),
    /// An empty string becomes null.
    EmptyAsNull,
}

impl Rule {
    /// Applies the rule; non-string values pass through unchanged.
    pub fn apply(&self, v: Value) -> Value {
        let Value::String(s) = v else { return v };
        match self {
            Rule::Trim => Value::String(s.trim().to_string()),
            Rule::Upper => Value::String(s.to_uppercase()),
            Rule::Lower => Value::String(s.to_lowercase()),
            Rule::Truncate(n) => Value::String(s.chars().take(*n).collect()),
            Rule::EmptyAsNull if s.is_empty() => Value::Null,
            Rule::EmptyAsNull => Value::String(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_transform_strings_only() {
        assert_eq!(Rule::Trim.apply(json!("  a ")), json!("a"));
        assert_eq!(Rule::Truncate(3).apply(json!("abcdef")), json!("abc"));
        assert_eq!(Rule::Truncate(3).apply(json!("åäöü")), json!("åäö"));
        assert_eq!(Rule::Upper.apply(json!(5)), json!(5));
        assert_eq!(Rule::EmptyAsNull.apply(json!("")), Value::Null);
    }

    #[test]
    fn rules_parse_from_toml() {
        #[derive(Deserialize)]
        struct W {
            rules: Vec<Rule>,
        }
        let w: W = toml::from_str("rules = [\"trim\", { truncate = 5 }]").unwrap();
        assert_eq!(w.rules, vec![Rule::Trim, Rule::Truncate(5)]);
    }
}
