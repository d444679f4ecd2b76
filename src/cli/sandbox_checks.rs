//! What the checks of a run against the sandbox (the demo's, the chaos suite's, the tests')
//! compare amounts through.

use crate::event::{Fields, Side};
use crate::mapping::Catalogue;
use crate::mapping::model::TableMapping;
use crate::sandbox::Sandbox;
use crate::store::{Store, StoreError};
use crate::transform::CurrencyTable;
use crate::transform::compare::{MappingCheck, compare};
use crate::transform::fields::Context;

/// The sandbox Dataverse's currencies by ISO code, with its local currency USD: what a check
/// compares amounts through.
pub fn sandbox_currencies(sb: &Sandbox) -> CurrencyTable {
    let currencies = CurrencyTable::new("USD");
    currencies.set(
        sb.rows(crate::systems::DATAVERSE, "transactioncurrencies")
            .into_iter()
            .filter_map(|r| {
                Some((
                    r.get("isocurrencycode")?.as_str()?.to_string(),
                    r.get("transactioncurrencyid")?.as_str()?.to_string(),
                ))
            }),
    );
    currencies
}

/// Compares every mapping of `catalogue` side by side on the sandbox, through the couplings
/// in `store`: the CRM's rows with the ERP's rows a run synchronises (F&O's: the demo's legal
/// entity's). In the catalogue's order.
pub fn compare_mappings(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Catalogue,
) -> Result<Vec<MappingCheck>, StoreError> {
    compare_mappings_reading(sb, store, catalogue, |m| {
        super::demo_fo::erp_rows(sb, m.system(Side::Erp), &m.erp_entity)
    })
}

/// [`compare_mappings`] with the ERP's rows of each mapping read by `erp_rows` (the tests
/// compare every row of the ERP).
pub fn compare_mappings_reading(
    sb: &Sandbox,
    store: &Store,
    catalogue: &Catalogue,
    erp_rows: impl Fn(&TableMapping) -> Vec<Fields>,
) -> Result<Vec<MappingCheck>, StoreError> {
    let currencies = sandbox_currencies(sb);
    let cx = Context {
        catalogue,
        store,
        currencies: &currencies,
    };
    catalogue
        .ordered()
        .iter()
        .map(|m| {
            let crm = sb.rows(m.system(Side::Crm), &m.crm_entity);
            compare(m, &crm, &erp_rows(m), &cx)
        })
        .collect()
}
