//! End-to-end: a deletion in Dataverse removes the coupling and keeps the Business Central
//! customer; an expired change-tracking token causes a full re-read that still sees updates
//! and deletions made meanwhile.

use crate::common::*;
use serde_json::json;

/// The contacts of the deleted account are kept, coupled, on both sides (the sandbox, like a
/// Dataverse relationship without cascading deletes, leaves their parent lookup dangling); their
/// parent no longer resolves, which is the only difference the comparison may report.
fn contacts_kept(h: &Harness, check: &couplet::transform::compare::MappingCheck, acc: &str) {
    let orphans: Vec<String> =
        h.sb.rows(couplet::systems::DATAVERSE, "contacts")
            .iter()
            .filter(|r| text(r, "_parentcustomerid_value") == acc)
            .map(|r| text(r, "contactid"))
            .collect();
    assert!(!orphans.is_empty());
    for c in &orphans {
        let erp = h.coupled_id("CONTACT", couplet::systems::DATAVERSE, c);
        assert!(h.sb.row(couplet::systems::BC, "contacts", &erp).is_some());
    }
    assert!(
        check.uncoupled_crm.is_empty()
            && check.uncoupled_erp.is_empty()
            && check.duplicates.is_empty()
            && check.dangling.is_empty()
            && check.diffs.iter().all(|d| orphans.contains(&d.crm_id)),
        "{}",
        describe_check(check)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataverse_deletion_removes_the_coupling_only() {
    let mut h = Harness::start(25, 31).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let acc = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 2);
    let cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &acc);
    let accounts = h.sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    let customers = h.sb.rows(couplet::systems::BC, "customers").len();
    let bc_contacts = h.sb.rows(couplet::systems::BC, "contacts").len();
    let couplings = h.store().coupling_count("CUSTOMER").unwrap();
    let bc_writes = h.sb.stats(couplet::systems::BC).writes;

    h.sb.delete_row(couplet::systems::DATAVERSE, "accounts", &acc)
        .unwrap();
    h.wait_idle(IDLE_TIMEOUT).await;

    assert!(
        h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &acc)
            .is_none()
    );
    assert!(
        h.coupling("CUSTOMER", couplet::systems::BC, &cust)
            .is_none()
    );
    assert!(
        h.sb.row(couplet::systems::BC, "customers", &cust).is_some(),
        "the BC customer was deleted"
    );
    assert_eq!(h.store().coupling_count("CUSTOMER").unwrap(), couplings - 1);
    assert_eq!(
        h.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        accounts - 1
    );
    assert_eq!(
        h.sb.rows(couplet::systems::BC, "customers").len(),
        customers
    );
    assert_eq!(
        h.sb.rows(couplet::systems::BC, "contacts").len(),
        bc_contacts
    );
    assert_eq!(
        h.sb.stats(couplet::systems::BC).writes,
        bc_writes,
        "nothing written to BC"
    );
    let trail = h.audit(&format!("dataverse/accounts/{acc}"));
    assert!(
        trail.iter().any(
            |l| l.starts_with(&format!("outcome uncoupled dataverse/accounts/{acc}"))
                && l.contains("remove_coupling")
        ),
        "no uncoupled outcome in {trail:#?}"
    );
    // The kept customer is now uncoupled on purpose; everything else is still in step.
    let checks = h.check();
    assert_eq!(checks[0].uncoupled_erp, vec![cust.clone()]);
    assert!(checks[0].uncoupled_crm.is_empty() && checks[0].diffs.is_empty());
    contacts_kept(&h, &checks[1], &acc);
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_delta_token_leaves_no_gap() {
    let mut h = Harness::start(25, 32).await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let gone = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 0);
    let gone_cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &gone);
    let edited = coupled(&h, "CUSTOMER", couplet::systems::DATAVERSE, "accounts", 1);
    let edited_cust = h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, &edited);
    let full_reads: Vec<u64> = h
        .engine()
        .captures()
        .iter()
        .map(|c| c.full_reads())
        .collect();

    h.sb.delete_row(couplet::systems::DATAVERSE, "accounts", &gone)
        .unwrap();
    h.sb.update_row(
        couplet::systems::DATAVERSE,
        "accounts",
        &edited,
        patch("telephone1", json!("+1 312 555 0177")),
    )
    .unwrap();
    h.sb.expire_change_tracking();
    h.wait_idle(IDLE_TIMEOUT).await;

    // Both Dataverse captures re-read everything; the BC ones did not.
    for (c, before) in h.engine().captures().iter().zip(&full_reads) {
        if c.name().contains("/dataverse/") {
            assert_eq!(c.full_reads(), before + 1, "{}", c.name());
        } else {
            assert_eq!(c.full_reads(), *before, "{}", c.name());
        }
    }
    assert_eq!(
        text(
            &h.row(couplet::systems::BC, "customers", &edited_cust),
            "phoneNumber"
        ),
        "+1 312 555 0177"
    );
    assert!(
        h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &gone)
            .is_none()
    );
    assert!(
        h.sb.row(couplet::systems::BC, "customers", &gone_cust)
            .is_some()
    );
    let trail = h.audit(&format!("dataverse/accounts/{gone}"));
    assert!(
        trail
            .iter()
            .any(|l| l.starts_with(&format!("outcome uncoupled dataverse/accounts/{gone}"))),
        "no uncoupled outcome in {trail:#?}"
    );
    let checks = h.check();
    assert_eq!(checks[0].uncoupled_erp, vec![gone_cust]);
    assert!(checks[0].uncoupled_crm.is_empty() && checks[0].diffs.is_empty());
    contacts_kept(&h, &checks[1], &gone);
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());
    h.stop_engine().await;
}
