//! Loading and validating a set of mappings.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::model::{CrmColumns, Direction, Lookup, MappingFile, TableMapping};
use super::value_map;
use crate::error::{Actor, Classify, Retry};
use crate::event::Pair;
use crate::odata::filter::{self, Filter};

/// The shipped default mappings.
pub const DEFAULTS: &str = crate::systems::pair::DEFAULT_MAPPINGS;

/// A mapping file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file cannot be read.
    #[error("cannot read mapping file {file}: {reason}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("{file}:{line}:{column}: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said (it names the unknown key or the expected values).
        reason: String,
    },
    /// A mapping or field is inconsistent at a known place of the file.
    #[error("{file}:{line}: {error}")]
    At {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong there.
        error: Box<MappingError>,
    },
    /// A mapping or field is inconsistent.
    #[error("mapping {mapping}{}: {reason}", field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
    Invalid {
        /// The mapping.
        mapping: String,
        /// The field, when one is at fault.
        field: Option<String>,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl Classify for MappingError {
    fn actor(&self) -> Actor {
        Actor::User
    }
    fn retry(&self) -> Retry {
        Retry::Never
    }
    fn class(&self) -> &'static str {
        "mapping"
    }
}

/// Validated mappings in dependency order, with their parsed filters.
#[derive(Debug, Clone)]
pub struct Catalogue {
    ordered: Vec<Arc<TableMapping>>,
    by_name: HashMap<String, Arc<TableMapping>>,
    filters: HashMap<(String, bool), Arc<Filter>>,
    pair: Pair,
}

impl Catalogue {
    /// The shipped defaults.
    pub fn defaults() -> Result<Catalogue, MappingError> {
        Catalogue::parse("defaults.toml", DEFAULTS)
    }

    /// Loads a mapping file.
    pub fn load(path: &Path) -> Result<Catalogue, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|e| MappingError::Read {
            file: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Catalogue::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates mapping TOML; `file` names the source in errors.
    pub fn parse(file: &str, text: &str) -> Result<Catalogue, MappingError> {
        let parsed: MappingFile = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
            MappingError::Parse {
                file: file.to_string(),
                line,
                column,
                reason: e.message().to_string(),
            }
        })?;
        for m in &parsed.mappings {
            if let Err((field, needle, reason)) = check_value_maps(m) {
                return Err(MappingError::At {
                    file: file.to_string(),
                    line: locate(text, &m.name, &needle),
                    error: Box::new(invalid(&m.name, Some(&field), &reason)),
                });
            }
        }
        Catalogue::from_mappings(parsed.mappings)
    }

    /// Validates mappings and orders them by dependency.
    pub fn from_mappings(mappings: Vec<TableMapping>) -> Result<Catalogue, MappingError> {
        let mut by_name = HashMap::new();
        let mut filters = HashMap::new();
        for m in &mappings {
            if by_name
                .insert(m.name.clone(), Arc::new(m.clone()))
                .is_some()
            {
                return Err(invalid(
                    &m.name,
                    None,
                    "the name is used twice; names must be unique",
                ));
            }
            validate(m)?;
            check_value_maps(m)
                .map_err(|(field, _, reason)| invalid(&m.name, Some(&field), &reason))?;
            for (crm, f) in [(true, &m.crm_filter), (false, &m.erp_filter)] {
                if let Some(text) = f {
                    let parsed = filter::parse(text).map_err(|e| {
                        let side = if crm { "crm_filter" } else { "erp_filter" };
                        invalid(&m.name, Some(side), &e.to_string())
                    })?;
                    filters.insert((m.name.clone(), crm), Arc::new(parsed));
                }
            }
        }
        for m in &mappings {
            for dep in m.depends_on.iter().chain(lookup_mappings(m).iter()) {
                if !by_name.contains_key(dep.as_str()) {
                    return Err(invalid(
                        &m.name,
                        None,
                        &format!(
                            "depends on mapping '{dep}', which is not defined; define it or remove the reference"
                        ),
                    ));
                }
            }
        }
        let ordered = topo_order(&mappings)?
            .into_iter()
            .filter_map(|n| by_name.get(&n).cloned())
            .collect();
        Ok(Catalogue {
            ordered,
            by_name,
            filters,
            pair: mappings
                .first()
                .map(|m| m.pair)
                .unwrap_or_else(crate::systems::pair::default_pair),
        })
    }

    /// The same mappings, joining the systems of `pair` (the engine's CRM and ERP).
    pub fn for_pair(&self, pair: Pair) -> Catalogue {
        let by_name: HashMap<String, Arc<TableMapping>> = self
            .by_name
            .iter()
            .map(|(k, m)| {
                let mut m = TableMapping::clone(m);
                m.pair = pair;
                (k.clone(), Arc::new(m))
            })
            .collect();
        Catalogue {
            ordered: self
                .ordered
                .iter()
                .filter_map(|m| by_name.get(&m.name).cloned())
                .collect(),
            by_name,
            filters: self.filters.clone(),
            pair,
        }
    }

    /// These mappings with the document flow of `defaults` filled in where a mapping leaves
    /// `flow` out but has a default's name and entity sets: a user mapping file written
    /// before the `flow` key (a copy of the defaults, edited) runs the same flows. A mapping
    /// over other tables, or under another name, runs the flow its file says (none when it
    /// says none).
    pub fn with_default_flows(&self, defaults: &Catalogue) -> Catalogue {
        let inherit = |m: &Arc<TableMapping>| -> Arc<TableMapping> {
            match defaults.get(&m.name) {
                Some(d)
                    if m.flow.is_none()
                        && d.flow.is_some()
                        && d.crm_entity == m.crm_entity
                        && d.erp_entity == m.erp_entity =>
                {
                    Arc::new(TableMapping {
                        flow: d.flow,
                        ..TableMapping::clone(m)
                    })
                }
                _ => m.clone(),
            }
        };
        let by_name: HashMap<String, Arc<TableMapping>> = self
            .by_name
            .iter()
            .map(|(k, m)| (k.clone(), inherit(m)))
            .collect();
        Catalogue {
            ordered: self
                .ordered
                .iter()
                .filter_map(|m| by_name.get(&m.name).cloned())
                .collect(),
            by_name,
            filters: self.filters.clone(),
            pair: self.pair,
        }
    }

    /// The CRM and the ERP these mappings join.
    pub fn pair(&self) -> Pair {
        self.pair
    }

    /// A mapping by name.
    pub fn get(&self, name: &str) -> Option<&Arc<TableMapping>> {
        self.by_name.get(name)
    }

    /// All mappings, dependencies first.
    pub fn ordered(&self) -> &[Arc<TableMapping>] {
        &self.ordered
    }

    /// The parsed table filter of a mapping on one side.
    pub fn filter(&self, mapping: &str, crm: bool) -> Option<&Filter> {
        self.filters
            .get(&(mapping.to_string(), crm))
            .map(|f| f.as_ref())
    }

    /// Keeps only the named mappings (and fails on unknown names). A field whose lookup goes
    /// through a mapping that is not selected is left out (with a log line), and so is a
    /// dependency on it: e.g. CUSTOMER without SALESPEOPLE synchronises no owner.
    pub fn select(&self, names: &[String]) -> Result<Catalogue, MappingError> {
        let mut keep: Vec<TableMapping> = Vec::new();
        for n in names {
            let m = self.by_name.get(n).ok_or_else(|| {
                let known: Vec<_> = self.ordered.iter().map(|m| m.name.as_str()).collect();
                invalid(
                    n,
                    None,
                    &format!("no such mapping; known: {}", known.join(", ")),
                )
            })?;
            keep.push(m.as_ref().clone());
        }
        let chosen: Vec<String> = keep.iter().map(|m| m.name.clone()).collect();
        for m in &mut keep {
            m.depends_on.retain(|d| chosen.contains(d));
            let name = m.name.clone();
            m.fields.retain(|f| match &f.lookup {
                Some(Lookup::Coupling { mapping, .. }) if !chosen.contains(mapping) => {
                    tracing::info!(mapping = %name, field = %f.crm.display(), through = %mapping, "field left out: its lookup goes through a mapping that is not selected");
                    false
                }
                _ => true,
            });
        }
        Catalogue::from_mappings(keep)
    }
}

fn invalid(mapping: &str, field: Option<&str>, reason: &str) -> MappingError {
    MappingError::Invalid {
        mapping: mapping.to_string(),
        field: field.map(str::to_string),
        reason: reason.to_string(),
    }
}

fn lookup_mappings(m: &TableMapping) -> Vec<String> {
    m.fields
        .iter()
        .filter_map(|f| match &f.lookup {
            Some(Lookup::Coupling { mapping, .. }) => Some(mapping.clone()),
            _ => None,
        })
        .collect()
}

fn validate(m: &TableMapping) -> Result<(), MappingError> {
    if m.name.trim().is_empty() || m.crm_entity.trim().is_empty() || m.erp_entity.trim().is_empty()
    {
        return Err(invalid(
            &m.name,
            None,
            "name, crm_entity and erp_entity must not be empty",
        ));
    }
    if m.crm_key.is_some() != m.erp_key.is_some() {
        return Err(invalid(
            &m.name,
            None,
            "set both crm_key and erp_key, or neither",
        ));
    }
    if m.crm_key_scope.is_some() != m.erp_key_scope.is_some() {
        return Err(invalid(
            &m.name,
            None,
            "set both crm_key_scope and erp_key_scope (e.g. the account's legal-entity column and dataAreaId), or neither",
        ));
    }
    if m.crm_key_scope.is_some() && m.crm_key.is_none() {
        return Err(invalid(
            &m.name,
            None,
            "crm_key_scope and erp_key_scope qualify a natural key: set crm_key and erp_key too",
        ));
    }
    if let Some(sc) = &m.schedule {
        sc.validate()
            .map_err(|e| invalid(&m.name, None, &format!("schedule: {e}")))?;
    }
    for f in &m.fields {
        let name = format!("{} <-> {}", f.crm.display(), f.erp);
        let crm_cols = f.crm.columns();
        if f.constant.is_none() && (crm_cols.is_empty() || f.erp.is_empty()) {
            return Err(invalid(
                &m.name,
                Some(&name),
                "a field mapping needs both crm and erp, or a constant",
            ));
        }
        if f.constant.is_some() {
            let ok = match f.direction {
                Direction::ToCrm => !crm_cols.is_empty(),
                Direction::ToErp => !f.erp.is_empty(),
                Direction::Bidirectional => false,
            };
            if !ok {
                return Err(invalid(
                    &m.name,
                    Some(&name),
                    "a constant needs direction to_crm (with crm) or to_erp (with erp)",
                ));
            }
        }
        if let CrmColumns::Many(cols) = &f.crm
            && (cols.len() < 2 || f.lookup.is_some())
        {
            return Err(invalid(
                &m.name,
                Some(&name),
                "several crm columns compose one text field: list at least two and no lookup",
            ));
        }
        for r in &f.rules {
            r.check()
                .map_err(|reason| invalid(&m.name, Some(&name), &reason))?;
        }
        if !f.value_map.is_empty() && (f.lookup.is_some() || f.constant.is_some()) {
            return Err(invalid(
                &m.name,
                Some(&name),
                "a value_map translates the field's own values: remove the lookup or constant, or the value_map",
            ));
        }
        if !f.direction.allows_from(crate::event::Side::Crm)
            && !f.direction.allows_from(crate::event::Side::Erp)
        {
            return Err(invalid(&m.name, Some(&name), "the field has no direction"));
        }
        if m.direction != Direction::Bidirectional
            && f.direction != Direction::Bidirectional
            && f.direction != m.direction
        {
            return Err(invalid(
                &m.name,
                Some(&name),
                &format!(
                    "field direction {} contradicts the table direction {}",
                    f.direction.as_str(),
                    m.direction.as_str()
                ),
            ));
        }
    }
    Ok(())
}

/// The first inconsistent value map of `m`: (field, value to find in the file, reason).
fn check_value_maps(m: &TableMapping) -> Result<(), (String, String, String)> {
    for f in &m.fields {
        let to_erp = f.direction.allows_from(crate::event::Side::Crm)
            && m.direction.allows_from(crate::event::Side::Crm);
        value_map::check(&f.value_map, to_erp).map_err(|e| {
            (
                format!("{} <-> {}", f.crm.display(), f.erp),
                e.value,
                e.reason,
            )
        })?;
    }
    Ok(())
}

/// The line of `needle` inside the mapping called `mapping` (its `name = ` line when the
/// needle is not found after it).
fn locate(text: &str, mapping: &str, needle: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            let l = l.trim();
            l.starts_with("name") && l.contains(&format!("\"{mapping}\""))
        })
        .unwrap_or(0);
    let quoted = format!("\"{needle}\"");
    lines[start..]
        .iter()
        .position(|l| l.contains(&quoted))
        .map(|i| start + i + 1)
        .unwrap_or(start + 1)
}

/// Dependencies first; a cycle is an error naming it.
fn topo_order(mappings: &[TableMapping]) -> Result<Vec<String>, MappingError> {
    let deps: BTreeMap<String, Vec<String>> = mappings
        .iter()
        .map(|m| {
            let mut d = m.depends_on.clone();
            d.extend(lookup_mappings(m).into_iter().filter(|x| *x != m.name));
            (m.name.clone(), d)
        })
        .collect();
    let mut order = Vec::new();
    let mut state: HashMap<String, u8> = HashMap::new(); // 1 = visiting, 2 = done
    fn visit(
        n: &str,
        deps: &BTreeMap<String, Vec<String>>,
        state: &mut HashMap<String, u8>,
        order: &mut Vec<String>,
        path: &mut Vec<String>,
    ) -> Result<(), MappingError> {
        match state.get(n) {
            Some(2) => return Ok(()),
            Some(1) => {
                path.push(n.to_string());
                return Err(invalid(
                    n,
                    None,
                    &format!(
                        "dependency cycle {}; remove one of these depends_on",
                        path.join(" -> ")
                    ),
                ));
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in deps.get(n).into_iter().flatten() {
            visit(d, deps, state, order, path)?;
        }
        path.pop();
        state.insert(n.to_string(), 2);
        order.push(n.to_string());
        Ok(())
    }
    for n in deps.keys() {
        visit(n, &deps, &mut state, &mut order, &mut Vec::new())?;
    }
    Ok(order)
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ordered() {
        let c = Catalogue::defaults().unwrap();
        let names: Vec<_> = c.ordered().iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.len(), 19, "{names:?}");
        for m in c.ordered() {
            let at = names.iter().position(|n| *n == m.name).unwrap();
            for d in &m.depends_on {
                let dep = names.iter().position(|n| n == d).unwrap();
                assert!(dep < at, "{} comes before its dependency {d}", m.name);
            }
        }
        let customer = c.get("CUSTOMER").unwrap();
        assert_eq!(customer.depends_on, vec!["SALESPEOPLE", "CURRENCY"]);
        assert!(c.filter("CUSTOMER", true).is_some());
    }

    #[test]
    fn flows_are_chosen_by_the_flow_key() {
        use crate::mapping::model::FlowKind;
        let c = Catalogue::defaults().unwrap();
        let flow = |n: &str| c.get(n).unwrap().flow;
        assert_eq!(flow("SALESORDER"), Some(FlowKind::SalesOrder));
        assert_eq!(flow("QUOTE"), Some(FlowKind::SalesQuote));
        assert_eq!(flow("POSTEDSALESINV-INV"), Some(FlowKind::SalesInvoice));
        assert_eq!(flow("OPPORTUNITY"), Some(FlowKind::Opportunity));
        let with_flow: Vec<_> = c.ordered().iter().filter(|m| m.flow.is_some()).collect();
        assert_eq!(with_flow.len(), 4);

        let e = Catalogue::parse(
            "m.toml",
            &DEFAULTS.replace("flow = \"sales_order\"", "flow = \"sales_ordre\""),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("sales_ordre") && e.contains("sales_order"),
            "{e}"
        );
    }

    #[test]
    fn a_user_file_without_flow_keys_inherits_the_defaults_flows() {
        use crate::mapping::model::FlowKind;
        let defaults = Catalogue::defaults().unwrap();
        let old = DEFAULTS
            .lines()
            .filter(|l| !l.starts_with("flow = "))
            .collect::<Vec<_>>()
            .join("\n");
        let user = Catalogue::parse("user.toml", &old).unwrap();
        assert_eq!(user.get("SALESORDER").unwrap().flow, None);
        let user = user.with_default_flows(&defaults);
        for m in defaults.ordered() {
            assert_eq!(user.get(&m.name).unwrap().flow, m.flow, "{}", m.name);
        }
        // Another table under a default's name runs no flow; another name keeps its own.
        let renamed = old
            .replace("name = \"QUOTE\"", "name = \"MY QUOTES\"")
            .replace(
                "erp_entity = \"salesInvoices\"",
                "erp_entity = \"customerPayments\"",
            );
        let user = Catalogue::parse("user.toml", &renamed)
            .unwrap()
            .with_default_flows(&defaults);
        assert_eq!(user.get("MY QUOTES").unwrap().flow, None);
        assert_eq!(user.get("POSTEDSALESINV-INV").unwrap().flow, None);
        assert_eq!(
            user.get("SALESORDER").unwrap().flow,
            Some(FlowKind::SalesOrder)
        );
        let ordered: Vec<_> = user.ordered().iter().map(|m| m.flow).collect();
        let by_name: Vec<_> = user
            .ordered()
            .iter()
            .map(|m| user.get(&m.name).unwrap().flow)
            .collect();
        assert_eq!(ordered, by_name);
    }

    #[test]
    fn price_list_filters_keep_sales_prices_of_items_without_minimum_quantity() {
        let c = Catalogue::defaults().unwrap();
        let row = |v: serde_json::Value| v.as_object().cloned().unwrap();
        let header = c.filter("PLHEADER-PRICE", false).unwrap();
        assert!(header.matches(&row(
            serde_json::json!({"priceType": "Sale", "amountType": "Price"})
        )));
        for (pt, at) in [("Purchase", "Price"), ("Sale", "Discount"), ("Sale", "Any")] {
            assert!(!header.matches(&row(serde_json::json!({"priceType": pt, "amountType": at}))));
        }
        let line = c.filter("PLLINE-PRODPRICE", false).unwrap();
        let l = |pt: &str, asset: &str, qty: f64| {
            row(
                serde_json::json!({"priceType": pt, "amountType": "Price", "assetType": asset, "minimumQuantity": qty}),
            )
        };
        assert!(line.matches(&l("Sale", "Item", 0.0)));
        assert!(!line.matches(&l("Sale", "Item", 10.0)));
        assert!(!line.matches(&l("Purchase", "Item", 0.0)));
        assert!(!line.matches(&l("Sale", "Resource", 0.0)));
        let pl = c.get("PLLINE-PRODPRICE").unwrap();
        assert_eq!(pl.depends_on, vec!["PLHEADER-PRICE", "ITEM-PRODUCT"]);
        assert!(!pl.sync_only_coupled);
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let text = "[[mapping]]\nname = \"X\"\ncrm_entity = \"a\"\nerp_entity = \"b\"\ndirection = \"bidirectional\"\ncolour = 1\n";
        let err = Catalogue::parse("m.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("m.toml:6:"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn bad_direction_is_named() {
        let text = "[[mapping]]\nname = \"X\"\ncrm_entity = \"a\"\nerp_entity = \"b\"\ndirection = \"sideways\"\n";
        let err = Catalogue::parse("m.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("sideways") && err.contains("bidirectional"),
            "{err}"
        );
    }

    #[test]
    fn inconsistent_value_map_names_file_and_line() {
        let text = r#"
[[mapping]]
name = "X"
crm_entity = "accounts"
erp_entity = "customers"
direction = "bidirectional"

  [[mapping.fields]]
  crm = "paymenttermscode"
  erp = "paymentTermsCode"
  value_map = [
    { erp = "NET30", crm = 1 },
    { erp = "NET45", crm = 1 },
  ]
"#;
        let err = Catalogue::parse("m.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("m.toml:13: mapping X, field paymenttermscode <-> paymentTermsCode"),
            "{err}"
        );
        assert!(err.contains("crm value 1"), "{err}");
    }

    #[test]
    fn a_bad_rule_is_named() {
        let text = "[[mapping]]\nname = \"X\"\ncrm_entity = \"a\"\nerp_entity = \"b\"\ndirection = \"bidirectional\"\n[[mapping.fields]]\ncrm = \"c\"\nerp = \"d\"\nrules = [{ regex_replace = { pattern = \"(\", replacement = \"\" } }]\n";
        let err = Catalogue::parse("m.toml", text).unwrap_err().to_string();
        assert!(
            err.contains("field c <-> d") && err.contains("does not compile"),
            "{err}"
        );
    }

    #[test]
    fn selecting_drops_lookups_through_unselected_mappings() {
        let c = Catalogue::defaults().unwrap();
        let s = c
            .select(&["CUSTOMER".to_string(), "CONTACT".to_string()])
            .unwrap();
        let customer = s.get("CUSTOMER").unwrap();
        assert!(customer.fields.iter().all(|f| !matches!(
            &f.lookup,
            Some(Lookup::Coupling { mapping, .. }) if mapping != "CUSTOMER"
        )));
        assert!(customer.depends_on.is_empty());
        assert!(
            s.get("CONTACT")
                .unwrap()
                .fields
                .iter()
                .any(|f| f.lookup.is_some())
        );
    }

    #[test]
    fn cycles_are_rejected() {
        let text = r#"
[[mapping]]
name = "A"
crm_entity = "a"
erp_entity = "a"
direction = "bidirectional"
depends_on = ["B"]
[[mapping]]
name = "B"
crm_entity = "b"
erp_entity = "b"
direction = "bidirectional"
depends_on = ["A"]
"#;
        let err = Catalogue::parse("m.toml", text).unwrap_err().to_string();
        assert!(err.contains("cycle"), "{err}");
    }
}
