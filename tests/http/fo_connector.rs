//! The F&O connector against the sandbox's F&O: a token of its own host (one host's token is
//! refused by the other), a cold first call that is neither an error nor a retry storm, keys
//! with their legal entity, and `$metadata` for `couplet mappings validate`.

use std::time::{Duration, Instant};

use couplet::sandbox::{FoConfig, Sandbox, SandboxConfig};
use couplet::systems::SystemError;
use serde_json::json;

fn fo_config(sb: &Sandbox, dir: &std::path::Path) -> couplet::config::Config {
    couplet::cli::build::sandbox_config_for(sb, dir, "fo").expect("config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_first_call_waits_once_and_later_calls_use_the_normal_timeout() {
    let sb = Sandbox::start(SandboxConfig {
        records: 3,
        fo: FoConfig {
            cold_start: Duration::from_millis(2500),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fo_config(&sb, dir.path());
    // Far shorter than the cold start: only the first-call timeout lets the first call through.
    cfg.http.timeout = Duration::from_millis(800);
    let targets = couplet::cli::build::targets(&cfg).unwrap();
    let started = Instant::now();
    let said = targets.erp.connector().test_connection().await.unwrap();
    assert!(said.contains("usmf"), "{said}");
    assert!(started.elapsed() >= Duration::from_millis(2500));
    assert_eq!(sb.fo_stats().requests, 1, "one slow call, no retries");
    // Warm now: a normal read within the normal timeout.
    let rows = targets.erp.query("CustomersV3", "").await.unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r["dataAreaId"] == json!("usmf")),
        "only the configured company"
    );
    assert_eq!(sb.fo_stats().requests, 2);

    // Without the generous first call, the cold start is a timeout the retries must absorb.
    let sb2 = Sandbox::start(SandboxConfig {
        records: 1,
        fo: FoConfig {
            cold_start: Duration::from_millis(2500),
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let mut cfg2 = fo_config(&sb2, dir.path());
    cfg2.http.timeout = Duration::from_millis(800);
    cfg2.http.max_attempts = 1;
    cfg2.systems
        .get_mut("fo")
        .and_then(|v| v.as_table_mut())
        .unwrap()
        .insert("first_call_timeout_secs".into(), toml::Value::Integer(1));
    let t2 = couplet::cli::build::targets(&cfg2).unwrap();
    let e = t2.erp.connector().test_connection().await.unwrap_err();
    assert!(
        matches!(e, SystemError::Unavailable { status: None, .. }),
        "{e}"
    );
    sb.shutdown().await;
    sb2.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_host_gets_its_own_token_and_refuses_the_others() {
    let sb = Sandbox::start(SandboxConfig {
        records: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = fo_config(&sb, dir.path());
    let targets = couplet::cli::build::targets(&cfg).unwrap();
    targets.crm.connector().test_connection().await.unwrap();
    targets.erp.connector().test_connection().await.unwrap();
    assert_eq!(sb.tokens_issued(), 2, "one token per host");

    // F&O configured with Dataverse's host as its token resource: F&O refuses the token.
    let mut wrong = fo_config(&sb, dir.path());
    wrong
        .systems
        .get_mut("fo")
        .and_then(|v| v.as_table_mut())
        .unwrap()
        .insert(
            "resource".into(),
            toml::Value::String(sb.dataverse_url().trim_end_matches('/').to_string()),
        );
    let t = couplet::cli::build::targets(&wrong).unwrap();
    let e = t.erp.connector().test_connection().await.unwrap_err();
    assert!(matches!(e, SystemError::Auth { .. }), "{e}");
    assert!(
        e.to_string().contains("[fo] url"),
        "the hint names the setting: {e}"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_keyed_per_legal_entity_and_metadata_lists_the_entities() {
    let sb = Sandbox::start(SandboxConfig {
        records: 20,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = fo_config(&sb, dir.path());
    cfg.systems
        .get_mut("fo")
        .and_then(|v| v.as_table_mut())
        .unwrap()
        .insert(
            "legal_entities".into(),
            toml::Value::Array(vec!["usmf".into(), "usrt".into()]),
        );
    let fo = couplet::cli::build::targets(&cfg).unwrap().erp;
    // The same account in two companies is two records.
    let rows = fo
        .find_eq("CustomersV3", "CustomerAccount", &json!("C00001"))
        .await
        .unwrap();
    let mut ids: Vec<String> = rows
        .iter()
        .map(|r| fo.system().record_id("CustomersV3", r).unwrap())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "dataAreaId=usmf,CustomerAccount=C00001",
            "dataAreaId=usrt,CustomerAccount=C00001"
        ]
    );
    // A write in the second company, addressed by its full key.
    let w = fo
        .update(
            "CustomersV3",
            "dataAreaId=usrt,CustomerAccount=C00001",
            &json!({"AddressCity": "Redmond"})
                .as_object()
                .cloned()
                .unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(w.fields["AddressCity"], json!("Redmond"));
    assert!(w.etag.is_some() && w.modified_on.is_some());
    let usmf = fo
        .get("CustomersV3", "dataAreaId=usmf,CustomerAccount=C00001")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        usmf["AddressCity"],
        json!("Redmond"),
        "the other company's record is untouched"
    );
    // A create without a company goes to the default legal entity.
    let c = fo
        .create(
            "CustomersV3",
            &json!({"OrganizationName": "New Co", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(
        c.id.starts_with("dataAreaId=usmf,CustomerAccount=C"),
        "{}",
        c.id
    );
    // A rejected write says why, from F&O's innererror.
    let e = fo
        .create(
            "CustomersV3",
            &json!({"OrganizationName": "No group", "SalesCurrencyCode": "USD", "CustomerGroupId": "99"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Customer group"), "{e}");

    // By natural key an enum is compared with its qualified literal, the form F&O's page on
    // OData documents (`Microsoft.Dynamics.DataEntities.DirPartyBaseType'Organization'`).
    let orgs = fo
        .find_eq("CustomersV3", "PartyType", &json!("Organization"))
        .await
        .unwrap();
    assert!(!orgs.is_empty());
    let client = fo.client::<couplet::systems::fo::FoClient>().unwrap();
    assert_eq!(
        client
            .literal_for("CustomersV3", "PartyType", &json!("Organization"))
            .await
            .unwrap(),
        "Microsoft.Dynamics.DataEntities.DirPartyBaseType'Organization'"
    );
    assert_eq!(
        client
            .literal_for("CustomersV3", "CustomerAccount", &json!("O'Neil"))
            .await
            .unwrap(),
        "'O''Neil'"
    );
    let meta = fo
        .connector()
        .metadata(&["CustomersV3".to_string()])
        .await
        .unwrap();
    let customers = meta.entity("CustomersV3").expect("CustomersV3");
    assert!(
        customers
            .fields
            .iter()
            .any(|f| f.name == "OrganizationName")
    );
    assert_eq!(customers.system, couplet::systems::fo::SYSTEM);
    assert!(meta.entity("Customers").is_none());
    assert!(meta.missing("Customers").contains("CustomersV3"));
    sb.shutdown().await;
}
