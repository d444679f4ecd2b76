//! Generating the catalogue: items, resources, customer price groups with their prices, the
//! CRM's own price list, and the ERP's opportunities.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::generate::{draw_key, past, pick};
use super::names::*;
use super::{
    Company, CrmPriceList, GroupPrice, Item, Opportunity, OpportunityStatus, PriceGroup, Resource,
};

/// What [`catalogue`] makes.
pub(super) struct Catalogue {
    pub items: Vec<Item>,
    pub resources: Vec<Resource>,
    pub price_groups: Vec<PriceGroup>,
    pub group_prices: Vec<GroupPrice>,
    pub crm_price_list: CrmPriceList,
    pub opportunities: Vec<Opportunity>,
}

/// Items (a quarter of `records`, one in twenty blocked), resources (a tenth), the customer
/// price groups with a price for every third unblocked item, the CRM's price list, and
/// opportunities for a fifth of the ERP contacts of `customers`.
pub(super) fn catalogue(
    rng: &mut ChaCha8Rng,
    records: usize,
    customers: &[Company],
    now: DateTime<Utc>,
) -> Catalogue {
    let items = items(rng, records, now);
    let resources = resources(rng, records, now);
    let price_groups = PRICE_GROUPS
        .iter()
        .map(|(code, name)| PriceGroup {
            code: code.to_string(),
            name: name.to_string(),
            erp_key: draw_key(rng),
            modified: past(rng, now),
        })
        .collect();
    let group_prices = items
        .iter()
        .filter(|i| !i.blocked)
        .enumerate()
        .filter(|(k, _)| k % 3 == 0)
        .map(|(k, item)| {
            let (group, _) = PRICE_GROUPS[k % PRICE_GROUPS.len()];
            GroupPrice {
                item: item.number.clone(),
                group: group.into(),
                unit: item.unit.clone(),
                price: (item.price * 0.9 * 100.0).round() / 100.0,
                erp_key: draw_key(rng),
                modified: past(rng, now),
            }
        })
        .collect();
    let crm_price_list = CrmPriceList {
        name: "Default Price List".into(),
        currency: "USD".into(),
        owner: 0,
        crm_key: draw_key(rng),
        modified: past(rng, now),
    };
    let opportunities = opportunities(rng, customers, now);
    Catalogue {
        items,
        resources,
        price_groups,
        group_prices,
        crm_price_list,
        opportunities,
    }
}

fn items(rng: &mut ChaCha8Rng, records: usize, now: DateTime<Utc>) -> Vec<Item> {
    (0..records.div_ceil(4))
        .map(|i| {
            let erp_key = draw_key(rng);
            let unit = pick(rng, ITEM_UNITS).to_string();
            let cost = (rng.random_range(100..50_000_i32) as f64) / 100.0;
            let price = ((cost * 1.4) * 100.0).round() / 100.0;
            let blocked = rng.random_range(0..20_i32) == 0;
            let name = format!(
                "{} {} {}",
                pick(rng, PRODUCT_FIRST),
                pick(rng, PRODUCT_SECOND),
                i + 1
            );
            Item {
                number: format!("I{:05}", i + 1),
                name,
                unit,
                cost,
                price,
                blocked,
                stock: rng.random_range(0..500_i32) as f64,
                unit_key: draw_key(rng),
                modified: past(rng, now),
                erp_key,
            }
        })
        .collect()
}

fn resources(rng: &mut ChaCha8Rng, records: usize, now: DateTime<Utc>) -> Vec<Resource> {
    (0..records.div_ceil(10))
        .map(|i| {
            let erp_key = draw_key(rng);
            let cost = rng.random_range(40..120_i32) as f64;
            Resource {
                number: format!("R{:05}", i + 1),
                name: format!("{} {}", pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)),
                unit: "HOUR".into(),
                cost,
                price: cost * 1.5,
                capacity: 160.0,
                modified: past(rng, now),
                erp_key,
            }
        })
        .collect()
}

/// Opportunities for every fifth ERP contact, in contact number order.
fn opportunities(
    rng: &mut ChaCha8Rng,
    customers: &[Company],
    now: DateTime<Utc>,
) -> Vec<Opportunity> {
    let mut contacts: Vec<&str> = customers
        .iter()
        .flat_map(|c| &c.people)
        .filter_map(|p| p.erp.as_ref().map(|e| e.number.as_str()))
        .collect();
    contacts.sort_unstable();
    contacts
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 5 == 0)
        .map(|(k, contact)| {
            let erp_key = draw_key(rng);
            let closing_date = (now + Duration::days(rng.random_range(10..180_i64))).date_naive();
            let description = format!(
                "{} {} for {contact}",
                pick(rng, PRODUCT_FIRST),
                pick(rng, PRODUCT_SECOND)
            );
            Opportunity {
                number: format!("OP{:06}", k / 5 + 1),
                description,
                contact: contact.to_string(),
                salesperson: pick(rng, SALESPEOPLE).to_string(),
                status: if rng.random_bool(0.5) {
                    OpportunityStatus::InProgress
                } else {
                    OpportunityStatus::NotStarted
                },
                estimated_value: (rng.random_range(10..500_i32) * 100) as f64,
                closing_date,
                modified: past(rng, now),
                erp_key,
            }
        })
        .collect()
}
