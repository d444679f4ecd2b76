//! Generating the customer companies with their people, and the vendors.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::generate::{draw_key, past, pick};
use super::names::*;
use super::{Company, CrmRecord, ErpContact, ErpCustomer, ErpVendor, Person, Presence, Vendor};

/// A phone number in `country`'s format, with `area` its area code where it has them.
fn phone(rng: &mut ChaCha8Rng, country: &str, area: &str) -> String {
    match country {
        "GB" => format!(
            "+44 {area} {:04} {:04}",
            rng.random_range(1000..9999_i32),
            rng.random_range(0..9999_i32)
        ),
        "DK" => format!(
            "+45 {} {:02} {:02} {:02}",
            rng.random_range(20..99_i32),
            rng.random_range(0..99_i32),
            rng.random_range(0..99_i32),
            rng.random_range(0..99_i32)
        ),
        _ => format!("+1 {area}-555-{:04}", rng.random_range(100..9999_i32)),
    }
}

/// The running numbers and the names and domains already taken.
#[derive(Default)]
struct Taken {
    names: HashSet<String>,
    domains: HashSet<String>,
    customer_no: u32,
    contact_no: u32,
}

/// `records` customer companies: about 30 % on both sides, 35 % in the CRM only and 35 % in
/// the ERP only, with one person (two for every third company), a third of those on both
/// sides with a different phone number in the ERP. `users` is the number of users (owners).
pub(super) fn customers(
    rng: &mut ChaCha8Rng,
    records: usize,
    users: usize,
    now: DateTime<Utc>,
) -> Vec<Company> {
    let mut taken = Taken::default();
    (0..records)
        .map(|i| company(rng, i, users, now, &mut taken))
        .collect()
}

/// A unique company name of `legal` forms (the `i`th company's after 20 collisions).
fn company_name(rng: &mut ChaCha8Rng, i: usize, legal: &[&str], taken: &mut Taken) -> String {
    let mut attempt = 0;
    loop {
        let (a, b, l) = (
            pick(rng, COMPANY_FIRST),
            pick(rng, COMPANY_SECOND),
            pick(rng, legal),
        );
        let name = if attempt > 20 {
            format!("{a} {b} {} {l}", i + 1)
        } else {
            format!("{a} {b} {l}")
        };
        if taken.names.insert(name.clone()) {
            return name;
        }
        attempt += 1;
    }
}

/// A unique web domain from the first two words of `name`.
fn domain(name: &str, tld: &str, taken: &mut Taken) -> String {
    let slug: String = name
        .split_whitespace()
        .take(2)
        .collect::<String>()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut domain = format!("{slug}.{tld}");
    let mut n = 2;
    while !taken.domains.insert(domain.clone()) {
        domain = format!("{slug}{n}.{tld}");
        n += 1;
    }
    domain
}

fn company(
    rng: &mut ChaCha8Rng,
    i: usize,
    users: usize,
    now: DateTime<Utc>,
    taken: &mut Taken,
) -> Company {
    let (country, cities, tld, legal): (&str, &[City], &str, &[&str]) =
        match rng.random_range(0..100_i32) {
            0..80 => ("US", US_CITIES, "com", &["Inc.", "LLC", "Corp.", "Co."]),
            80..87 => ("GB", GB_CITIES, "co.uk", &["Ltd", "PLC", "Ltd."]),
            87..94 => ("DK", DK_CITIES, "dk", &["ApS", "A/S"]),
            _ => ("CA", CA_CITIES, "ca", &["Inc.", "Ltd.", "Corp."]),
        };
    let currency = match country {
        "GB" => "GBP",
        "DK" => "DKK",
        "CA" => "CAD",
        _ if rng.random_bool(0.02) => "EUR",
        _ => "USD",
    };
    let name = company_name(rng, i, legal, taken);
    let domain = domain(&name, tld, taken);
    let (city, state, postal, area) = *pick(rng, cities);
    let postal = if country == "US" {
        format!(
            "{:05}",
            postal.parse::<u32>().unwrap_or(10001) + rng.random_range(0..40_u32)
        )
    } else {
        postal.to_string()
    };
    let street = format!(
        "{} {} {}",
        rng.random_range(1..2400_i32),
        pick(rng, STREETS),
        pick(rng, STREET_TYPES)
    );
    let street2 = if rng.random_bool(0.25) {
        format!("Suite {}", rng.random_range(100..900_i32))
    } else {
        String::new()
    };
    let company_phone = phone(rng, country, area);
    let credit_limit = (rng.random_range(1..100_i32) * 1000) as f64;
    let presence = match rng.random_range(0..100_i32) {
        0..30 => Presence::Both,
        30..65 => Presence::CrmOnly,
        _ => Presence::ErpOnly,
    };
    let (on_crm, on_erp) = (presence.on_crm(), presence.on_erp());
    let number = on_erp.then(|| {
        taken.customer_no += 1;
        format!("C{:05}", taken.customer_no)
    });
    let mut people: Vec<Person> = (0..if i.is_multiple_of(3) { 2 } else { 1 })
        .map(|k| {
            let first_name = pick(rng, FIRST_NAMES).to_string();
            let last_name = pick(rng, LAST_NAMES).to_string();
            let local: String = format!("{first_name}.{last_name}")
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let email = if k == 0 {
                format!("{local}@{domain}")
            } else {
                format!("{local}{k}@{domain}")
            };
            Person {
                first_name,
                last_name,
                email,
                job_title: pick(rng, JOB_TITLES).to_string(),
                mobile: phone(rng, country, area),
                crm_key: None,
                erp: None,
            }
        })
        .collect();
    let payment_terms = pick(rng, PAYMENT_TERMS).to_string();
    let shipment_method = pick(rng, SHIPMENT_METHODS).to_string();
    let shipping_agent = pick(rng, SHIPPING_AGENTS).to_string();
    let salesperson = rng
        .random_bool(0.9)
        .then(|| pick(rng, SALESPEOPLE).to_string());
    let modified = past(rng, now);
    let crm = on_crm.then(|| {
        let owner = rng.random_range(0..users);
        let key = draw_key(rng);
        for p in &mut people {
            p.crm_key = Some(draw_key(rng));
        }
        CrmRecord {
            key,
            owner,
            modified,
        }
    });
    let erp = on_erp.then(|| {
        let modified = past(rng, now);
        let phone = if on_crm && rng.random_range(0..3_i32) == 0 {
            phone(rng, country, area)
        } else {
            company_phone.clone()
        };
        let key = draw_key(rng);
        let balance_due = (rng.random_range(0..500_000_i32) as f64) / 100.0;
        for p in &mut people {
            taken.contact_no += 1;
            p.erp = Some(ErpContact {
                number: format!("CT{:06}", taken.contact_no),
                key: draw_key(rng),
            });
        }
        ErpCustomer {
            key,
            modified,
            phone,
            balance_due,
        }
    });
    Company {
        number,
        name,
        street,
        street2,
        city: city.into(),
        state: state.into(),
        postal_code: postal,
        country: country.into(),
        phone: company_phone,
        email: format!("info@{domain}"),
        website: format!("https://www.{domain}"),
        currency: currency.into(),
        credit_limit,
        tax_liable: country == "US",
        payment_terms,
        shipment_method,
        shipping_agent,
        salesperson,
        people,
        crm,
        erp,
    }
}

/// A fifth of `records` vendors, all in the US: 40 % on both sides, 30 % each only on one.
pub(super) fn vendors(
    rng: &mut ChaCha8Rng,
    records: usize,
    users: usize,
    now: DateTime<Utc>,
) -> Vec<Vendor> {
    (0..records.div_ceil(5))
        .map(|i| {
            let name = format!(
                "{} {} Supplies {}",
                pick(rng, COMPANY_FIRST),
                pick(rng, COMPANY_SECOND),
                i + 1
            );
            let (city, state, postal, area) = *pick(rng, US_CITIES);
            let street = format!(
                "{} {} {}",
                rng.random_range(1..2400_i32),
                pick(rng, STREETS),
                pick(rng, STREET_TYPES)
            );
            let phone = format!("+1 {area}-555-{:04}", rng.random_range(100..9999_i32));
            let domain = format!("supplier{}.com", i + 1);
            let payment_terms = pick(rng, PAYMENT_TERMS).to_string();
            let presence = match rng.random_range(0..100_i32) {
                0..40 => Presence::Both,
                40..70 => Presence::CrmOnly,
                _ => Presence::ErpOnly,
            };
            let modified = past(rng, now);
            let crm = presence.on_crm().then(|| {
                let key = draw_key(rng);
                CrmRecord {
                    key,
                    owner: rng.random_range(0..users),
                    modified,
                }
            });
            let erp = presence.on_erp().then(|| ErpVendor {
                key: draw_key(rng),
                balance: (rng.random_range(0..100_000_i32) as f64) / 100.0,
                modified: past(rng, now),
            });
            Vendor {
                number: format!("V{:05}", i + 1),
                name,
                street,
                city: city.into(),
                state: state.into(),
                postal_code: postal.into(),
                country: "US".into(),
                phone,
                email: format!("sales@{domain}"),
                website: format!("https://www.{domain}"),
                currency: "USD".into(),
                tax_liable: true,
                payment_terms,
                crm,
                erp,
            }
        })
        .collect()
}
