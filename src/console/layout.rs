//! The frame of every page, and the pieces pages share (forms with their CSRF field, diffs,
//! record links). Everything is rendered with `maud`, which escapes every value: records hold
//! outside data.

use maud::{DOCTYPE, Markup, html};

use super::auth::Flash;
use super::log_reader::{FieldChange, show};

/// The page a navigation link stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Mappings.
    Overview,
    /// The errors list.
    Errors,
    /// Parked records.
    Parked,
    /// Couplings search and records.
    Couplings,
}

/// What the header shows besides the links.
pub struct Frame<'a> {
    /// The page's title.
    pub title: &'a str,
    /// Which link is the current page.
    pub nav: Nav,
    /// The session's CSRF token (for the logout form).
    pub csrf: &'a str,
    /// Listed errors and parked records, for the links.
    pub counts: (usize, usize),
    /// Messages of the last action.
    pub flash: Vec<Flash>,
}

/// A whole page.
pub fn page(f: Frame<'_>, body: Markup) -> Markup {
    let link = |nav: Nav, href: &str, text: String| {
        html! { a href=(href) class=[(f.nav == nav).then_some("here")] { (text) } }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (f.title) " · Couplet console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body {
                header {
                    span.brand { "Couplet" }
                    (link(Nav::Overview, "/console", "Mappings".into()))
                    (link(Nav::Errors, "/console/errors", format!("Errors ({})", f.counts.0)))
                    (link(Nav::Parked, "/console/parked", format!("Parked ({})", f.counts.1)))
                    (link(Nav::Couplings, "/console/couplings", "Couplings".into()))
                    @if !f.csrf.is_empty() {
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(f.csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main {
                    h1 { (f.title) }
                    @for m in &f.flash {
                        p class=(if m.ok { "flash ok" } else { "flash fail" }) role="status" { (m.text) }
                    }
                    (body)
                }
            }
        }
    }
}

/// A POST form with the session's CSRF token and the hidden fields `hidden`.
pub fn action_form(
    action: &str,
    csrf: &str,
    hidden: &[(&str, &str)],
    confirm: Option<&str>,
    body: Markup,
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[confirm] {
            input type="hidden" name="csrf" value=(csrf);
            @for (k, v) in hidden {
                input type="hidden" name=(k) value=(v);
            }
            (body)
        }
    }
}

/// A link to a record's page.
pub fn record_link(mapping: &str, key: &str) -> Markup {
    let href = format!(
        "/console/record?mapping={}&key={}",
        urlencoding::encode(mapping),
        urlencoding::encode(key)
    );
    html! { a.key href=(href) { (key) } }
}

/// A field diff; the row of `at_fault` is marked. A new record's (every field new, more than
/// a few) folds into a summary naming the field at fault.
pub fn diff_table(changes: &[FieldChange], at_fault: Option<&str>) -> Markup {
    let new = changes.len() > 6 && changes.iter().all(|c| c.before.is_none());
    if new {
        let fault = at_fault.and_then(|f| changes.iter().find(|c| c.field == f));
        return html! {
            details.diff-new {
                summary {
                    "first version: " (changes.len()) " fields"
                    @if let Some(c) = fault { "; " code { (c.field) } " = " (show(&c.after)) }
                }
                (diff_rows(changes, at_fault))
            }
        };
    }
    html! {
        @if changes.is_empty() {
            span.muted { "no field changed" }
        } @else {
            (diff_rows(changes, at_fault))
        }
    }
}

fn diff_rows(changes: &[FieldChange], at_fault: Option<&str>) -> Markup {
    html! {
        {
            table.diff {
                tr { th { "field" } th { "before" } th { "after" } }
                @for c in changes {
                    tr class=[(Some(c.field.as_str()) == at_fault).then_some("at-fault")] {
                        td { code { (c.field) } }
                        td.before { (show(&c.before)) }
                        td.after { (show(&c.after)) }
                    }
                }
            }
        }
    }
}

/// The login page.
pub fn login_page(wrong: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Log in · Couplet console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                form.login method="post" action="/console/login" {
                    h1 { "Couplet console" }
                    @if wrong {
                        p.flash.fail role="alert" { "That is not the console's token." }
                    }
                    label for="token" { "Token (" code { "[console] token_env" } ")" }
                    input #token type="password" name="token" autocomplete="current-password" autofocus;
                    button.primary type="submit" { "Log in" }
                }
            }
        }
    }
}

/// Time as the pages show it.
pub fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_data_is_escaped() {
        let evil = "<script>alert(1)</script>\" onmouseover=\"x";
        let html = diff_table(
            &[FieldChange {
                field: evil.into(),
                before: None,
                after: Some(serde_json::json!(evil)),
            }],
            None,
        )
        .into_string();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let link = record_link("M&N", evil).into_string();
        assert!(
            !link.contains("<script>") && !link.contains("\" onmouseover"),
            "{link}"
        );
    }
}
