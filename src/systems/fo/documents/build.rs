//! Building an F&O sales order (`SalesOrderHeadersV2` and its `SalesOrderLines`) from a
//! Dataverse order aggregate, every reference resolved through couplings: the customer's
//! legal entity and account, each line's item. Pure: reads the projection only.
//!
//! A minimal header needs `dataAreaId`, `CurrencyCode`, `InvoiceCustomerAccountNumber` and
//! `OrderingCustomerAccountNumber`; a minimal line `SalesOrderNumber` and `ItemNumber`, the
//! rest defaulted from the released product (`external-apis.md` §3.2).

use serde_json::{Value, json};

use super::super::system::{COMPANY, SYSTEM};
use crate::event::{Fields, KeyValue, Side};
use crate::orders::build::{
    BuildContext, CUSTOMER_MAPPING, DocumentBuilder, Failed, PRODUCT_MAPPING,
};
use crate::orders::error::OrderError;
use crate::orders::kind::{DocKind, SalesDocument};
use crate::orders::lines::truncate;
use crate::orders::{CUSTOMER_ACCOUNT, LINES};
use crate::transform::fields::waiting_key;

/// The header entity set.
pub const HEADERS: &str = "SalesOrderHeadersV2";
/// The lines entity set.
pub const LINE_SET: &str = "SalesOrderLines";
/// Where the built order carries its lines until they are written one by one.
pub const BUILT_LINES: &str = "@couplet.lines";
/// The header field holding the Sales order number: the natural key.
pub const REFERENCE: &str = "CustomersOrderReference";

/// F&O's builder of sales orders.
pub struct FoSalesOrders;

impl DocumentBuilder for FoSalesOrders {
    fn build_doc(
        &self,
        cx: &BuildContext<'_>,
        kind: &DocKind,
        record: &str,
        doc: &Fields,
    ) -> Result<Fields, Failed> {
        if kind.document != SalesDocument::Order {
            return Err(Ok(invalid(
                "flow",
                "unsupported_target",
                format!(
                    "{record}: Finance & Operations receives sales orders, not quotes; remove the QUOTE mapping from [sync] mappings"
                ),
            )));
        }
        build(cx, kind, record, doc)
    }

    /// The Sales order number within the order's legal entity.
    fn natural_key(&self, built: &Fields) -> Vec<(String, String)> {
        let text = |k: &str| built.get(k).and_then(Value::as_str).map(str::to_string);
        match (text(REFERENCE), text(COMPANY)) {
            (Some(r), Some(c)) => vec![(REFERENCE.into(), r), (COMPANY.into(), c)],
            _ => Vec::new(),
        }
    }
}

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn invalid(field: &str, class: &'static str, reason: String) -> OrderError {
    OrderError::Invalid {
        field: field.to_string(),
        reason,
        class,
    }
}

/// A key column of an F&O id (`dataAreaId=usmf,CustomerAccount=C00001`).
fn key_part(set: &str, id: &str, column: &str) -> Option<String> {
    match SYSTEM.decode_id(set, id).ok()?.value(column)? {
        KeyValue::Str(s) => Some(s.clone()),
        other => Some(other.to_json().to_string()),
    }
}

/// The order: its header (in the customer's legal entity) and its lines.
pub fn build(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    order: &Fields,
) -> Result<Fields, Failed> {
    let mut h = header(cx, kind, record, order)?;
    for (field, what) in [
        ("discountamount", "an order discount"),
        ("discountpercentage", "an order discount percentage"),
        ("freightamount", "freight"),
    ] {
        if num(order, field) != 0.0 {
            return Err(Ok(invalid(
                field,
                "unsupported_value",
                format!(
                    "{record} has {what} ({}); Couplet does not carry discounts or charges to F&O sales orders yet: remove it, or enter it in F&O, then `couplet errors retry`",
                    num(order, field)
                ),
            )));
        }
    }
    let lines = order
        .get(LINES)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for (i, line) in lines.iter().filter_map(Value::as_object).enumerate() {
        out.push(Value::Object(self::line(cx, kind, record, i, line)?));
    }
    h.insert(BUILT_LINES.into(), Value::Array(out));
    Ok(h)
}

fn header(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    order: &Fields,
) -> Result<Fields, Failed> {
    let Some(account) = text(order, CUSTOMER_ACCOUNT) else {
        return Err(Ok(invalid(
            "customerid",
            "customer_unresolved",
            format!(
                "{record} has no customer account (customerid, or its contact's parent account); set one, then `couplet errors retry`"
            ),
        )));
    };
    let customer = cx
        .store
        .coupling(CUSTOMER_MAPPING, Side::Crm, account)
        .map_err(Err)?
        .ok_or_else(|| {
            Ok(OrderError::Waiting {
                waiting_for: waiting_key(CUSTOMER_MAPPING, crate::systems::DATAVERSE, None, account),
                reason: format!("customerid: account dataverse/accounts/{account} is not coupled to an F&O customer ({CUSTOMER_MAPPING}) yet"),
            })
        })?;
    let set = cx
        .catalogue
        .get(CUSTOMER_MAPPING)
        .map(|m| m.erp_entity.clone())
        .unwrap_or_else(|| "CustomersV3".to_string());
    let (Some(company), Some(number)) = (
        key_part(&set, &customer.erp_id, COMPANY),
        key_part(&set, &customer.erp_id, "CustomerAccount"),
    ) else {
        return Err(Ok(invalid(
            "customerid",
            "malformed",
            format!(
                "{record}: its customer's coupling {} is not an F&O customer key",
                customer.erp_id
            ),
        )));
    };
    let mut h = Fields::new();
    h.insert(COMPANY.into(), json!(company));
    h.insert("OrderingCustomerAccountNumber".into(), json!(number));
    h.insert("InvoiceCustomerAccountNumber".into(), json!(number));
    if let Some(n) = text(order, kind.number) {
        h.insert(REFERENCE.into(), json!(truncate(n, 60)));
    }
    if let Some(name) = text(order, "name") {
        h.insert("SalesOrderName".into(), json!(truncate(name, 100)));
    }
    let currency = match text(order, "_transactioncurrencyid_value") {
        Some(cur) => cx.currencies.erp_code_for_id(cur, false).ok_or_else(|| {
            Ok(invalid(
                "transactioncurrencyid",
                "unknown_currency",
                format!("{record}: transactioncurrency {cur} is not a known Dataverse currency"),
            ))
        })?,
        None => cx.currencies.lcy(),
    };
    h.insert("CurrencyCode".into(), json!(currency));
    if let Some(d) = text(order, "requestdeliveryby").and_then(|d| d.get(..10)) {
        // F&O dates travel as instants at 12:00 UTC.
        h.insert(
            "RequestedShippingDate".into(),
            json!(format!("{d}T12:00:00Z")),
        );
    }
    Ok(h)
}

/// Line `i` (0-based): the product's coupled item, or the configured write-in item.
fn line(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    i: usize,
    line: &Fields,
) -> Result<Fields, Failed> {
    let line_id = text(line, kind.line_id).unwrap_or("?");
    let at = format!("{record} line {} ({} {line_id})", i + 1, kind.line_entity);
    for field in ["manualdiscountamount", "volumediscountamount"] {
        if num(line, field) != 0.0 {
            return Err(Ok(invalid(
                field,
                "unsupported_value",
                format!(
                    "{at} has a discount ({field} {}); Couplet does not carry discounts to F&O sales orders yet: remove it, or enter it in F&O, then `couplet errors retry`",
                    num(line, field)
                ),
            )));
        }
    }
    let write_in = line.get("isproductoverridden").and_then(Value::as_bool) == Some(true)
        || text(line, "_productid_value").is_none();
    let item = if write_in {
        cx.config.write_in_product.clone().ok_or_else(|| {
            Ok(invalid(
                "productid",
                "write_in_not_configured",
                format!("{at} is a write-in product ('{}'); set [orders] write_in_product to the F&O item write-in lines are sold as, then `couplet errors retry`", text(line, "productdescription").unwrap_or("")),
            ))
        })?
    } else {
        let product = text(line, "_productid_value").unwrap_or_default();
        let c = cx
            .store
            .coupling(PRODUCT_MAPPING, Side::Crm, product)
            .map_err(Err)?
            .ok_or_else(|| {
                Ok(OrderError::Waiting {
                    waiting_for: waiting_key(PRODUCT_MAPPING, crate::systems::DATAVERSE, None, product),
                    reason: format!("{at}: productid dataverse/products/{product} is not coupled to an F&O released product ({PRODUCT_MAPPING}) yet"),
                })
            })?;
        key_part("ReleasedProductsV2", &c.erp_id, "ItemNumber").ok_or_else(|| {
            Ok(invalid(
                "productid",
                "malformed",
                format!(
                    "{at}: its product's coupling {} is not an F&O released product key",
                    c.erp_id
                ),
            ))
        })?
    };
    let mut l = Fields::new();
    l.insert("ItemNumber".into(), json!(item));
    l.insert("LineNumber".into(), json!((i + 1) as f64));
    l.insert("OrderedSalesQuantity".into(), json!(num(line, "quantity")));
    l.insert("SalesPrice".into(), json!(num(line, "priceperunit")));
    let desc = text(line, "description").or(text(line, "productdescription"));
    if let Some(d) = desc {
        l.insert("LineDescription".into(), json!(truncate(d, 1000)));
    }
    l.insert("@couplet.line".into(), json!(at));
    Ok(l)
}
