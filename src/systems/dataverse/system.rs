//! Dataverse's identity: its name, its side and the rules generic code follows for its
//! records (a leaf: it imports nothing of the connector, so anything may name the system).

use crate::event::{BlankText, EtagRule, KeyShape, Side, System, SystemRules};

/// Dataverse (Dynamics 365 Sales), on the CRM side.
pub const SYSTEM: System = System::new(&RULES);

/// Web API records: `<entity>id` GUIDs, `modifiedon`, `@odata.etag`, blank text as null.
const RULES: SystemRules = SystemRules {
    name: "dataverse",
    side: Side::Crm,
    key: |set| KeyShape::guid(id_column(set)),
    modified_column: |_| "modifiedon".to_string(),
    etag: EtagRule::Annotation("@odata.etag"),
    local_currency_blank: false,
    blank_text: BlankText::Null,
    auth_hint: |status| match status {
        403 => {
            "the application user exists but lacks privileges: give it a security role in \
             the Dataverse environment"
        }
        _ => {
            "check dataverse's credentials ([auth.dataverse], or the shared [auth]: credential, or \
             tenant_id, client_id and client_secret_env), and \
             that the app is an application user in the environment"
        }
    },
};

/// The primary-key column of an entity set: `accounts` → `accountid`,
/// `opportunities` → `opportunityid`.
pub fn id_column(set: &str) -> String {
    match set {
        "accounts" => "accountid".into(),
        "contacts" => "contactid".into(),
        "transactioncurrencies" => "transactioncurrencyid".into(),
        "systemusers" => "systemuserid".into(),
        "nav_accountstatisticses" => "nav_accountstatisticsid".into(),
        _ => {
            let singular = if let Some(stem) = set.strip_suffix("ies") {
                format!("{stem}y")
            } else if let Some(stem) = set.strip_suffix("sses") {
                format!("{stem}ss")
            } else {
                set.strip_suffix('s').unwrap_or(set).to_string()
            };
            format!("{singular}id")
        }
    }
}
