//! The companies and persons of the sandbox's world as the chaos suite counts them: how many
//! each side must end with, how many it has, and which are on one side only.

use std::collections::HashSet;

use crate::event::Fields;
use crate::sandbox::Sandbox;
use crate::systems::{BC, DATAVERSE};

fn keys(rows: &[Fields], key: &str) -> HashSet<String> {
    rows.iter()
        .filter_map(|r| {
            r.get(key)
                .and_then(|v| v.as_str())
                .map(|s| s.to_lowercase())
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// The Dataverse accounts that are customers (the seed also holds vendor accounts,
/// `customertypecode` 11, which the VENDOR mapping synchronises).
pub fn customer_accounts(sb: &Sandbox) -> Vec<Fields> {
    sb.rows(DATAVERSE, "accounts")
        .into_iter()
        .filter(|r| r.get("customertypecode") != Some(&serde_json::json!(11)))
        .collect()
}

/// How many distinct customer companies and persons the sandbox holds now (some exist on both
/// sides): the counts each side must reach once synchronised, as
/// `[accounts, customers, contacts (CRM), contacts (ERP)]`. Taken before the synchronisation:
/// after it, a twin with a key of its own would count as one more company.
pub fn expected(sb: &Sandbox) -> [usize; 4] {
    let accounts = customer_accounts(sb);
    let customers = sb.rows(BC, "customers");
    let unnumbered = accounts
        .iter()
        .filter(|r| {
            r.get("accountnumber")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .is_empty()
        })
        .count();
    let numbers: HashSet<String> = keys(&accounts, "accountnumber")
        .union(&keys(&customers, "number"))
        .cloned()
        .collect();
    let emails: HashSet<String> = keys(&sb.rows(DATAVERSE, "contacts"), "emailaddress1")
        .union(&keys(&sb.rows(BC, "contacts"), "email"))
        .cloned()
        .collect();
    let companies = unnumbered + numbers.len();
    [companies, companies, emails.len(), emails.len()]
}

/// The record counts of each side now, in the order of [`expected`].
pub fn counts(sb: &Sandbox) -> [usize; 4] {
    [
        customer_accounts(sb).len(),
        sb.rows(BC, "customers").len(),
        sb.rows(DATAVERSE, "contacts").len(),
        sb.rows(BC, "contacts").len(),
    ]
}

/// The companies and persons one side has and the other lacks (by number and e-mail), for
/// failure messages.
pub fn missing(sb: &Sandbox) -> String {
    let dv_acc = keys(&customer_accounts(sb), "accountnumber");
    let bc_cus = keys(&sb.rows(BC, "customers"), "number");
    let dv_con = keys(&sb.rows(DATAVERSE, "contacts"), "emailaddress1");
    let bc_con = keys(&sb.rows(BC, "contacts"), "email");
    format!(
        "customers without an account: {:?}; contacts only in Dataverse: {:?}; contacts only in Business Central: {:?}",
        bc_cus.difference(&dv_acc).collect::<Vec<_>>(),
        dv_con.difference(&bc_con).collect::<Vec<_>>(),
        bc_con.difference(&dv_con).collect::<Vec<_>>(),
    )
}
