//! Reading error bodies: the system's `code` and `message`, and the field a validation
//! message names.

/// The `code` and `message` of an error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorBody {
    /// The system's error code; often empty on Dataverse.
    pub code: String,
    /// The human-readable message.
    pub message: String,
}

/// The longest piece of a non-JSON error body kept in a message.
const MAX_BODY_IN_MESSAGE: usize = 300;

/// Parses `{"error":{"code":..,"message":..}}` (Dataverse, Business Central; F&O's
/// `innererror.message` when its `code` is empty), falling back to
/// OAuth's `{"error":..,"error_description":..}` and then to the start of the raw text.
pub fn parse_error_body(body: &str) -> ErrorBody {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    if let Some(v) = parsed {
        let err = v.get("error");
        if let Some(obj) = err.and_then(|e| e.as_object()) {
            let text = |k: &str| {
                obj.get(k)
                    .map(|x| match x {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default()
            };
            // F&O puts the useful text in `innererror.message`, leaving `code` empty and the
            // message generic ("An error has occurred.", `external-apis.md` §3.3).
            let inner = obj
                .get("innererror")
                .and_then(|i| i.get("message"))
                .and_then(|m| m.as_str())
                .map(str::trim)
                .filter(|m| !m.is_empty());
            let code = text("code");
            let message = match inner {
                Some(inner) if code.is_empty() => inner.to_string(),
                _ => text("message"),
            };
            return ErrorBody { code, message };
        }
        if let Some(code) = err.and_then(|e| e.as_str()) {
            let message = v
                .get("error_description")
                .and_then(|d| d.as_str())
                .unwrap_or_default();
            return ErrorBody {
                code: code.to_string(),
                message: first_line(message).to_string(),
            };
        }
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            return ErrorBody {
                code: String::new(),
                message: m.to_string(),
            };
        }
    }
    let trimmed = body.trim();
    let mut end = trimmed.len().min(MAX_BODY_IN_MESSAGE);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    ErrorBody {
        code: String::new(),
        message: trimmed[..end].to_string(),
    }
}

fn first_line(s: &str) -> &str {
    s.split(['\r', '\n']).next().unwrap_or(s).trim()
}

/// The first `'quoted'` word right after `keyword` (case-insensitive), e.g. `property 'x'`.
fn quoted_after(message: &str, keyword: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(keyword) {
        let after = from + pos + keyword.len();
        let rest = message[after..].trim_start();
        if let Some(inner) = rest.strip_prefix('\'')
            && let Some(end) = inner.find('\'')
            && is_field_name(&inner[..end])
        {
            return Some(inner[..end].to_string());
        }
        from = after;
    }
    None
}

/// The `'quoted'` word right before `keyword`, e.g. `the 'name' attribute`.
fn quoted_before(message: &str, keyword: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let pos = lower.find(keyword)?;
    let before = message[..pos].trim_end().strip_suffix('\'')?;
    let start = before.rfind('\'')?;
    let name = &before[start + 1..];
    is_field_name(name).then(|| name.to_string())
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | ' ' | '-'))
}

/// The offending field named in a validation message, when recognisable.
///
/// Handles Dataverse (`The length of the 'name' attribute ...`, `Invalid property 'x' ...`,
/// `attribute 'x'`) and Business Central (`The field Phone No. of table Customer ...`,
/// `The property 'x' does not exist ...`, `field 'x'`).
pub fn extract_field(message: &str) -> Option<String> {
    if let Some(f) = quoted_before(message, " attribute") {
        return Some(f);
    }
    for keyword in ["attribute", "property", "field", "column"] {
        if let Some(f) = quoted_after(message, keyword) {
            return Some(f);
        }
    }
    // Business Central: "The field <Caption> of table <Table> ..."
    let lower = message.to_ascii_lowercase();
    if let Some(pos) = lower.find("the field ") {
        let rest = &message[pos + "the field ".len()..];
        if let Some(end) = rest.to_ascii_lowercase().find(" of table ") {
            let name = rest[..end].trim();
            if is_field_name(name) {
                return Some(name.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_bodies() {
        let dv = parse_error_body(r#"{"error":{"code":"0x80044331","message":"Too long"}}"#);
        assert_eq!(dv.code, "0x80044331");
        assert_eq!(dv.message, "Too long");
        let aad = parse_error_body(
            r#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: x"}"#,
        );
        assert_eq!(aad.code, "invalid_client");
        assert_eq!(aad.message, "AADSTS7000215: Invalid client secret.");
        let text = parse_error_body("<html>Bad gateway</html>");
        assert_eq!(text.code, "");
        assert_eq!(text.message, "<html>Bad gateway</html>");
        let fo = parse_error_body(
            r#"{"error":{"code":"","message":"An error has occurred.","innererror":{"message":"Write failed for table row of type 'CustCustomerV3Entity'. Infolog: Warning: The value 'Local' in field 'Customer group' is not found.","type":"Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException","stacktrace":"   at x"}}}"#,
        );
        assert_eq!(fo.code, "");
        assert!(
            fo.message
                .starts_with("Write failed for table row of type 'CustCustomerV3Entity'"),
            "{}",
            fo.message
        );
        let long = "é".repeat(400);
        assert!(parse_error_body(&long).message.len() <= MAX_BODY_IN_MESSAGE);
    }

    #[test]
    fn extracts_fields() {
        let dv = "The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'.";
        assert_eq!(extract_field(dv).as_deref(), Some("name"));
        let prop =
            "Invalid property 'foo_bar' was found in entity 'Microsoft.Dynamics.CRM.account'.";
        assert_eq!(extract_field(prop).as_deref(), Some("foo_bar"));
        let bc = "The field Phone No. of table Customer contains a value that is not valid.";
        assert_eq!(extract_field(bc).as_deref(), Some("Phone No."));
        let bc2 = "The property 'displayNam' does not exist on type 'Microsoft.NAV.customer'.";
        assert_eq!(extract_field(bc2).as_deref(), Some("displayNam"));
        assert_eq!(extract_field("Something went wrong."), None);
    }
}
