//! End-to-end: update-conflict policies (fail, crm_wins) and the restore deletion policy.

use crate::common::*;
use serde_json::json;

/// The default mappings with `line` added to the CUSTOMER mapping (after its `deletion`).
fn customer_with(line: &str) -> String {
    defaults_with(
        "CUSTOMER",
        "deletion = \"remove_coupling\"",
        &format!("deletion = \"remove_coupling\"\n{line}"),
    )
}

/// Edits the phone of a coupled pair on both sides while the engine is stopped, so both
/// changes are captured before either is written: an update conflict.
async fn edit_both_sides(h: &mut Harness) -> (String, String) {
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = coupled(h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 3);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    h.stop_engine().await;
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &acc,
        patch("telephone1", json!("+1 206 555 0101")),
    )
    .unwrap();
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("phoneNumber", json!("+1 206 555 0202")),
    )
    .unwrap();
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;
    (acc, cust)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_conflict_fails_into_the_errors_list_and_retry_resolves_it() {
    let mut h =
        Harness::start_with_mappings(20, 71, &customer_with("update_conflict = \"fail\"")).await;
    let (acc, cust) = edit_both_sides(&mut h).await;
    let errors = h.store().errors().unwrap();
    let conflict = errors
        .iter()
        .find(|e| e.class == "update_conflict")
        .unwrap_or_else(|| panic!("no update conflict in {errors:#?}"));
    assert_eq!(conflict.mapping, "CUSTOMER");
    assert!(
        conflict.reason.contains("mapping CUSTOMER"),
        "{}",
        conflict.reason
    );
    assert!(
        conflict.reason.contains(&acc) && conflict.reason.contains(&cust),
        "{}",
        conflict.reason
    );
    assert!(
        conflict.reason.contains("telephone1") || conflict.reason.contains("phoneNumber"),
        "{}",
        conflict.reason
    );
    // Neither side was overwritten.
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &acc),
            "telephone1"
        ),
        "+1 206 555 0101"
    );
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 206 555 0202"
    );

    // A user makes the two sides agree; the next change synchronises and clears the error.
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("phoneNumber", json!("+1 206 555 0101")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    let record = conflict.record.clone();
    h.stop_engine().await;
    let cfg_path = h.dir.path().join("retry.toml");
    let mut text_cfg = couplet::cli::build::sandbox_config_text(&h.sb, h.dir.path());
    text_cfg.push_str(&format!(
        "\n[sync]\nmapping_file = \"{}\"\n",
        h.mapping_file.as_ref().unwrap().display()
    ));
    std::fs::write(&cfg_path, text_cfg).unwrap();
    couplet::cli::inspect::retry(&cfg_path, Some(&record))
        .await
        .unwrap();
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let left: Vec<_> = h
        .store()
        .errors()
        .unwrap()
        .into_iter()
        .filter(|e| e.class == "update_conflict")
        .collect();
    assert!(left.is_empty(), "{left:#?}");
    h.assert_in_sync();
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crm_wins_writes_the_crm_values_on_a_conflict() {
    let mut h =
        Harness::start_with_mappings(20, 72, &customer_with("update_conflict = \"crm_wins\""))
            .await;
    let (acc, cust) = edit_both_sides(&mut h).await;
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &acc),
            "telephone1"
        ),
        "+1 206 555 0101"
    );
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 206 555 0101"
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.assert_in_sync();
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erp_wins_writes_the_erp_values_on_a_conflict() {
    let mut h =
        Harness::start_with_mappings(20, 75, &customer_with("update_conflict = \"erp_wins\""))
            .await;
    let (acc, cust) = edit_both_sides(&mut h).await;
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &acc),
            "telephone1"
        ),
        "+1 206 555 0202"
    );
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "phoneNumber"
        ),
        "+1 206 555 0202"
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    let trail = h.audit(&format!("dataverse/accounts/{acc}"));
    assert!(
        trail.iter().any(|l| l.contains("update conflict")),
        "{trail:#?}"
    );
    h.assert_in_sync();
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_recreates_a_deleted_record_and_couples_it() {
    let mut h = Harness::start_with_mappings(
        20,
        73,
        &defaults_with(
            "CUSTOMER",
            "deletion = \"remove_coupling\"",
            "deletion = \"restore\"",
        ),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 2);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    let accounts = h.sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    h.sb.delete_row(couplet::systems::DATAVERSE, "accounts", &acc)
        .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    let c = h
        .coupling("CUSTOMER", couplet::systems::BC, &cust)
        .expect("the customer is coupled again");
    assert_ne!(c.crm_id, acc, "coupled to the deleted account");
    let restored = h.row(couplet::systems::DATAVERSE, "accounts", &c.crm_id);
    assert_eq!(
        text(&restored, "name"),
        text(
            &h.row(couplet::systems::BC, "customers", &cust),
            "displayName"
        )
    );
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        accounts
    );
    let trail = h.audit(&format!("dataverse/accounts/{acc}"));
    assert!(
        trail.iter().any(|l| l.contains("restoring it from")),
        "{trail:#?}"
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletion_none_keeps_the_coupling_and_fails_the_survivors_next_change() {
    let mut h = Harness::start_with_mappings(
        20,
        74,
        &defaults_with(
            "CUSTOMER",
            "deletion = \"remove_coupling\"",
            "deletion = \"none\"",
        ),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 2);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    h.sb.delete_row(couplet::systems::DATAVERSE, "accounts", &acc)
        .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    assert!(
        h.coupling("CUSTOMER", couplet::systems::BC, &cust)
            .is_some(),
        "the coupling was removed"
    );
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());

    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &cust,
        patch("phoneNumber", json!("+1 206 555 0303")),
    )
    .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;
    let errors = h.store().errors().unwrap();
    let e = errors
        .iter()
        .find(|e| e.class == "deletion_conflict")
        .unwrap_or_else(|| panic!("no deletion conflict in {errors:#?}"));
    assert_eq!(e.record, format!("bc/customers/{cust}"));
    assert!(
        e.reason.contains("mapping CUSTOMER") && e.reason.contains(&acc),
        "{}",
        e.reason
    );
    // Nothing was recreated.
    assert!(
        h.sb.row(couplet::systems::DATAVERSE, "accounts", &acc)
            .is_none()
    );
    h.stop_engine().await;
}
