//! Which instance annotations a Dataverse response carries: only those the request asked for
//! with `Prefer: odata.include-annotations="…"`, as the Web API does
//! (<https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors#prefer-headers>
//! and "Lookup property data" in
//! <https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/select-columns>).
//! The value is one quoted, comma-separated list of annotation names, each a
//! namespace-qualified term (`Microsoft.Dynamics.CRM.lookuplogicalname`), a namespace with
//! `*` (`Microsoft.Dynamics.CRM.*`), or `*` for all; a name prefixed with `-` excludes (OData
//! 4.01, `odata.include-annotations`). Without the preference no annotation is returned.
//!
//! The emulator renders the lookup annotations (`lookuplogicalname`,
//! `associatednavigationproperty`); it never renders `OData.Community.Display.V1.FormattedValue`
//! (localised labels it does not model), so asking for it returns nothing.

/// The term naming a lookup's target table.
pub(crate) const LOOKUP_LOGICAL_NAME: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
/// The term naming the navigation property a lookup's value is bound through.
pub(crate) const ASSOCIATED_NAVIGATION_PROPERTY: &str =
    "Microsoft.Dynamics.CRM.associatednavigationproperty";

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// `*`.
    All,
    /// `Namespace.*`: every term of the namespace (`Namespace.` kept).
    Namespace(String),
    /// One term.
    Term(String),
}

impl Pattern {
    fn parse(s: &str) -> Option<Pattern> {
        let s = s.trim();
        if s.is_empty() {
            None
        } else if s == "*" {
            Some(Pattern::All)
        } else if let Some(ns) = s.strip_suffix('*') {
            Some(Pattern::Namespace(ns.to_string()))
        } else {
            Some(Pattern::Term(s.to_string()))
        }
    }

    fn matches(&self, term: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Namespace(ns) => term.starts_with(ns.as_str()),
            Pattern::Term(t) => t == term,
        }
    }
}

/// The annotations a request asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Annotations {
    include: Vec<Pattern>,
    exclude: Vec<Pattern>,
}

impl Annotations {
    /// From the preference's value (its quotes already removed); `None`: not asked.
    pub fn parse(value: Option<&str>) -> Annotations {
        let mut out = Annotations::default();
        for item in value.unwrap_or("").split(',') {
            let item = item.trim();
            match item.strip_prefix('-') {
                Some(rest) => out.exclude.extend(Pattern::parse(rest)),
                None => out.include.extend(Pattern::parse(item)),
            }
        }
        out
    }

    /// Whether annotation `term` (namespace-qualified) goes into the response.
    pub fn includes(&self, term: &str) -> bool {
        self.include.iter().any(|p| p.matches(term))
            && !self.exclude.iter().any(|p| p.matches(term))
    }

    /// Whether any annotation was asked for (a GET asking for annotations never answers 304).
    pub fn any(&self) -> bool {
        !self.include.is_empty()
    }

    /// A lookup's target table: how the sandbox's handle shows rows to tests and to the demo
    /// (as Couplet's client, which asks for it, reads them).
    pub fn lookups() -> Annotations {
        Annotations::parse(Some(LOOKUP_LOGICAL_NAME))
    }

    /// The annotations of a request's `Prefer` headers.
    pub fn of(prefer: &crate::sandbox::http::Prefer) -> Annotations {
        Annotations::parse(prefer.annotations.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_asked_for() {
        let none = Annotations::parse(None);
        assert!(!none.any());
        assert!(!none.includes(LOOKUP_LOGICAL_NAME));

        let one = Annotations::parse(Some(LOOKUP_LOGICAL_NAME));
        assert!(one.includes(LOOKUP_LOGICAL_NAME));
        assert!(!one.includes(ASSOCIATED_NAVIGATION_PROPERTY));

        let ns = Annotations::parse(Some("Microsoft.Dynamics.CRM.*"));
        assert!(ns.includes(LOOKUP_LOGICAL_NAME) && ns.includes(ASSOCIATED_NAVIGATION_PROPERTY));
        assert!(!ns.includes("OData.Community.Display.V1.FormattedValue"));

        let list = Annotations::parse(Some(
            "OData.Community.Display.V1.FormattedValue, Microsoft.Dynamics.CRM.associatednavigationproperty",
        ));
        assert!(list.includes(ASSOCIATED_NAVIGATION_PROPERTY));
        assert!(!list.includes(LOOKUP_LOGICAL_NAME));

        let but = Annotations::parse(Some(
            "*,-Microsoft.Dynamics.CRM.associatednavigationproperty",
        ));
        assert!(but.includes(LOOKUP_LOGICAL_NAME));
        assert!(!but.includes(ASSOCIATED_NAVIGATION_PROPERTY));
    }
}
