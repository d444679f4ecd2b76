//! `$filter` as F&O reads it (`data-entities/odata.md`): `eq ne gt ge lt le and or not`,
//! "contains" written as a `*` wildcard inside an `eq` string (`Name eq '*retail*'`), enum
//! literals `Microsoft.Dynamics.DataEntities.NoYes'Yes'` with `eq`/`ne` only; the `in` and `has`
//! operators are not supported, nor the string functions the wildcard replaces.
//! Parsing and evaluation are the shared OData filter's ([`crate::odata::filter`]).

use super::FoError;
use super::schema::EntityDef;
use crate::odata::filter::{self, Filter};

/// Words of the filter outside string literals, with their 1-based position and whether a
/// `(` follows them.
fn words(text: &str) -> Vec<(usize, String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\'' && chars.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if chars[i] == '\'' {
                    break;
                } else {
                    i += 1;
                }
            }
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '.'))
            {
                i += 1;
            }
            let mut j = i;
            while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            out.push((
                start + 1,
                chars[start..i].iter().collect(),
                chars.get(j) == Some(&'('),
            ));
        } else {
            i += 1;
        }
    }
    out
}

fn no_property(def: &EntityDef, name: &str) -> FoError {
    FoError::bad_request(format!(
        "Could not find a property named '{name}' on type '{}.{}'.",
        super::schema::ENUM_NAMESPACE,
        def.type_name
    ))
}

/// Parses `text` for `def` as F&O does.
pub(crate) fn parse(def: &EntityDef, text: &str) -> Result<Filter, FoError> {
    for (at, word, call) in words(text) {
        let lower = word.to_ascii_lowercase();
        if lower == "in" || lower == "has" {
            return Err(FoError::bad_request(format!(
                "Syntax error at position {at} in '{text}': the '{word}' operator is not supported."
            )));
        }
        if call
            && matches!(
                lower.as_str(),
                "contains" | "startswith" | "endswith" | "substringof"
            )
        {
            return Err(FoError::bad_request(format!(
                "The function '{word}' is not supported. Use a wildcard in an 'eq' comparison instead, such as Name eq '*text*'."
            )));
        }
    }
    let f = filter::parse(text)
        .map_err(|e| FoError::bad_request(e.to_string()))?
        .with_eq_wildcards();
    if let Some(bad) = f.fields().iter().find(|n| def.column(n).is_none()) {
        return Err(no_property(def, bad));
    }
    if f.orders_enums() {
        return Err(FoError::bad_request(format!(
            "Enum values can be compared only with 'eq' or 'ne' in '{text}'."
        )));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::fo::schema::{CUSTOMERS, SALES_PRICE_AGREEMENTS};
    use serde_json::json;

    #[test]
    fn fo_operators_wildcards_and_enums() {
        let row = json!({"OrganizationName":"Contoso Retail","dataAreaId":"usmf","CreditLimit":10})
            .as_object()
            .cloned()
            .unwrap();
        let f = parse(
            &CUSTOMERS,
            "OrganizationName eq '*retail*' and CreditLimit ge 5",
        )
        .unwrap();
        assert!(f.matches(&row));
        assert!(
            parse(&CUSTOMERS, "dataAreaId eq 'USMF' or CreditLimit lt 0")
                .unwrap()
                .matches(&row)
        );
        let e = parse(&CUSTOMERS, "CustomerAccount in ('A','B')").unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(e.inner.contains("position 17"), "{}", e.inner);
        assert!(
            parse(
                &CUSTOMERS,
                "PartyType has Microsoft.Dynamics.DataEntities.DirPartyBaseType'Person'"
            )
            .is_err()
        );
        assert!(parse(&CUSTOMERS, "contains(OrganizationName,'x')").is_err());
        // 'in' inside a string is just text.
        assert!(parse(&CUSTOMERS, "OrganizationName eq 'in has'").is_ok());
        assert!(
            parse(&CUSTOMERS, "Nope eq 1")
                .unwrap_err()
                .inner
                .contains("'Nope'")
        );
        let yes = "WillSearchContinue eq Microsoft.Dynamics.DataEntities.NoYes'Yes'";
        assert!(parse(&SALES_PRICE_AGREEMENTS, yes).is_ok());
        let gt = "WillSearchContinue gt Microsoft.Dynamics.DataEntities.NoYes'No'";
        assert!(parse(&SALES_PRICE_AGREEMENTS, gt).is_err());
    }
}
