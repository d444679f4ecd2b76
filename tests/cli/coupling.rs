//! `couplet couple` (by hand and by match criteria), `couplet uncouple`, and couplings that
//! survive `couplet replay --rebuild`, through the binary against the sandbox.

use std::time::Duration;

use crate::cli_support::Cli;
use crate::common::{Harness, wait_until};
use couplet::pipeline::engine::instance_id;
use couplet::pipeline::manual_coupling::{Coupled, CouplingError, couple, uncouple};
use couplet::pipeline::state::StateLog;

fn coupled_lines<'a>(out: &'a str, id: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.contains(id)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn couple_by_hand_refuse_a_second_partner_uncouple_and_survive_rebuild() {
    let cli = Cli::start(0).await;
    let erp = cli.customer("Hand Coupled Ltd", "+1 555 0100");
    let crm = cli.account("Hand Coupled (CRM name)", "+1 555 0199");
    let other_crm = cli.account("Someone Else", "+1 555 0111");

    let r = cli
        .run(
            &["couple", "CUSTOMER", "--erp-id", &erp, "--crm-id", &crm],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains(&format!(
        "Coupled bc/customers/{erp} <-> dataverse/accounts/{crm}"
    )));
    // Nothing written by coupling.
    assert_eq!(
        cli.text(couplet::systems::DATAVERSE, "accounts", &crm, "name"),
        "Hand Coupled (CRM name)"
    );

    // The ERP record is coupled already: refused, naming its partner and the fix.
    let r = cli
        .run(
            &[
                "couple", "CUSTOMER", "--erp-id", &erp, "--crm-id", &other_crm,
            ],
            true,
        )
        .await;
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.err.contains(&format!(
            "bc/customers/{erp} is already coupled to dataverse/accounts/{crm} in mapping CUSTOMER; uncouple it first (`couplet uncouple CUSTOMER --erp-id {erp}`)"
        )),
        "{}",
        r.err
    );
    // A record that does not exist is refused.
    let r = cli
        .run(
            &[
                "couple",
                "CUSTOMER",
                "--erp-id",
                "00000000-0000-0000-0000-000000000001",
                "--crm-id",
                &other_crm,
            ],
            true,
        )
        .await;
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains("does not exist in Business Central"),
        "{}",
        r.err
    );

    // The coupling is in the changelog: a rebuild keeps it, and the audit trail shows it.
    let r = cli.run(&["replay", "--rebuild"], true).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli
        .run(&["couplings", "list", "--mapping", "CUSTOMER"], true)
        .await;
    let lines = coupled_lines(&r.out, &crm);
    assert_eq!(lines.len(), 1, "{}", r.out);
    assert!(
        lines[0].contains(&erp) && lines[0].contains("coupled"),
        "{}",
        lines[0]
    );
    let r = cli
        .run(&["audit", &format!("bc/customers/{erp}")], true)
        .await;
    assert!(r.out.contains("coupled by hand"), "{}", r.out);

    // Uncouple; the rebuild agrees.
    let r = cli
        .run(&["uncouple", "CUSTOMER", "--crm-id", &crm], true)
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.out.contains("1 coupling(s) removed"), "{}", r.out);
    let r = cli.run(&["replay", "--rebuild"], true).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli.run(&["couplings", "list"], true).await;
    assert!(coupled_lines(&r.out, &crm).is_empty(), "{}", r.out);
    // Both records are still there.
    assert_eq!(
        cli.text(couplet::systems::BC, "customers", &erp, "displayName"),
        "Hand Coupled Ltd"
    );
    assert_eq!(
        cli.text(couplet::systems::DATAVERSE, "accounts", &crm, "name"),
        "Hand Coupled (CRM name)"
    );

    // Now it can be coupled to the other account; then --all removes every coupling.
    let r = cli
        .run(
            &[
                "couple", "CUSTOMER", "--erp-id", &erp, "--crm-id", &other_crm,
            ],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli.run(&["uncouple", "CUSTOMER", "--all"], true).await;
    assert!(r.out.contains("1 coupling(s) removed"), "{}", r.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_based_coupling_matched_ambiguous_unmatched_and_create_missing() {
    let cli = Cli::start(0).await;
    let one = cli.customer("Match One GmbH", "1");
    let twin = cli.customer("Twin Name", "2");
    let lonely = cli.customer("Lonely Ltd", "3");
    let one_crm = cli.account("match one gmbh", "x");
    let twin_a = cli.account("Twin Name", "y");
    let twin_b = cli.account("TWIN NAME", "z");

    let r = cli
        .run(&["couple", "CUSTOMER", "--match", "displayName"], true)
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out
            .contains("CUSTOMER: 1 matched, 0 created, 1 ambiguous, 1 unmatched, 0 failed."),
        "{}",
        r.out
    );
    assert!(
        r.out.contains(&format!(
            "bc/customers/{one} (Match One GmbH) <-> dataverse/accounts/{one_crm}"
        )),
        "{}",
        r.out
    );
    let amb = r.out.lines().find(|l| l.contains(&twin)).unwrap();
    assert!(
        amb.contains("2 uncoupled CRM records have the same displayName"),
        "{amb}"
    );
    assert!(amb.contains(&twin_a) && amb.contains(&twin_b), "{amb}");
    assert!(
        r.out
            .contains(&format!("bc/customers/{lonely} (Lonely Ltd)")),
        "{}",
        r.out
    );

    // --create-missing creates the unmatched one in Dataverse and couples it; the ambiguous
    // one is never created (that would make a twin).
    let before = cli.sb.rows(couplet::systems::DATAVERSE, "accounts").len();
    let r = cli
        .run(
            &[
                "couple",
                "CUSTOMER",
                "--match",
                "displayName",
                "--create-missing",
            ],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out
            .contains("0 matched, 1 created, 1 ambiguous, 0 unmatched, 0 failed."),
        "{}",
        r.out
    );
    assert_eq!(
        cli.sb.rows(couplet::systems::DATAVERSE, "accounts").len(),
        before + 1
    );
    let created = cli
        .sb
        .rows(couplet::systems::DATAVERSE, "accounts")
        .into_iter()
        .find(|a| a["name"] == "Lonely Ltd")
        .expect("Lonely Ltd created in Dataverse");
    let created_id = created["accountid"].as_str().unwrap().to_string();
    let r = cli
        .run(&["couplings", "list", "--mapping", "CUSTOMER"], true)
        .await;
    let line = coupled_lines(&r.out, &created_id);
    assert_eq!(line.len(), 1, "{}", r.out);
    assert!(
        line[0].contains(&lonely) && line[0].contains("to_crm") && line[0].contains("created"),
        "{}",
        line[0]
    );
    assert_eq!(coupled_lines(&r.out, &one_crm).len(), 1, "{}", r.out);
    assert!(coupled_lines(&r.out, &twin_a).is_empty() && coupled_lines(&r.out, &twin_b).is_empty());

    // Case-sensitive: `Twin Name` now equals exactly one account.
    let r = cli
        .run(
            &[
                "couple",
                "CUSTOMER",
                "--match",
                "displayName",
                "--case-sensitive",
            ],
            true,
        )
        .await;
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.out
            .contains("1 matched, 0 created, 0 ambiguous, 0 unmatched"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains(&format!(
            "bc/customers/{twin} (Twin Name) <-> dataverse/accounts/{twin_a}"
        )),
        "{}",
        r.out
    );

    // The match-based couplings survive a rebuild too.
    let r = cli.run(&["replay", "--rebuild"], true).await;
    assert_eq!(r.code, 0, "{r:?}");
    let r = cli
        .run(&["couplings", "list", "--mapping", "CUSTOMER"], true)
        .await;
    assert_eq!(coupled_lines(&r.out, &one_crm).len(), 1, "{}", r.out);
    assert_eq!(coupled_lines(&r.out, &created_id).len(), 1, "{}", r.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_data_directory_is_named_with_what_to_do() {
    let cli = Cli::start(0).await;
    let store = couplet::cli::build::open_store(&cli.data()).unwrap();
    let bus = couplet::cli::build::open_bus(&cli.data()).unwrap();
    let r = cli.run(&["uncouple", "CUSTOMER", "--all"], true).await;
    assert_ne!(r.code, 0);
    assert!(
        r.err.contains(&format!(
            "the data directory {} is in use by another Couplet process",
            cli.data().display()
        )),
        "{}",
        r.err
    );
    assert!(r.err.contains("Stop that instance"), "{}", r.err);
    drop((store, bus));
}

/// While a running instance holds the data directory (on Kafka), the commands work on a
/// scratch projection read from the couplings changelog and append to the log; the running
/// instance follows the changelog. Shown here in one process on the embedded log, which is
/// what a second process does on Kafka.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn couplings_made_beside_a_running_instance_reach_it_through_the_changelog() {
    let mut h = Harness::start(4, 3).await;
    h.wait_idle(crate::common::IDLE_TIMEOUT).await;
    let c = h.store().couplings(Some("CUSTOMER")).unwrap().remove(0);
    let cfg = couplet::cli::build::sandbox_config(&h.sb, h.dir.path()).unwrap();
    let opened = couplet::cli::local::remote(&cfg, h.bus().clone())
        .await
        .unwrap();
    let p = &opened.parts;
    assert!(!opened.local);
    // The scratch projection knows the running instance's couplings.
    assert_eq!(
        p.store
            .coupling("CUSTOMER", couplet::systems::DATAVERSE, &c.crm_id)
            .unwrap(),
        h.store()
            .coupling("CUSTOMER", couplet::systems::DATAVERSE, &c.crm_id)
            .unwrap()
    );
    let state = StateLog::new(
        p.bus.clone(),
        p.topics.clone(),
        p.store.clone(),
        instance_id(&p.store).unwrap(),
    );
    let m = p.catalogue.get("CUSTOMER").unwrap().clone();
    // Refused against the scratch copy: the CRM record is coupled.
    let other = h.store().couplings(Some("CUSTOMER")).unwrap().remove(1);
    let e = couple(
        &state,
        &p.bus,
        &p.topics,
        &m,
        &c.crm_id,
        &other.erp_id,
        "test",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CouplingError::AlreadyCoupled { .. }), "{e}");

    uncouple(&state, &p.bus, &p.topics, m.pair, &c, "test")
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(20),
        "the running instance drops the coupling",
        || async {
            h.store()
                .coupling("CUSTOMER", couplet::systems::DATAVERSE, &c.crm_id)
                .unwrap()
                .is_none()
        },
    )
    .await;
    let made = couple(&state, &p.bus, &p.topics, &m, &c.crm_id, &c.erp_id, "test")
        .await
        .unwrap();
    assert!(matches!(made, Coupled::New(_)));
    wait_until(
        Duration::from_secs(20),
        "the running instance has the coupling again",
        || async {
            h.store()
                .coupling("CUSTOMER", couplet::systems::BC, &c.erp_id)
                .unwrap()
                .is_some_and(|x| x.crm_id == c.crm_id)
        },
    )
    .await;
}
