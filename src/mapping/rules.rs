//! Transformation rules applied to a field's value on its way to the target.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A transformation rule. In a mapping file:
/// `rules = ["trim", { truncate = 50 }, { regex_replace = { pattern = "^", replacement = "ITEM " } }]`.
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
    /// Replace every match of a regular expression (`$1`… name capture groups).
    RegexReplace {
        /// The regular expression (Rust `regex` syntax).
        pattern: String,
        /// The replacement text.
        replacement: String,
    },
    /// Re-format a date or date-time text: parsed with `from`, written with `to` (chrono
    /// `strftime` patterns). `from = "rfc3339"` parses an ISO 8601 timestamp with offset.
    DateFormat {
        /// How the source writes it, e.g. `%d.%m.%Y` or `rfc3339`.
        from: String,
        /// How the target wants it, e.g. `%Y-%m-%d`.
        to: String,
    },
    /// Round a number (or numeric text) to this many decimals; the result is a number.
    Round(u32),
    /// Write a number (or numeric text) as text with exactly this many decimals.
    NumberFormat {
        /// Decimals after the point.
        decimals: usize,
    },
}

/// A rule that cannot transform a value: the record fails naming the field and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule {rule} cannot transform '{value}': {reason}")]
pub struct RuleError {
    /// The rule, e.g. `date_format`.
    pub rule: &'static str,
    /// The value, as text.
    pub value: String,
    /// Why.
    pub reason: String,
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
}

impl Rule {
    /// The rule's name as written in a mapping file.
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Trim => "trim",
            Rule::Upper => "upper",
            Rule::Lower => "lower",
            Rule::Truncate(_) => "truncate",
            Rule::EmptyAsNull => "empty_as_null",
            Rule::RegexReplace { .. } => "regex_replace",
            Rule::DateFormat { .. } => "date_format",
            Rule::Round(_) => "round",
            Rule::NumberFormat { .. } => "number_format",
        }
    }

    /// Checks the rule's settings (a regular expression that compiles, date patterns that
    /// format); the message says what to fix.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Rule::RegexReplace { pattern, .. } => regex::Regex::new(pattern)
                .map(|_| ())
                .map_err(|e| format!("regex_replace pattern '{pattern}' does not compile: {e}")),
            Rule::DateFormat { from, to } => {
                let probe = NaiveDate::from_ymd_opt(2024, 1, 31)
                    .and_then(|d| d.and_hms_opt(12, 0, 0))
                    .unwrap_or_default();
                for p in [to.as_str()]
                    .into_iter()
                    .chain((from != "rfc3339").then_some(from.as_str()))
                {
                    use std::fmt::Write;
                    let mut s = String::new();
                    if write!(s, "{}", probe.format(p)).is_err() {
                        return Err(format!(
                            "date_format pattern '{p}' is not a valid chrono pattern"
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Applies the rule. Text rules pass non-text values through unchanged, number rules
    /// pass null through; a value a rule cannot read is an error naming it.
    pub fn apply(&self, v: Value) -> Result<Value, RuleError> {
        let fail = |v: &Value, reason: String| RuleError {
            rule: self.name(),
            value: match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            reason,
        };
        match self {
            Rule::Round(n) => {
                if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
                    return Ok(Value::Null);
                }
                let x = number_of(&v).ok_or_else(|| fail(&v, "not a number".into()))?;
                let f = 10f64.powi(*n as i32);
                let r = (x * f).round() / f;
                return Ok(serde_json::Number::from_f64(r)
                    .map(Value::Number)
                    .unwrap_or(Value::Null));
            }
            Rule::NumberFormat { decimals } => {
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let x = number_of(&v).ok_or_else(|| fail(&v, "not a number".into()))?;
                return Ok(Value::String(format!("{x:.decimals$}")));
            }
            _ => {}
        }
        let Value::String(s) = v else { return Ok(v) };
        Ok(match self {
            Rule::Trim => Value::String(s.trim().to_string()),
            Rule::Upper => Value::String(s.to_uppercase()),
            Rule::Lower => Value::String(s.to_lowercase()),
            Rule::Truncate(n) => Value::String(s.chars().take(*n).collect()),
            Rule::EmptyAsNull if s.is_empty() => Value::Null,
            Rule::EmptyAsNull => Value::String(s),
            Rule::RegexReplace {
                pattern,
                replacement,
            } => {
                let re = regex::Regex::new(pattern)
                    .map_err(|e| fail(&Value::String(s.clone()), e.to_string()))?;
                Value::String(re.replace_all(&s, replacement.as_str()).into_owned())
            }
            Rule::DateFormat { from, to } => {
                if s.trim().is_empty() {
                    return Ok(Value::String(s));
                }
                let t = s.trim();
                let parsed: Option<NaiveDateTime> = if from == "rfc3339" {
                    DateTime::parse_from_rfc3339(t).ok().map(|d| d.naive_utc())
                } else {
                    NaiveDateTime::parse_from_str(t, from).ok().or_else(|| {
                        NaiveDate::parse_from_str(t, from)
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                    })
                };
                let d = parsed.ok_or_else(|| {
                    fail(
                        &Value::String(s.clone()),
                        format!("it does not match the date pattern '{from}'"),
                    )
                })?;
                use std::fmt::Write;
                let mut out = String::new();
                write!(out, "{}", d.format(to)).map_err(|_| {
                    fail(
                        &Value::String(s.clone()),
                        format!("'{to}' is not a valid date pattern"),
                    )
                })?;
                Value::String(out)
            }
            Rule::Round(_) | Rule::NumberFormat { .. } => Value::String(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_transform_strings_only() {
        assert_eq!(Rule::Trim.apply(json!("  a ")).unwrap(), json!("a"));
        assert_eq!(
            Rule::Truncate(3).apply(json!("abcdef")).unwrap(),
            json!("abc")
        );
        assert_eq!(
            Rule::Truncate(3).apply(json!("åäöü")).unwrap(),
            json!("åäö")
        );
        assert_eq!(Rule::Upper.apply(json!(5)).unwrap(), json!(5));
        assert_eq!(Rule::EmptyAsNull.apply(json!("")).unwrap(), Value::Null);
    }

    #[test]
    fn regex_replace_uses_groups() {
        let r = Rule::RegexReplace {
            pattern: "^(.+)$".into(),
            replacement: "ITEM $1 UOM GR".into(),
        };
        assert_eq!(r.apply(json!("1000")).unwrap(), json!("ITEM 1000 UOM GR"));
        let r = Rule::RegexReplace {
            pattern: "[^0-9+]".into(),
            replacement: "".into(),
        };
        assert_eq!(r.apply(json!("+1 (425) 555")).unwrap(), json!("+1425555"));
        assert!(
            Rule::RegexReplace {
                pattern: "(".into(),
                replacement: "".into()
            }
            .check()
            .unwrap_err()
            .contains("'('")
        );
    }

    #[test]
    fn date_format_converts_and_names_bad_values() {
        let r = Rule::DateFormat {
            from: "%d.%m.%Y".into(),
            to: "%Y-%m-%d".into(),
        };
        assert_eq!(r.apply(json!("31.01.2024")).unwrap(), json!("2024-01-31"));
        let e = r.apply(json!("2024-01-31")).unwrap_err();
        assert_eq!(e.value, "2024-01-31");
        assert!(e.to_string().contains("date_format"), "{e}");
        let r = Rule::DateFormat {
            from: "rfc3339".into(),
            to: "%Y-%m-%d".into(),
        };
        assert_eq!(
            r.apply(json!("2024-03-05T23:30:00Z")).unwrap(),
            json!("2024-03-05")
        );
        assert_eq!(r.apply(json!("")).unwrap(), json!(""));
    }

    #[test]
    fn number_rules_round_and_format() {
        assert_eq!(Rule::Round(2).apply(json!(1.23456)).unwrap(), json!(1.23));
        assert_eq!(Rule::Round(0).apply(json!("2.5")).unwrap(), json!(3.0));
        assert_eq!(Rule::Round(2).apply(Value::Null).unwrap(), Value::Null);
        assert!(Rule::Round(2).apply(json!("abc")).is_err());
        assert_eq!(
            Rule::NumberFormat { decimals: 2 }.apply(json!(7)).unwrap(),
            json!("7.00")
        );
    }

    #[test]
    fn rules_parse_from_toml() {
        #[derive(Deserialize)]
        struct W {
            rules: Vec<Rule>,
        }
        let w: W = toml::from_str(
            "rules = [\"trim\", { truncate = 5 }, { round = 2 }, { regex_replace = { pattern = \"a\", replacement = \"b\" } }, { date_format = { from = \"%d.%m.%Y\", to = \"%Y-%m-%d\" } }]",
        )
        .unwrap();
        assert_eq!(w.rules.len(), 5);
        assert_eq!(w.rules[1], Rule::Truncate(5));
        assert_eq!(w.rules[2], Rule::Round(2));
    }
}
