//! End-to-end: the full default catalogue (salespeople, customers, vendors, contacts,
//! currencies, option-set value maps, unit groups, units, products, price lists and prices,
//! opportunities, submitted sales orders) on a seeded sandbox: every mapping ends with its
//! records coupled and equal, and an option value with no mapping lands in the errors list
//! naming the field and value.

use std::time::Duration;

use crate::common::*;
use serde_json::json;

const CATALOGUE_IDLE: Duration = Duration::from_secs(240);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_catalogue_couples_every_mapping() {
    let mut h = Harness::start_full_catalogue(200, 21).await;
    let started = std::time::Instant::now();
    h.wait_idle(CATALOGUE_IDLE).await;
    eprintln!("full catalogue idle after {:?}", started.elapsed());

    let checks = h.check();
    assert_eq!(
        checks.len(),
        19,
        "every default mapping runs (SALESORDER, QUOTE, POSTEDSALESINV-INV and both price variants included)"
    );
    let mut problems = String::new();
    for c in &checks {
        eprintln!(
            "{}: {} CRM, {} ERP, {} coupled",
            c.mapping, c.crm_records, c.erp_records, c.coupled
        );
        problems += &describe_check(c);
        // Every record of a mapping's source side(s) is coupled.
        let m = h.catalogue().get(&c.mapping).unwrap().clone();
        if m.direction.allows_from(couplet::systems::BC) && c.coupled != c.erp_records {
            problems += &format!(
                "  {}: {} ERP records, {} coupled\n",
                c.mapping, c.erp_records, c.coupled
            );
        }
        if m.direction.allows_from(couplet::systems::DATAVERSE) && c.coupled != c.crm_records {
            problems += &format!(
                "  {}: {} CRM records, {} coupled\n",
                c.mapping, c.crm_records, c.coupled
            );
        }
        if c.coupled == 0 {
            problems += &format!("  {} coupled nothing\n", c.mapping);
        }
    }
    let errors = h.store().errors().unwrap();
    let parked = h.store().parked().unwrap();
    if !problems.is_empty() {
        let mut by = std::collections::BTreeMap::new();
        for o in h.outcomes().await {
            *by.entry((o.mapping.clone(), o.status.as_str()))
                .or_insert(0usize) += 1;
        }
        eprintln!("outcomes by mapping and status: {by:?}");
    }
    assert!(
        problems.is_empty() && errors.is_empty() && parked.is_empty(),
        "not in sync:\n{problems}{}",
        h.describe()
    );

    // Lookups through couplings of the new mappings landed: a customer's salesperson is the
    // account's owner, a product has its item's unit group and unit, a price its price list.
    let cust =
        h.sb.rows(couplet::systems::BC, "customers")
            .into_iter()
            .find(|r| text(r, "salespersonCode") == "MJ")
            .unwrap();
    let account = h.coupled_id("CUSTOMER", couplet::systems::BC, &text(&cust, "id"));
    let users = h.sb.rows(couplet::systems::DATAVERSE, "systemusers");
    let maria = users
        .iter()
        .find(|u| text(u, "fullname") == "Maria Jensen")
        .unwrap();
    assert_eq!(
        text(
            &h.row(couplet::systems::DATAVERSE, "accounts", &account),
            "_ownerid_value"
        ),
        text(maria, "systemuserid")
    );
    // The Dataverse user who was no salesperson became one in Business Central.
    assert!(
        h.sb.rows(couplet::systems::BC, "salespeoplePurchasers")
            .iter()
            .any(|s| text(s, "displayName") == "Chris Tremblay"
                && text(s, "code").starts_with("SP NO. "))
    );
    let item =
        h.sb.rows(couplet::systems::BC, "items")
            .into_iter()
            .find(|r| r["blocked"] == json!(false))
            .unwrap();
    let product = h.coupled_id("ITEM-PRODUCT", couplet::systems::BC, &text(&item, "id"));
    let product = h.row(couplet::systems::DATAVERSE, "products", &product);
    let schedule = h.coupled_id("UNIT GROUP", couplet::systems::BC, &text(&item, "id"));
    let uom = h.coupled_id("ITEM UOM", couplet::systems::BC, &text(&item, "id"));
    assert_eq!(text(&product, "_defaultuomscheduleid_value"), schedule);
    assert_eq!(text(&product, "_defaultuomid_value"), uom);
    let schedule = h.row(couplet::systems::DATAVERSE, "uomschedules", &schedule);
    assert_eq!(
        text(&schedule, "name"),
        format!("ITEM {} UOM GR", text(&item, "number"))
    );
    assert_eq!(
        text(&h.row(couplet::systems::DATAVERSE, "uoms", &uom), "name"),
        text(&item, "baseUnitOfMeasureCode")
    );

    // Extended pricing: a price list line's price is in its header's price level, with the
    // header's currency; a blank ending date (0001-01-01) is an empty end date; lines outside
    // the filter (quantity prices, discounts, purchase prices, resources) stay uncoupled.
    let headers = h.sb.rows(couplet::systems::BC, "priceListHeaders");
    let lines = h.sb.rows(couplet::systems::BC, "priceListLines");
    let carried = |l: &couplet::event::Fields| {
        text(l, "priceType") == "Sale"
            && text(l, "amountType") == "Price"
            && text(l, "assetType") == "Item"
            && l["minimumQuantity"] == json!(0.0)
    };
    let eur = headers
        .iter()
        .find(|r| text(r, "currencyCode") == "EUR" && text(r, "priceType") == "Sale")
        .unwrap();
    let level = h.coupled_id("PLHEADER-PRICE", couplet::systems::BC, &text(eur, "id"));
    let level = h.row(couplet::systems::DATAVERSE, "pricelevels", &level);
    let euro =
        h.sb.rows(couplet::systems::DATAVERSE, "transactioncurrencies")
            .into_iter()
            .find(|c| text(c, "isocurrencycode") == "EUR")
            .unwrap();
    assert_eq!(text(&level, "name"), text(eur, "code"));
    assert_eq!(
        text(&level, "_transactioncurrencyid_value"),
        text(&euro, "transactioncurrencyid")
    );
    assert_eq!(text(&level, "begindate"), text(eur, "startingDate"));
    let open = headers
        .iter()
        .find(|r| {
            text(r, "endingDate") == "0001-01-01"
                && text(r, "priceType") == "Sale"
                && text(r, "amountType") == "Price"
        })
        .unwrap();
    let open = h.coupled_id("PLHEADER-PRICE", couplet::systems::BC, &text(open, "id"));
    assert!(h.row(couplet::systems::DATAVERSE, "pricelevels", &open)["enddate"].is_null());
    let line = lines
        .iter()
        .find(|l| carried(l) && text(l, "priceListCode") == text(eur, "code"))
        .unwrap();
    let price = h.coupled_id("PLLINE-PRODPRICE", couplet::systems::BC, &text(line, "id"));
    let price = h.row(couplet::systems::DATAVERSE, "productpricelevels", &price);
    assert_eq!(
        text(&price, "_pricelevelid_value"),
        text(&level, "pricelevelid")
    );
    assert_eq!(text(&price, "productnumber"), text(line, "assetNo"));
    for l in lines.iter().filter(|l| !carried(l)) {
        assert!(
            h.coupling("PLLINE-PRODPRICE", couplet::systems::BC, &text(l, "id"))
                .is_none(),
            "{l:?} is outside PLLINE-PRODPRICE's filter"
        );
    }
    assert!(lines.iter().any(|l| text(l, "assetType") == "Resource"));
    h.stop_engine().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmapped_option_value_lands_in_the_errors_list() {
    let mut h = Harness::start_full_catalogue(60, 22).await;
    h.wait_idle(CATALOGUE_IDLE).await;
    let cust =
        h.sb.rows(couplet::systems::BC, "customers")
            .into_iter()
            .find(|r| {
                h.coupling("CUSTOMER", couplet::systems::BC, &text(r, "id"))
                    .is_some()
            })
            .unwrap();
    let id = text(&cust, "id");
    h.sb.update_row(
        couplet::systems::BC,
        "customers",
        &id,
        patch("shippingAgentCode", json!("PIGEON")),
    )
    .unwrap();
    let store = h.store().clone();
    wait_until(Duration::from_secs(60), "the error is listed", || {
        let store = store.clone();
        async move { !store.errors().unwrap().is_empty() }
    })
    .await;
    let errors = h.store().errors().unwrap();
    assert_eq!(errors.len(), 1, "{}", h.describe());
    let e = &errors[0];
    assert!(e.record.contains(&id), "{}", e.record);
    assert_eq!(e.field.as_deref(), Some("shippingAgentCode"));
    assert!(e.reason.contains("'PIGEON'"), "{}", e.reason);
    assert_eq!(e.class, "unmapped_value");
    h.stop_engine().await;
}
