//! An OData collection page as every system's API returns it: the rows of `value` and the
//! `@odata.nextLink` to the next page.

use crate::event::Fields;

/// The rows and the `@odata.nextLink` of a collection page; `None` when it has no `value`
/// array.
pub fn page_values(page: &serde_json::Value) -> Option<(Vec<Fields>, Option<String>)> {
    let rows = page
        .get("value")?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
    let next = page
        .get("@odata.nextLink")
        .and_then(|l| l.as_str())
        .map(str::to_string);
    Some((rows, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_the_next_link() {
        let p = serde_json::json!({"value": [{"a": 1}, 2], "@odata.nextLink": "http://h/x?$skiptoken=1"});
        let (rows, next) = page_values(&p).unwrap();
        assert_eq!(rows.len(), 1, "non-objects are left out");
        assert_eq!(next.as_deref(), Some("http://h/x?$skiptoken=1"));
        assert!(page_values(&serde_json::json!({"error": {}})).is_none());
    }
}
