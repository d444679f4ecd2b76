//! The connectors Couplet knows, registered by name in this one place (one line each), and
//! the parsing of system names against them.

use std::str::FromStr;

use serde::{Deserialize, Deserializer};

use super::connector::DynConnector;
use super::{bc, dataverse, fo};
use crate::event::System;

pub use super::connect::{ConnectContext, SectionError, check_url};

/// A registered system: its identity, the other names it answers to, and how its connector
/// is checked and built from its configuration section (`[<name>]`).
#[derive(Clone, Copy)]
pub struct Registered {
    /// The system.
    pub system: System,
    /// Other accepted spellings (command lines, older configs).
    pub aliases: &'static [&'static str],
    /// Checks the system's section without connecting.
    pub check: fn(&toml::Value) -> Result<(), SectionError>,
    /// Builds the connector from the system's section.
    pub connect: fn(&toml::Value, &ConnectContext) -> Result<DynConnector, SectionError>,
    /// An ERP's default table mappings with the CRM (TOML; empty for the CRM).
    pub mappings: &'static str,
    /// The mappings an engine runs when `[sync] mappings` is not set (an ERP's).
    pub default_selection: &'static [&'static str],
}

/// Every connector, one line each.
#[rustfmt::skip]
pub const REGISTERED: &[Registered] = &[
    Registered { system: dataverse::SYSTEM, aliases: &["dv", "crm"], check: |s| dataverse::check(s).map(drop), connect: dataverse::connect, mappings: "", default_selection: &[] },
    Registered { system: bc::SYSTEM, aliases: &["businesscentral", "business_central", "erp"], check: |s| bc::check(s).map(drop), connect: bc::connect, mappings: bc::system::MAPPINGS, default_selection: bc::system::DEFAULT_SELECTION },
    Registered { system: fo::SYSTEM, aliases: &["finops", "finance_operations", "d365fo"], check: |s| fo::check(s).map(drop), connect: fo::connect, mappings: fo::system::MAPPINGS, default_selection: fo::system::DEFAULT_SELECTION },
];

/// The registration of `system`.
pub fn registered(system: System) -> Option<&'static Registered> {
    REGISTERED.iter().find(|r| r.system == system)
}

pub use super::pair::default_pair;

/// The registered system named `name` (or one of its aliases).
pub fn find(name: &str) -> Option<System> {
    REGISTERED
        .iter()
        .find(|r| r.system.as_str() == name || r.aliases.contains(&name))
        .map(|r| r.system)
}

/// The names of every registered system, for messages.
pub fn names() -> String {
    REGISTERED
        .iter()
        .map(|r| format!("'{}'", r.system))
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for System {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        find(s).ok_or_else(|| format!("unknown system '{s}': use one of {}", names()))
    }
}

impl<'de> Deserialize<'de> for System {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Side;

    #[test]
    fn names_and_aliases_parse_to_registered_systems() {
        assert_eq!("bc".parse::<System>().unwrap(), super::super::bc::SYSTEM);
        assert_eq!(
            "dv".parse::<System>().unwrap(),
            super::super::dataverse::SYSTEM
        );
        assert_eq!("bc".parse::<System>().unwrap().side(), Side::Erp);
        let e = "sap".parse::<System>().unwrap_err();
        assert!(e.contains("'dataverse'") && e.contains("'bc'"), "{e}");
        let names: Vec<&str> = REGISTERED.iter().map(|r| r.system.as_str()).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "two connectors share a name");
    }

    #[test]
    fn the_crm_orders_first_as_before() {
        assert!(super::super::dataverse::SYSTEM < super::super::bc::SYSTEM);
    }
}
