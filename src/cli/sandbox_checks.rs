//! What the checks of a run against the sandbox (the demo's, the chaos suite's, the tests')
//! compare amounts through.

use crate::sandbox::Sandbox;
use crate::transform::CurrencyTable;

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
