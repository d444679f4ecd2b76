//! Generating the [`World`] from the seed. Every random value is drawn here, in a fixed order
//! from a few ChaCha8 streams of the seed (the main one, then one each for orders, quotes,
//! invoices and opening stock), so the same seed and seeding time always make the same world,
//! and the renderers draw nothing.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::names::{CURRENCIES, HUMAN_USERS, PAYMENT_TERMS, SALESPEOPLE, SHIPMENT_METHODS};
use super::{Code, Currency, IntegrationUser, Key, Salesperson, User, World};
use crate::sandbox::config::SandboxConfig;

/// Salt of the orders' stream.
const ORDERS_STREAM: u64 = 0x5a1e_5012;
/// Salt of the quotes' stream.
const QUOTES_STREAM: u64 = 0x9_0073;
/// Salt of the posted invoices' stream.
const INVOICES_STREAM: u64 = 0x1f0_1ce5;
/// Salt of the opening stock's stream.
const STOCK_STREAM: u64 = 0x1ed6_e201;

/// Draws a [`Key`].
pub(crate) fn draw_key(rng: &mut ChaCha8Rng) -> Key {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    Key(uuid::Builder::from_random_bytes(b).into_uuid().into_bytes())
}

/// Picks one of `items`, which must not be empty.
pub(super) fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A time between an hour and 40 days before `now`.
pub(super) fn past(rng: &mut ChaCha8Rng, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::seconds(rng.random_range(3_600_i64..40 * 86_400))
}

/// The world of `cfg.seed` with `cfg.records` customer companies (and everything else in
/// proportion), as of `now`; `app_id` is the client id the integration user signs in with.
pub(crate) fn generate(cfg: &SandboxConfig, app_id: &str, now: DateTime<Utc>) -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let rng = &mut rng;
    let users = users(rng, now);
    let integration_user = IntegrationUser {
        name: "# Couplet Sync".into(),
        email: "couplet-sync@contoso-sandbox.com".into(),
        app_id: app_id.into(),
        crm_key: draw_key(rng),
        modified: past(rng, now),
    };
    let local_currency = "USD";
    let currencies = CURRENCIES
        .iter()
        .map(|(code, name, symbol, rate)| {
            let crm_key = draw_key(rng);
            let modified = past(rng, now);
            let erp_key = (*code != local_currency).then(|| draw_key(rng));
            Currency {
                code: code.to_string(),
                name: name.to_string(),
                symbol: symbol.to_string(),
                rate: *rate,
                modified,
                crm_key,
                erp_key,
            }
        })
        .collect();
    let codes = |rng: &mut ChaCha8Rng, codes: &[&str]| -> Vec<Code> {
        codes
            .iter()
            .map(|c| Code {
                code: c.to_string(),
                erp_key: draw_key(rng),
            })
            .collect()
    };
    let payment_terms = codes(rng, PAYMENT_TERMS);
    let shipment_methods = codes(rng, SHIPMENT_METHODS);
    let customers = super::gen_parties::customers(rng, cfg.records, users.len(), now);
    let vendors = super::gen_parties::vendors(rng, cfg.records, users.len(), now);
    let cat = super::gen_catalogue::catalogue(rng, cfg.records, &customers, now);
    let (price_lists, price_list_lines) =
        super::gen_pricelists::price_lists(rng, cfg.records, &cat.items, &cat.resources, now);
    let erp_company = draw_key(rng);
    let docs = super::gen_documents::Inputs {
        records: cfg.records,
        users: users.len(),
        customers: &customers,
        items: &cat.items,
        now,
    };
    let stream = |salt: u64| ChaCha8Rng::seed_from_u64(cfg.seed ^ salt);
    let orders = super::gen_documents::orders(&mut stream(ORDERS_STREAM), &docs, local_currency);
    let quotes = super::gen_documents::quotes(&mut stream(QUOTES_STREAM), &docs, local_currency);
    let invoices = super::gen_documents::invoices(&mut stream(INVOICES_STREAM), &docs);
    let opening_stock = super::gen_documents::opening_stock(&mut stream(STOCK_STREAM), &cat.items);
    World {
        now,
        users,
        integration_user,
        currencies,
        local_currency: local_currency.into(),
        payment_terms,
        shipment_methods,
        customers,
        vendors,
        items: cat.items,
        resources: cat.resources,
        price_groups: cat.price_groups,
        group_prices: cat.group_prices,
        crm_price_list: cat.crm_price_list,
        opportunities: cat.opportunities,
        price_lists,
        price_list_lines,
        erp_company,
        orders,
        quotes,
        invoices,
        opening_stock,
    }
}

/// The human users; the first ones are salespeople in the ERP already (same e-mail), the
/// last one is not.
fn users(rng: &mut ChaCha8Rng, now: DateTime<Utc>) -> Vec<User> {
    HUMAN_USERS
        .iter()
        .enumerate()
        .map(|(k, (name, login))| {
            let crm_key = draw_key(rng);
            let modified = past(rng, now);
            let salesperson = SALESPEOPLE.get(k).map(|code| Salesperson {
                code: code.to_string(),
                job_title: "Account Manager".into(),
                commission_percent: 2.5,
                erp_key: draw_key(rng),
            });
            User {
                name: name.to_string(),
                email: format!("{login}@contoso-sandbox.com"),
                mobile: format!("+1 425-555-{:04}", 100 + k),
                modified,
                crm_key,
                salesperson,
            }
        })
        .collect()
}
