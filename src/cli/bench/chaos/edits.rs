//! Live edits on both sides while the faults and kills go on, as people make them: new
//! companies with a person each (the person depends on the company, so it waits, parked, until
//! the company is coupled, and is re-driven then), and updates of existing ones. Values carry
//! bad input: quotes (' and ") in the natural keys the engine filters on, non-ASCII letters,
//! and names as long as the narrower side allows.
//!
//! A pair is only ever edited on one side (an edit on both sides of one pair between two
//! synchronisations is an update conflict, which the default policy lists as an error): seeded
//! records by the parity of their natural key, created ones on the side that made them.

use std::collections::HashSet;

use anyhow::Context;
use serde_json::{Value, json};

use super::schedule::Schedule;
use crate::event::Fields;
use crate::sandbox::Sandbox;
use crate::systems::{BC, DATAVERSE};

/// The longest name both sides take (Business Central's `displayName` is Text[100]).
const NAME_MAX: usize = 100;

/// What the edits did so far.
#[derive(Debug, Default, Clone, Copy)]
pub struct EditCounts {
    /// Companies created (each with a person).
    pub companies: usize,
    /// Persons created.
    pub persons: usize,
    /// Updates made.
    pub updates: usize,
}

/// Makes the edits of one run.
#[derive(Debug)]
pub struct Editor {
    seed: u64,
    rounds: usize,
    /// Business Central customer numbers of the seed.
    seed_numbers: HashSet<String>,
    /// Business Central customers this editor created (by number).
    bc_created: HashSet<String>,
    counts: EditCounts,
}

fn text(r: &Fields, f: &str) -> String {
    r.get(f)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn even(key: &str) -> bool {
    key.to_lowercase().bytes().map(u32::from).sum::<u32>() % 2 == 0
}

fn fields(v: Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

/// A name of exactly `NAME_MAX` characters, with quotes and letters outside ASCII.
fn long_name(tag: &str) -> String {
    let mut s = format!("Ærøskøbing \"Chaos\" O'Neill & Söhne — {tag} ");
    while s.chars().count() < NAME_MAX {
        s.push_str("ÅÉÎõü ");
    }
    s.chars()
        .take(NAME_MAX)
        .collect::<String>()
        .trim_end()
        .to_string()
}

impl Editor {
    /// An editor for the sandbox as seeded.
    pub fn new(seed: u64, sb: &Sandbox) -> Editor {
        Editor {
            seed,
            rounds: 0,
            seed_numbers: sb
                .rows(BC, "customers")
                .iter()
                .map(|r| text(r, "number"))
                .collect(),
            bc_created: HashSet::new(),
            counts: EditCounts::default(),
        }
    }

    /// What was done so far.
    pub fn counts(&self) -> EditCounts {
        self.counts
    }

    /// One round: a new company with a person on each side, and `updates` updates.
    pub fn round(
        &mut self,
        sb: &Sandbox,
        schedule: &mut Schedule,
        updates: usize,
    ) -> anyhow::Result<()> {
        self.rounds += 1;
        self.create_on_dataverse(sb)?;
        self.create_on_bc(sb)?;
        for i in 0..updates {
            self.update(sb, schedule, i)?;
        }
        Ok(())
    }

    fn create_on_dataverse(&mut self, sb: &Sandbox) -> anyhow::Result<()> {
        let r = self.rounds;
        let account = sb
            .insert_row(
                DATAVERSE,
                "accounts",
                fields(json!({
                    "name": long_name(&format!("D{r}")),
                    "telephone1": format!("+41 44 555 {r:04}"),
                    "address1_city": "Zürich",
                    "address1_country": "CH",
                    "customertypecode": 3,
                })),
            )
            .context("creating a Dataverse account")?;
        sb.insert_row(
            DATAVERSE,
            "contacts",
            fields(json!({
                "firstname": "Zoë",
                "lastname": format!("O'Brien \"{r}\""),
                "emailaddress1": format!("zoe.o'brien.{}.{r}@chaos.example", self.seed),
                "parentcustomerid_account@odata.bind": format!("/accounts({account})"),
            })),
        )
        .context("creating a Dataverse contact")?;
        self.counts.companies += 1;
        self.counts.persons += 1;
        Ok(())
    }

    fn create_on_bc(&mut self, sb: &Sandbox) -> anyhow::Result<()> {
        let r = self.rounds;
        // A number with both quotes: the engine looks accounts up by it.
        let number = format!("Q'{}\"{r}", self.seed % 1000);
        let id = sb
            .insert_row(
                BC,
                "customers",
                fields(json!({
                    "number": number,
                    "displayName": long_name(&format!("B{r}")),
                    "phoneNumber": format!("+45 70 55 {r:04}"),
                    "city": "Århus",
                    "country": "DK",
                })),
            )
            .context("creating a Business Central customer")?;
        let number = sb
            .row(BC, "customers", &id)
            .map(|row| text(&row, "number"))
            .unwrap_or(number);
        sb.insert_row(
            BC,
            "contacts",
            fields(json!({
                "displayName": format!("Åsa N'Diaye \"{r}\""),
                "type": "Person",
                "email": format!("asa.n'diaye.{}.{r}@chaos.example", self.seed),
                "companyNumber": number,
            })),
        )
        .context("creating a Business Central contact")?;
        self.bc_created.insert(number);
        self.counts.companies += 1;
        self.counts.persons += 1;
        Ok(())
    }

    /// One update of a company or a person, on the side its pair is edited on.
    fn update(&mut self, sb: &Sandbox, schedule: &mut Schedule, i: usize) -> anyhow::Result<()> {
        let tag = format!("{}.{i}", self.rounds);
        let (system, set, id_col, patch) = match schedule.pick(4) {
            0 => {
                // Accounts whose pair is settled (the customer with its number has its name):
                // an account edited before the initial synchronisation has brought it the
                // customer's values (Business Central's win on a match) or before its own
                // round trip has finished (the number written back) is a change on both
                // sides, an update conflict by the mapping's rules, not a fault's doing.
                let customers: std::collections::HashMap<String, String> = sb
                    .rows(BC, "customers")
                    .iter()
                    .map(|r| (text(r, "number"), text(r, "displayName")))
                    .collect();
                let rows: Vec<Fields> = super::world::customer_accounts(sb)
                    .into_iter()
                    .filter(|r| {
                        let n = text(r, "accountnumber");
                        let ours = if self.seed_numbers.contains(&n) {
                            even(&n)
                        } else {
                            !self.bc_created.contains(&n)
                        };
                        ours && !n.is_empty() && customers.get(&n) == Some(&text(r, "name"))
                    })
                    .collect();
                let patch = json!({"telephone1": format!("+1 555 {tag}"), "name": long_name(&tag)});
                (DATAVERSE, "accounts", "accountid", (rows, patch))
            }
            1 => {
                let rows: Vec<Fields> = sb
                    .rows(BC, "customers")
                    .into_iter()
                    .filter(|r| {
                        let n = text(r, "number");
                        self.bc_created.contains(&n)
                            || (self.seed_numbers.contains(&n) && !even(&n))
                    })
                    .collect();
                let patch =
                    json!({"phoneNumber": format!("+45 {tag}"), "displayName": long_name(&tag)});
                (BC, "customers", "id", (rows, patch))
            }
            2 => {
                let rows: Vec<Fields> = sb
                    .rows(DATAVERSE, "contacts")
                    .into_iter()
                    .filter(|r| even(&text(r, "emailaddress1")))
                    .collect();
                let patch = json!({"jobtitle": format!("Käufer \"{tag}\" l'Été")});
                (DATAVERSE, "contacts", "contactid", (rows, patch))
            }
            _ => {
                let rows: Vec<Fields> = sb
                    .rows(BC, "contacts")
                    .into_iter()
                    .filter(|r| !even(&text(r, "email")))
                    .collect();
                let patch = json!({"jobTitle": format!("Indkøber \"{tag}\" d'Øst")});
                (BC, "contacts", "id", (rows, patch))
            }
        };
        let (rows, patch) = patch;
        if rows.is_empty() {
            return Ok(());
        }
        let id = text(&rows[schedule.pick(rows.len())], id_col);
        sb.update_row(system, set, &id, fields(patch))
            .with_context(|| format!("updating {system}/{set}/{id}"))?;
        self.counts.updates += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_fill_the_narrower_side_exactly_and_carry_quotes() {
        let n = long_name("D1");
        assert!(n.chars().count() <= NAME_MAX && n.chars().count() >= NAME_MAX - 1);
        assert!(n.contains('\'') && n.contains('"') && !n.is_ascii());
    }
}
