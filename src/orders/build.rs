//! What the order and quote flows build their ERP document with: the couplings, mappings,
//! currencies and `[orders]` they read ([`BuildContext`]), and the ERP's
//! [`DocumentBuilder`], which turns a CRM order or quote aggregate into the ERP's sales
//! document (Business Central's in `src/systems/bc/documents/build.rs`).

use super::config::OrdersConfig;
use super::error::OrderError;
use super::kind::DocKind;
use crate::event::Fields;
use crate::mapping::Catalogue;
use crate::store::{Store, StoreError};
use crate::transform::CurrencyTable;

/// The mapping whose couplings resolve the order's customer.
pub const CUSTOMER_MAPPING: &str = "CUSTOMER";
/// The mapping whose couplings resolve a line's product to an item.
pub const PRODUCT_MAPPING: &str = "ITEM-PRODUCT";
/// The mapping whose couplings resolve a line's unit.
pub const UOM_MAPPING: &str = "ITEM UOM";
/// What the builder reads.
pub struct BuildContext<'a> {
    /// Couplings.
    pub store: &'a Store,
    /// The mappings (for the option value maps of CUSTOMER).
    pub catalogue: &'a Catalogue,
    /// Currency ids ↔ codes.
    pub currencies: &'a CurrencyTable,
    /// `[orders]`.
    pub config: &'a OrdersConfig,
    /// The ERP's builder (`None`: the ERP builds no sales documents).
    pub erp: Option<&'a dyn DocumentBuilder>,
}

/// Why a document cannot be built: `Ok(e)` parks it or marks it invalid, `Err(_)` is a
/// broken projection (see [`build`]).
pub type Failed = Result<OrderError, StoreError>;

/// An ERP's builder of sales documents from CRM aggregates (an order or a quote, header and
/// lines, every reference resolved through couplings). Pure: reads the projection only.
pub trait DocumentBuilder: Send + Sync {
    /// The ERP document of `kind` for aggregate `doc` of CRM record `record`.
    fn build_doc(
        &self,
        cx: &BuildContext<'_>,
        kind: &DocKind,
        record: &str,
        doc: &Fields,
    ) -> Result<Fields, Failed>;

    /// The natural key of a document it built (the ERP columns that find it again when a
    /// crash came between its creation and its coupling).
    fn natural_key(&self, built: &Fields) -> Vec<(String, String)>;
}

/// The natural key of document `built` by the ERP's builder (none without one).
pub fn natural_key(cx: &BuildContext<'_>, built: &Fields) -> Vec<(String, String)> {
    cx.erp.map(|b| b.natural_key(built)).unwrap_or_default()
}

/// Builds the order. `Err(Ok(e))` is why it cannot be built (parked or invalid);
/// `Err(Err(_))` a broken projection.
pub fn build(cx: &BuildContext<'_>, record: &str, order: &Fields) -> Result<Fields, Failed> {
    build_doc(cx, &super::kind::ORDER, record, order)
}

/// [`build`] for a document of `kind` (an order or a quote), by the ERP's builder.
pub fn build_doc(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    doc: &Fields,
) -> Result<Fields, Failed> {
    match cx.erp {
        Some(b) => b.build_doc(cx, kind, record, doc),
        None => Err(Ok(OrderError::Invalid {
            field: "flow".to_string(),
            reason: format!(
                "{record}: the ERP of this pair builds no sales documents; remove the mapping's flow or pair Couplet with an ERP that has them"
            ),
            class: "unsupported_target",
        })),
    }
}
