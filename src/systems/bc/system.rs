//! Business Central's identity: its name, its side and the rules generic code follows for
//! its records (a leaf: it imports nothing of the connector, so anything may name the system).

use crate::event::{BlankText, EtagRule, KeyShape, Side, System, SystemRules};

/// Business Central, on the ERP side.
pub const SYSTEM: System = System::new(&RULES);

/// API v2.0 records: an `id` GUID, `lastModifiedDateTime`, `@odata.etag`, blank text as "".
const RULES: SystemRules = SystemRules {
    name: "bc",
    side: Side::Erp,
    key: |_| KeyShape::guid("id"),
    modified_column: |_| "lastModifiedDateTime".to_string(),
    etag: EtagRule::Annotation("@odata.etag"),
    local_currency_blank: true,
    blank_text: BlankText::EmptyString,
    auth_hint: |status| match status {
        403 => {
            "the app lacks permissions: assign permission sets on Business Central's \
             'Microsoft Entra Applications' page"
        }
        _ => {
            "check bc's credentials ([auth.bc], or the shared [auth]: credential, or \
             tenant_id, client_id and client_secret_env), and \
             that the app is registered on Business Central's 'Microsoft Entra Applications' \
             page"
        }
    },
};

/// The default table mappings of a Dataverse ↔ Business Central pair (the catalogue when
/// `[sync] mapping_file` is not set).
pub const MAPPINGS: &str = include_str!("mappings.toml");

/// The mappings an engine runs when `[sync] mappings` is not set.
pub const DEFAULT_SELECTION: &[&str] = &["CUSTOMER", "CONTACT"];
