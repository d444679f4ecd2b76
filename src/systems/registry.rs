//! The connectors Couplet knows, registered by name in this one place (one line each), and
//! the parsing of system names against them.

use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};

use super::auth::TokenCache;
use super::connector::DynConnector;
use super::http::HttpConfig;
use super::{bc, dataverse};
use crate::event::{Pair, System};

/// What every connector may use when it is built: Entra ID tokens (`[auth]`) and the HTTP
/// settings (`[http]`).
pub struct ConnectContext {
    /// Entra ID client-credential tokens, cached per scope.
    pub tokens: Arc<TokenCache>,
    /// Timeouts and retries.
    pub http: HttpConfig,
}

/// A system's configuration section that cannot be used: the setting and what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionError {
    /// The setting, e.g. `bc.page_size`, or the section.
    pub setting: String,
    /// What is wrong and what to do.
    pub reason: String,
}

impl SectionError {
    /// An error about `setting`.
    pub fn new(setting: &str, reason: impl Into<String>) -> Self {
        SectionError {
            setting: setting.to_string(),
            reason: reason.into(),
        }
    }
}

/// Checks that `url`, the value of `setting`, is absolute and ends in `/`.
pub fn check_url(setting: &str, url: &str) -> Result<(), SectionError> {
    if url::Url::parse(url).is_err() || !url.ends_with('/') {
        return Err(SectionError::new(
            setting,
            format!("'{url}' is not an absolute URL ending in '/'"),
        ));
    }
    Ok(())
}

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
}

/// Every connector, one line each.
#[rustfmt::skip]
pub const REGISTERED: &[Registered] = &[
    Registered { system: dataverse::SYSTEM, aliases: &["dv", "crm"], check: |s| dataverse::check(s).map(drop), connect: dataverse::connect },
    Registered { system: bc::SYSTEM, aliases: &["businesscentral", "business_central", "erp"], check: |s| bc::check(s).map(drop), connect: bc::connect },
];

/// The registration of `system`.
pub fn registered(system: System) -> Option<&'static Registered> {
    REGISTERED.iter().find(|r| r.system == system)
}

/// The pair an engine runs when the configuration names no ERP: Dataverse ↔ Business Central.
pub fn default_pair() -> Pair {
    Pair {
        crm: dataverse::SYSTEM,
        erp: bc::SYSTEM,
    }
}

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
