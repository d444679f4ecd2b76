//! The sandbox's metadata endpoints, read through Couplet's clients: Dataverse
//! `EntityDefinitions` and Business Central `$metadata`, both generated from the sandbox's
//! entity definitions.

use couplet::cli::build;
use couplet::sandbox::{Sandbox, SandboxConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sandbox_entity_is_described_with_its_fields() {
    let sb = Sandbox::start(SandboxConfig {
        records: 2,
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = build::sandbox_config(&sb, dir.path()).unwrap();
    let targets = build::targets(&cfg).unwrap();
    let dv = targets
        .crm
        .client::<couplet::systems::DataverseClient>()
        .unwrap();
    let bc = targets.erp.client::<couplet::systems::BcClient>().unwrap();

    for (set, logical, key) in [
        ("accounts", "account", "accountid"),
        ("contacts", "contact", "contactid"),
        (
            "transactioncurrencies",
            "transactioncurrency",
            "transactioncurrencyid",
        ),
        ("systemusers", "systemuser", "systemuserid"),
    ] {
        let s = dv.entity_schema(set).await.unwrap().expect(set);
        assert_eq!(s.type_name, logical);
        assert!(s.field(key).is_some(), "{set}: {}", s.names());
        // Every column the sandbox returns on a GET is an attribute (lookups by their
        // attribute name, not `_x_value`).
        for row in sb.rows(couplet::systems::DATAVERSE, set).iter().take(1) {
            for col in row
                .keys()
                .filter(|k| !k.starts_with('@') && !k.contains('@'))
            {
                let name = col
                    .strip_prefix('_')
                    .and_then(|c| c.strip_suffix("_value"))
                    .unwrap_or(col);
                assert!(
                    s.field(name).is_some(),
                    "{set}.{name} missing: {}",
                    s.names()
                );
            }
        }
    }
    let contact = dv.entity_schema("contacts").await.unwrap().unwrap();
    assert!(contact.is_lookup("parentcustomerid"));
    assert_eq!(contact.field("parentcustomerid").unwrap().kind, "Customer");
    assert!(!contact.field("fullname").unwrap().writable);
    assert!(contact.field("firstname").unwrap().writable);
    assert!(dv.entity_schema("nosuchthings").await.unwrap().is_none());

    let csdl = bc.metadata().await.unwrap();
    for set in ["customers", "contacts", "currencies"] {
        let s = csdl.entity_set(couplet::systems::BC, set).expect(set);
        assert!(s.field("id").is_some() && s.field("lastModifiedDateTime").is_some());
        assert!(!s.field("lastModifiedDateTime").unwrap().writable, "{set}");
    }
    let customer = csdl.entity_set(couplet::systems::BC, "customers").unwrap();
    assert_eq!(customer.type_name, "customer");
    assert_eq!(customer.field("displayName").unwrap().kind, "Edm.String");
    assert_eq!(
        customer.field("blocked").unwrap().kind,
        "Microsoft.NAV.customerBlocked"
    );
    assert!(!customer.field("balanceDue").unwrap().writable);
    assert!(
        csdl.entity_set(couplet::systems::BC, "nosuchthings")
            .is_none()
    );
}
