//! End-to-end: Dataverse ↔ Finance & Operations on the sandbox: the initial synchronisation of
//! customers and released products in the configured legal entity, live edits both ways, a
//! customer created from Sales in F&O's number sequence, and a 429 storm that ends in sync.

use std::time::Duration;

use couplet::sandbox::{Fault, SandboxConfig};
use couplet::systems::fo::SYSTEM as FO;
use serde_json::json;

use crate::common::*;

/// The rows of `company`, and those of a shared entity (units), which belong to none.
fn fo_rows(h: &Harness, set: &str, company: &str) -> Vec<couplet::event::Fields> {
    h.sb.fo_rows(set)
        .into_iter()
        .filter(|r| r.get("dataAreaId").is_none_or(|c| c == &json!(company)))
        .collect()
}

/// Every mapping compared on the synchronised company's rows only (the sandbox also seeds
/// `usrt`, which this engine does not synchronise).
fn assert_usmf_in_sync(h: &Harness) {
    let store = h.store();
    let cat = h.catalogue();
    let currencies = couplet::transform::CurrencyTable::new("USD");
    currencies.set(
        h.sb.rows(couplet::systems::DATAVERSE, "transactioncurrencies")
            .into_iter()
            .filter_map(|r| {
                Some((
                    r.get("isocurrencycode")?.as_str()?.to_string(),
                    r.get("transactioncurrencyid")?.as_str()?.to_string(),
                ))
            }),
    );
    let cx = couplet::transform::fields::Context {
        catalogue: cat,
        store,
        currencies: &currencies,
    };
    let mut problems = String::new();
    for m in cat.ordered() {
        let crm = h.sb.rows(couplet::systems::DATAVERSE, &m.crm_entity);
        let erp = fo_rows(h, &m.erp_entity, "usmf");
        let c = couplet::transform::compare::compare(m, &crm, &erp, &cx).expect("compare");
        problems += &describe_check(&c);
        let crm_side = if m.direction == couplet::mapping::model::Direction::ToCrm {
            c.coupled
        } else {
            c.crm_records
        };
        if c.erp_records != c.coupled || crm_side != c.coupled {
            problems += &format!(
                "  {}: {} CRM records, {} ERP records, {} coupled\n",
                m.name, c.crm_records, c.erp_records, c.coupled
            );
        }
    }
    assert!(
        problems.is_empty()
            && store.errors().unwrap().is_empty()
            && store.parked().unwrap().is_empty(),
        "not in sync:\n{problems}{}",
        h.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_and_released_products_sync_in_the_legal_entity() {
    let mut h = Harness::start_erp(
        "fo",
        SandboxConfig {
            records: 30,
            seed: 21,
            ..Default::default()
        },
    )
    .await;
    let usrt_before = fo_rows(&h, "CustomersV3", "usrt").len();
    assert!(usrt_before > 0, "the sandbox seeds a second company");
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_usmf_in_sync(&h);

    // Every usmf customer is an account, every usmf item a product with its base price.
    let accounts = customer_accounts(&h.sb);
    for c in fo_rows(&h, "CustomersV3", "usmf") {
        let n = c["CustomerAccount"].as_str().unwrap();
        assert!(
            accounts.iter().any(|a| a["accountnumber"] == json!(n)),
            "customer {n} has no account"
        );
    }
    let products = h.sb.rows(couplet::systems::DATAVERSE, "products");
    for p in fo_rows(&h, "ReleasedProductsV2", "usmf") {
        let item = p["ItemNumber"].as_str().unwrap();
        let crm = products
            .iter()
            .find(|r| r["productnumber"] == json!(item))
            .unwrap_or_else(|| panic!("item {item} is not a product"));
        let want = (p["SalesPrice"].as_f64().unwrap() * 100.0).round() / 100.0;
        assert_eq!(crm["price"].as_f64(), Some(want), "{item}");
    }
    // The other legal entity was neither read into Sales nor written to.
    assert_eq!(fo_rows(&h, "CustomersV3", "usrt").len(), usrt_before);

    // A customer master change in F&O reaches its account.
    let c = &fo_rows(&h, "CustomersV3", "usmf")[0];
    let number = c["CustomerAccount"].as_str().unwrap().to_string();
    h.sb.fo_update_row(
        "CustomersV3",
        &format!("dataAreaId='usmf',CustomerAccount='{number}'"),
        json!({"OrganizationName": "Renamed in F&O", "AddressCity": "Fargo"})
            .as_object()
            .cloned()
            .unwrap(),
    )
    .unwrap();
    let account = wait_for(Duration::from_secs(20), || {
        customer_accounts(&h.sb)
            .into_iter()
            .find(|a| a["accountnumber"] == json!(number) && a["name"] == json!("Renamed in F&O"))
    })
    .await
    .expect("the F&O edit reaches the account");
    assert_eq!(account["address1_city"], json!("Fargo"));

    // An account created in Sales becomes a customer of the default legal entity, numbered by
    // F&O, and the number comes back to the account.
    let id = h
        .sb
        .insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            json!({"name": "Made in Sales", "address1_city": "Oslo", "telephone1": "555-0101", "customertypecode": 3})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    let customer = wait_for(Duration::from_secs(20), || {
        fo_rows(&h, "CustomersV3", "usmf")
            .into_iter()
            .find(|c| c["OrganizationName"] == json!("Made in Sales"))
    })
    .await
    .expect("the account reaches F&O");
    assert_eq!(customer["AddressCity"], json!("Oslo"));
    assert_eq!(customer["CustomerGroupId"], json!("10"));
    let number = customer["CustomerAccount"].as_str().unwrap().to_string();
    // The coupling is recorded once the create's outcome is projected.
    let coupling = wait_for(Duration::from_secs(10), || {
        h.coupling("CUSTOMER", couplet::systems::DATAVERSE, &id)
    })
    .await
    .unwrap_or_else(|| panic!("the account is not coupled\n{}", h.describe()));
    assert_eq!(
        coupling.erp_id,
        format!("dataAreaId=usmf,CustomerAccount={number}")
    );
    wait_for(Duration::from_secs(20), || {
        h.sb.row(couplet::systems::DATAVERSE, "accounts", &id)
            .filter(|a| a["accountnumber"] == json!(number))
    })
    .await
    .expect("F&O's number comes back to the account");
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_usmf_in_sync(&h);
    assert_eq!(fo_rows(&h, "CustomersV3", "usrt").len(), usrt_before);
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_fo_ends_in_sync_without_errors() {
    let mut h = Harness::start_erp(
        "fo",
        SandboxConfig {
            records: 12,
            seed: 5,
            ..Default::default()
        },
    )
    .await;
    h.sb.fo_inject(Fault::Throttle {
        count: 25,
        retry_after: Duration::from_secs(1),
    });
    for i in 0..4 {
        h.sb.insert_row(
            couplet::systems::DATAVERSE,
            "accounts",
            json!({"name": format!("Storm {i}"), "customertypecode": 3})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    }
    h.wait_idle(IDLE_TIMEOUT).await;
    assert_usmf_in_sync(&h);
    for i in 0..4 {
        let name = format!("Storm {i}");
        let n = fo_rows(&h, "CustomersV3", "usmf")
            .iter()
            .filter(|c| c["OrganizationName"] == json!(name))
            .count();
        assert_eq!(n, 1, "{name} is in F&O once");
    }
    assert!(h.sb.fo_stats().throttled > 0, "the storm was felt");
    assert_eq!(FO.as_str(), "fo");
    h.stop_engine().await;
}

/// Polls every 8 s and receives F&O's Business Events on a port of its own.
fn with_business_events(cfg: &mut couplet::config::Config) {
    cfg.capture.poll_interval_ms = 8_000;
    let fo = cfg.systems.get_mut("fo").expect("[fo]");
    let events: toml::Value = toml::from_str(
        r#"listen = "127.0.0.1:0"
secret = "couplet-sandbox-business-events""#,
    )
    .expect("toml");
    fo.as_table_mut()
        .expect("[fo] is a table")
        .insert("business_events".into(), events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_business_event_wakes_the_poll_and_a_duplicate_writes_nothing_twice() {
    let mut sb_cfg = SandboxConfig {
        records: 10,
        seed: 3,
        ..Default::default()
    };
    // At-least-once delivery: every second event arrives twice.
    sb_cfg.fo.events.duplicate_every = Some(2);
    let mut h = Harness::start_erp_with(
        "fo",
        sb_cfg,
        Some(std::sync::Arc::new(with_business_events)),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let client = h
        .engine()
        .parts()
        .targets
        .erp
        .client::<couplet::systems::fo::FoClient>()
        .expect("the ERP is F&O")
        .clone();
    let endpoint = client.events().expect("configured").clone();
    let mut url = None;
    for _ in 0..100 {
        url = endpoint.url().await;
        if url.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = url.expect("the receiver listens");
    h.sb.fo_register_endpoint(&url);

    // Two customer changes: the events bring them well inside the 8 s interval.
    let rows = fo_rows(&h, "CustomersV3", "usmf");
    let numbers: Vec<String> = rows
        .iter()
        .take(2)
        .map(|c| c["CustomerAccount"].as_str().unwrap().to_string())
        .collect();
    let updates = |outcomes: &[couplet::event::Outcome], n: &str| {
        let id = format!("dataAreaId=usmf,CustomerAccount={n}");
        outcomes
            .iter()
            .filter(|o| o.source.id == id && o.status == couplet::event::OutcomeStatus::Updated)
            .count()
    };
    let before = h.outcomes().await;
    let started = std::time::Instant::now();
    for (i, n) in numbers.iter().enumerate() {
        h.sb.fo_update_row(
            "CustomersV3",
            &format!("dataAreaId='usmf',CustomerAccount='{n}'"),
            json!({"PrimaryContactPhone": format!("555-01{i:02}")})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
    }
    for (i, n) in numbers.iter().enumerate() {
        let phone = format!("555-01{i:02}");
        wait_for(Duration::from_secs(15), || {
            customer_accounts(&h.sb)
                .into_iter()
                .find(|a| a["accountnumber"] == json!(n) && a["telephone1"] == json!(phone))
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "the event about {n} did not bring its change\n{}",
                h.describe()
            )
        });
    }
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "woken, not polled: {:?}",
        started.elapsed()
    );
    let stats = endpoint.stats().await.expect("the receiver runs");
    assert!(stats.accepted >= 2, "{stats:?}");
    assert!(
        stats.duplicate >= 1,
        "the second event came twice: {stats:?}"
    );
    h.wait_idle(IDLE_TIMEOUT).await;
    // Each change was written to its account once, the duplicate delivery included.
    let after = h.outcomes().await;
    for n in &numbers {
        let writes = updates(&after, n) - updates(&before, n);
        assert_eq!(writes, 1, "customer {n} was written {writes} times");
    }
    assert!(h.sb.fo_failed_events().is_empty(), "every event was taken");
    h.stop_engine().await;
}

/// F&O's default mappings with the customer's natural key scoped by its legal entity: the
/// account's `couplet_legalentity` column and F&O's `dataAreaId`, blank meaning `usmf`; Sales'
/// products (one catalogue) come from usmf's released products.
fn per_legal_entity_mappings() -> String {
    let scoped = couplet::systems::fo::system::MAPPINGS.replacen(
        "erp_filter = \"ProductType eq 'Item'\"",
        "erp_filter = \"ProductType eq 'Item' and dataAreaId eq 'usmf'\"",
        1,
    );
    let scoped = scoped.replacen(
        "erp_key = \"CustomerAccount\"\n",
        "erp_key = \"CustomerAccount\"\ncrm_key_scope = \"couplet_legalentity\"\nerp_key_scope = \"dataAreaId\"\nkey_scope_default = \"usmf\"\n",
        1,
    );
    scoped.replacen(
        "  [[mapping.fields]]\n  crm = \"name\"\n  erp = \"OrganizationName\"\n",
        "  [[mapping.fields]]\n  crm = \"couplet_legalentity\"\n  erp = \"dataAreaId\"\n\n  [[mapping.fields]]\n  crm = \"name\"\n  erp = \"OrganizationName\"\n",
        1,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_customer_account_in_two_legal_entities_is_two_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fo-two-companies.toml");
    std::fs::write(&file, per_legal_entity_mappings()).unwrap();
    let tweak: Tweak = std::sync::Arc::new(move |cfg: &mut couplet::config::Config| {
        cfg.sync.mapping_file = Some(file.clone());
        // Customers and products only: the price mappings resolve a price group by its code,
        // which two legal entities share (README, "F&O prices").
        cfg.sync.mappings = vec!["CUSTOMER".into(), "ITEM-PRODUCT".into()];
        cfg.systems
            .get_mut("fo")
            .and_then(|v| v.as_table_mut())
            .expect("[fo]")
            .insert(
                "legal_entities".into(),
                toml::Value::Array(vec!["usmf".into(), "usrt".into()]),
            );
    });
    let mut h = Harness::start_erp_with(
        "fo",
        SandboxConfig {
            records: 30,
            seed: 8,
            ..Default::default()
        },
        Some(tweak),
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    let usmf = fo_rows(&h, "CustomersV3", "usmf");
    let usrt = fo_rows(&h, "CustomersV3", "usrt");
    let shared: Vec<String> = usrt
        .iter()
        .map(|c| c["CustomerAccount"].as_str().unwrap().to_string())
        .filter(|n| usmf.iter().any(|c| c["CustomerAccount"] == json!(n)))
        .collect();
    assert!(
        !shared.is_empty(),
        "the sandbox seeds accounts in both companies"
    );
    let accounts = customer_accounts(&h.sb);
    for n in &shared {
        let mut companies: Vec<String> = accounts
            .iter()
            .filter(|a| a["accountnumber"] == json!(n))
            .map(|a| a["couplet_legalentity"].as_str().unwrap_or("").to_string())
            .collect();
        companies.sort();
        assert_eq!(
            companies,
            ["usmf", "usrt"],
            "customer {n}: one account per legal entity"
        );
    }
    // Every customer of both companies is coupled to its own account, and no F&O twin was made.
    for c in usmf.iter().chain(&usrt) {
        let id = FO.record_id("CustomersV3", c).unwrap();
        let account = h.coupled_id("CUSTOMER", FO, &id);
        let a = h.row(couplet::systems::DATAVERSE, "accounts", &account);
        assert_eq!(a["couplet_legalentity"], c["dataAreaId"], "{id}");
        assert_eq!(a["accountnumber"], c["CustomerAccount"], "{id}");
    }
    let problems: String = h.check().iter().map(describe_check).collect();
    assert!(problems.is_empty(), "{problems}{}", h.describe());
    assert!(h.store().errors().unwrap().is_empty(), "{}", h.describe());

    // An edit in one company reaches only that company's account.
    let n = &shared[0];
    h.sb.fo_update_row(
        "CustomersV3",
        &format!("dataAreaId='usrt',CustomerAccount='{n}'"),
        json!({"PrimaryContactPhone": "555-0199"})
            .as_object()
            .cloned()
            .unwrap(),
    )
    .unwrap();
    wait_for(Duration::from_secs(20), || {
        customer_accounts(&h.sb).into_iter().find(|a| {
            a["accountnumber"] == json!(n)
                && a["couplet_legalentity"] == json!("usrt")
                && a["telephone1"] == json!("555-0199")
        })
    })
    .await
    .expect("the usrt edit reaches the usrt account");
    let usmf_account = customer_accounts(&h.sb)
        .into_iter()
        .find(|a| a["accountnumber"] == json!(n) && a["couplet_legalentity"] == json!("usmf"))
        .unwrap();
    assert_ne!(usmf_account["telephone1"], json!("555-0199"));

    // An account created in Sales for the second company becomes a usrt customer.
    h.sb.insert_row(
        couplet::systems::DATAVERSE,
        "accounts",
        json!({"name": "Retail newcomer", "couplet_legalentity": "usrt", "customertypecode": 3})
            .as_object()
            .cloned()
            .unwrap(),
    )
    .unwrap();
    wait_for(Duration::from_secs(20), || {
        fo_rows(&h, "CustomersV3", "usrt")
            .into_iter()
            .find(|c| c["OrganizationName"] == json!("Retail newcomer"))
    })
    .await
    .expect("the account reaches F&O's usrt");
    h.wait_idle(IDLE_TIMEOUT).await;
    h.stop_engine().await;
}

/// A dead instance logged its intents to create F&O customers for new accounts, F&O made the
/// customers, and it died before coupling them: the running instance couples each pair, no
/// twin on either side. The names are short, so the made customers are looked up by their
/// longest sent value, the enum `PartyType` (compared as F&O's enum literal).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_created_before_a_crash_is_coupled_not_twinned() {
    use couplet::event::RecordKey;
    use couplet::pipeline::state::StateLog;
    use couplet::store::CreateIntent;
    let mut h = Harness::start_erp(
        "fo",
        SandboxConfig {
            records: 10,
            seed: 71,
            ..Default::default()
        },
    )
    .await;
    h.wait_idle(IDLE_TIMEOUT).await;
    h.stop_engine().await;
    let parts = h.open_parts().await;
    let dead = StateLog::new(
        parts.bus.clone(),
        parts.topics.clone(),
        parts.store.clone(),
        "dead-instance".to_string(),
    );
    let mut made = Vec::new();
    for (name, city) in [("Tw One", "Oslo"), ("Tw Two", "Bergen")] {
        let account =
            h.sb.insert_row(
                couplet::systems::DATAVERSE,
                "accounts",
                json!({"name": name, "address1_city": city, "customertypecode": 3})
                    .as_object()
                    .cloned()
                    .unwrap(),
            )
            .unwrap();
        let sent =
            json!({"OrganizationName": name, "AddressCity": city, "PartyType": "Organization",
            "CustomerGroupId": "10", "SalesCurrencyCode": "USD"})
            .as_object()
            .cloned()
            .unwrap();
        dead.put_intent(&CreateIntent {
            mapping: "CUSTOMER".into(),
            source: RecordKey::new(couplet::systems::DATAVERSE, "accounts", account.clone()),
            target_system: FO,
            target_entity: "CustomersV3".into(),
            fields: sent.clone(),
            instance: "dead-instance".into(),
            at: chrono::Utc::now(),
        })
        .await
        .unwrap();
        let mut body = sent;
        body.insert("dataAreaId".into(), json!("usmf"));
        let customer = h.sb.fo_insert_row("CustomersV3", body).unwrap();
        made.push((
            name,
            account,
            FO.record_id("CustomersV3", &customer).unwrap(),
        ));
    }
    drop(dead);
    drop(parts);
    h.start_engine().await;
    h.wait_idle(IDLE_TIMEOUT).await;
    for (name, account, customer) in &made {
        let twins = fo_rows(&h, "CustomersV3", "usmf")
            .into_iter()
            .filter(|c| c["OrganizationName"] == json!(name))
            .count();
        assert_eq!(twins, 1, "one customer named {name}");
        let accounts = customer_accounts(&h.sb)
            .into_iter()
            .filter(|a| a["name"] == json!(name))
            .count();
        assert_eq!(accounts, 1, "one account named {name}");
        assert_eq!(
            h.coupled_id("CUSTOMER", couplet::systems::DATAVERSE, account),
            *customer
        );
    }
    assert_usmf_in_sync(&h);
    h.stop_engine().await;
}
