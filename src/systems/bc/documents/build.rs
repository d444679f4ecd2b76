//! Building a Business Central sales order or quote (header and lines) from a Dataverse
//! aggregate, resolving every reference through couplings: the [`DocumentBuilder`] of Business
//! Central's documents. Pure: reads the projection only.

use serde_json::{Value, json};

use crate::event::Fields;
use crate::event::Side;
use crate::mapping::value_map::to_erp;
use crate::orders::build::{
    BuildContext, CUSTOMER_MAPPING, DocumentBuilder, Failed, PRODUCT_MAPPING, UOM_MAPPING,
};
use crate::orders::error::OrderError;
use crate::orders::kind::{DocKind, SalesDocument};
use crate::orders::lines::{split_description, truncate};
use crate::orders::{CUSTOMER_ACCOUNT, LINES, UOM_NAME};
use crate::transform::fields::waiting_key;

pub use super::sets::{ORDER_LINES, QUOTE_LINES};

/// The lines collection of a Business Central document of `kind`.
fn lines_key(kind: &DocKind) -> &'static str {
    match kind.document {
        SalesDocument::Order => ORDER_LINES,
        SalesDocument::Quote => QUOTE_LINES,
    }
}

/// Business Central's builder of sales orders and quotes.
pub struct SalesDocuments;

impl DocumentBuilder for SalesDocuments {
    fn build_doc(
        &self,
        cx: &BuildContext<'_>,
        kind: &DocKind,
        record: &str,
        doc: &Fields,
    ) -> Result<Fields, Failed> {
        build_doc(cx, kind, record, doc)
    }

    /// Your Reference: the CRM document's number, which finds the document again after a crash.
    fn natural_key(&self, built: &Fields) -> Vec<(String, String)> {
        built
            .get("yourReference")
            .and_then(Value::as_str)
            .map(|v| vec![("yourReference".to_string(), v.to_string())])
            .unwrap_or_default()
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

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn invalid(field: &str, class: &'static str, reason: String) -> OrderError {
    OrderError::Invalid {
        field: field.to_string(),
        reason,
        class,
    }
}

/// A Business Central sales document of `kind` (an order or a quote): the same header and
/// lines, the document number from `kind.number`, the lines under the kind's lines collection.
pub fn build_doc(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    order: &Fields,
) -> Result<Fields, Failed> {
    let mut h = header(cx, kind, record, order)?;
    let lines = order
        .get(LINES)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut b = LinesBuilder {
        cx,
        kind,
        record,
        out: Vec::new(),
        total: 0.0,
        seq: 0,
    };
    for (i, line) in lines.iter().enumerate() {
        let Some(line) = line.as_object() else {
            continue;
        };
        b.line(i, line)?;
    }
    b.freight(order)?;
    let discount =
        round2(num(order, "discountamount") + b.total * num(order, "discountpercentage") / 100.0);
    if discount > 0.0 {
        h.insert("discountAmount".into(), json!(discount));
    }
    h.insert(lines_key(kind).into(), Value::Array(b.out));
    Ok(h)
}

/// The document's header: customer, references, currency, dates, the codes mapped through
/// the customer's value maps, and the addresses.
fn header(
    cx: &BuildContext<'_>,
    kind: &DocKind,
    record: &str,
    order: &Fields,
) -> Result<Fields, Failed> {
    let mut h = Fields::new();
    let account = customer_account(record, order)?;
    let customer = cx
        .store
        .coupling(CUSTOMER_MAPPING, Side::Crm, &account)
        .map_err(Err)?
        .ok_or_else(|| {
            Ok(OrderError::Waiting {
                waiting_for: waiting_key(CUSTOMER_MAPPING, crate::systems::DATAVERSE, None, &account),
                reason: format!(
                    "customerid: account dataverse/accounts/{account} is not coupled to a Business Central customer ({CUSTOMER_MAPPING}) yet"
                ),
            })
        })?;
    h.insert("customerId".into(), json!(customer.erp_id));
    if let Some(name) = text(order, "name") {
        h.insert("externalDocumentNumber".into(), json!(truncate(name, 35)));
    }
    if let Some(n) = text(order, kind.number) {
        h.insert("yourReference".into(), json!(n));
    }
    if let Some(o) = crate::opportunities::link::coupled(cx.store, order).map_err(Err)? {
        // Opportunity No. (read from Business Central by the apply).
        h.insert(crate::opportunities::link::OPPORTUNITY.into(), json!(o));
    }
    if let Some(q) = text(order, crate::quotes::ORDER_QUOTE_NUMBER) {
        // The order's quote (`quote_link.rs`): Quote No. is set and the quote archived.
        h.insert(crate::quotes::QUOTE_REFERENCE.into(), json!(q));
    }
    if let Some(cur) = text(order, "_transactioncurrencyid_value") {
        let code = cx.currencies.erp_code_for_id(cur, true).ok_or_else(|| {
            Ok(invalid(
                "transactioncurrencyid",
                "unknown_currency",
                format!("{record}: transactioncurrency {cur} is not a known Dataverse currency"),
            ))
        })?;
        h.insert("currencyCode".into(), json!(code));
    }
    if let Some(d) = text(order, "requestdeliveryby") {
        h.insert("requestedDeliveryDate".into(), json!(d));
    }
    mapped_codes(cx, record, order, &mut h)?;
    addresses(order, &mut h);
    Ok(h)
}

/// The sell-to customer: the account (a contact customer's parent account), or why there is
/// none.
fn customer_account(record: &str, order: &Fields) -> Result<String, Failed> {
    match text(order, CUSTOMER_ACCOUNT) {
        Some(a) => Ok(a.to_string()),
        None => {
            let reason = match (
                text(order, "_customerid_value"),
                text(order, crate::orders::aggregate::LOGICAL),
            ) {
                (None, _) => format!(
                    "{record} has no customer (customerid); set one, then `couplet errors retry`"
                ),
                (Some(c), Some("contact")) => format!(
                    "{record}: its customer is contact {c}, which has no parent account; Business Central sells to the contact's account: set parentcustomerid on the contact, then `couplet errors retry`"
                ),
                (Some(c), _) => {
                    format!("{record}: its customer {c} could not be resolved to an account")
                }
            };
            Err(Ok(invalid("customerid", "customer_unresolved", reason)))
        }
    }
}

/// Payment terms, shipment method and shipping agent, through the value maps of the
/// customer's columns in the CUSTOMER mapping.
fn mapped_codes(
    cx: &BuildContext<'_>,
    record: &str,
    order: &Fields,
    h: &mut Fields,
) -> Result<(), Failed> {
    for (crm, customer_col, erp) in [
        ("paymenttermscode", "paymenttermscode", "paymentTermsCode"),
        (
            "freighttermscode",
            "address1_freighttermscode",
            "shipmentMethodCode",
        ),
        (
            "shippingmethodcode",
            "address1_shippingmethodcode",
            "shippingAgentCode",
        ),
    ] {
        let Some(v) = order.get(crm).filter(|v| !v.is_null()) else {
            continue;
        };
        let map = cx
            .catalogue
            .get(CUSTOMER_MAPPING)
            .and_then(|m| m.fields.iter().find(|f| f.crm.display() == customer_col))
            .map(|f| f.value_map.clone())
            .unwrap_or_default();
        let code = to_erp(&map, v).map_err(|u| {
            Ok(invalid(
                crm,
                "unmapped_value",
                format!(
                    "{record}: {crm} = {} has no Business Central code in the {CUSTOMER_MAPPING} value map of {customer_col} (known: {}); add it, then `couplet errors retry`",
                    u.value, u.known
                ),
            ))
        })?;
        h.insert(erp.into(), code);
    }
    Ok(())
}

/// The bill-to and ship-to addresses, each copied only when one of its columns has a value
/// (otherwise the customer's stay).
fn addresses(order: &Fields, h: &mut Fields) {
    for (prefix, erp) in [("billto", "billTo"), ("shipto", "shipTo")] {
        let cols = [
            ("name", "Name", 100),
            ("line1", "AddressLine1", 100),
            ("line2", "AddressLine2", 50),
            ("city", "City", 30),
            ("stateorprovince", "State", 30),
            ("country", "Country", 10),
            ("postalcode", "PostCode", 20),
        ];
        // Copied only when one of them has a value; otherwise the customer's stay.
        if cols
            .iter()
            .any(|(c, _, _)| text(order, &format!("{prefix}_{c}")).is_some())
        {
            for (c, e, max) in cols {
                let v = text(order, &format!("{prefix}_{c}")).unwrap_or("");
                h.insert(format!("{erp}{e}"), json!(truncate(v, max)));
            }
        }
    }
}

/// Builds the document's lines in order: each Dataverse line (an item or a write-in, its
/// text continued on comment lines), then freight.
struct LinesBuilder<'a> {
    cx: &'a BuildContext<'a>,
    kind: &'a DocKind,
    record: &'a str,
    /// The lines built so far.
    out: Vec<Value>,
    /// The lines' net total so far (for the document discount percentage).
    total: f64,
    /// The sequence number of the last line.
    seq: i64,
}

impl LinesBuilder<'_> {
    /// The next line's sequence number.
    fn next_seq(&mut self) -> i64 {
        self.seq += 10000;
        self.seq
    }

    /// Adds Dataverse line `i` (0-based), then its comment lines.
    fn line(&mut self, i: usize, line: &Fields) -> Result<(), Failed> {
        let (record, kind) = (self.record, self.kind);
        let line_id = text(line, kind.line_id).unwrap_or("?");
        let at = format!("{record} line {} ({} {line_id})", i + 1, kind.line_entity);
        let qty = num(line, "quantity");
        let price = num(line, "priceperunit");
        let discount =
            round2(qty * num(line, "volumediscountamount") + num(line, "manualdiscountamount"));
        self.total += qty * price - discount;
        let mut l = Fields::new();
        l.insert("quantity".into(), json!(qty));
        l.insert("unitPrice".into(), json!(price));
        if discount != 0.0 {
            l.insert("discountAmount".into(), json!(discount));
        }
        l.insert("@couplet.line".into(), json!(at));
        let write_in = line.get("isproductoverridden").and_then(Value::as_bool) == Some(true)
            || text(line, "_productid_value").is_none();
        let comments = if write_in {
            self.write_in(&at, line, &mut l)?
        } else {
            self.item(&at, line, &mut l)?
        };
        l.insert("sequence".into(), json!(self.next_seq()));
        self.out.push(Value::Object(l));
        for c in comments {
            let seq = self.next_seq();
            self.out
                .push(json!({"lineType": "Comment", "description": c, "sequence": seq}));
        }
        Ok(())
    }

    /// A write-in line (no product, or its description overridden) on the configured
    /// write-in item or resource; the rest of its description, as comment lines.
    fn write_in(&self, at: &str, line: &Fields, l: &mut Fields) -> Result<Vec<String>, Failed> {
        let cx = self.cx;
        let mut comments = Vec::new();
        let Some(no) = cx.config.write_in_product.as_deref() else {
            return Err(Ok(invalid(
                "productid",
                "write_in_not_configured",
                format!(
                    "{at} contains a write-in product ('{}'); set [orders] write_in_product to the item (or resource) that write-in lines are written on, then `couplet errors retry`",
                    text(line, "productdescription").unwrap_or("")
                ),
            )));
        };
        l.insert(
            "lineType".into(),
            json!(cx.config.write_in_type.line_type()),
        );
        l.insert("lineObjectNumber".into(), json!(no));
        let desc = text(line, "description")
            .or(text(line, "productdescription"))
            .unwrap_or("");
        let mut parts = split_description(desc).into_iter();
        if let Some(first) = parts.next() {
            l.insert("description".into(), json!(first));
        }
        comments.extend(parts);
        Ok(comments)
    }

    /// An item line: the product's coupled item, and its unit; the line's description, as
    /// comment lines.
    fn item(&self, at: &str, line: &Fields, l: &mut Fields) -> Result<Vec<String>, Failed> {
        let cx = self.cx;
        let mut comments = Vec::new();
        let product = text(line, "_productid_value").unwrap_or_default();
        let item = cx
            .store
            .coupling(PRODUCT_MAPPING, Side::Crm, product)
            .map_err(Err)?
            .ok_or_else(|| {
                Ok(OrderError::Waiting {
                    waiting_for: waiting_key(PRODUCT_MAPPING, crate::systems::DATAVERSE, None, product),
                    reason: format!(
                        "{at}: productid dataverse/products/{product} is not coupled to a Business Central item ({PRODUCT_MAPPING}) yet"
                    ),
                })
            })?;
        l.insert("lineType".into(), json!("Item"));
        l.insert("itemId".into(), json!(item.erp_id));
        if let Some(uom) = text(line, "_uomid_value") {
            self.unit(at, line, uom, &item.erp_id, l)?;
        }
        // The item keeps its own description; the line's text follows as comments.
        comments.extend(split_description(text(line, "description").unwrap_or("")));
        Ok(comments)
    }

    /// The unit of an item line: Dataverse unit `uom`, coupled to a unit of `item`.
    fn unit(
        &self,
        at: &str,
        line: &Fields,
        uom: &str,
        item: &str,
        l: &mut Fields,
    ) -> Result<(), Failed> {
        let unit = self
            .cx
            .store
            .coupling(UOM_MAPPING, Side::Crm, uom)
            .map_err(Err)?
            .ok_or_else(|| {
                Ok(OrderError::Waiting {
                    waiting_for: waiting_key(UOM_MAPPING, crate::systems::DATAVERSE, None, uom),
                    reason: format!(
                        "{at}: uomid dataverse/uoms/{uom} is not coupled to a Business Central unit ({UOM_MAPPING}) yet"
                    ),
                })
            })?;
        if unit.erp_id != item {
            return Err(Ok(invalid(
                "uomid",
                "unit_of_other_item",
                format!(
                    "{at}: unit '{}' is the unit of Business Central item {}, not of the line's item {}; choose the product's unit, then `couplet errors retry`",
                    text(line, UOM_NAME).unwrap_or(uom),
                    unit.erp_id,
                    item
                ),
            )));
        }
        if let Some(code) = text(line, UOM_NAME) {
            l.insert("unitOfMeasureCode".into(), json!(code));
        }
        Ok(())
    }

    /// A freight line on the configured G/L account, when the document has freight.
    fn freight(&mut self, order: &Fields) -> Result<(), Failed> {
        let (cx, record) = (self.cx, self.record);
        let freight = num(order, "freightamount");
        if freight > 0.0 {
            let Some(acc) = cx.config.freight_account.as_deref() else {
                return Err(Ok(invalid(
                    "freightamount",
                    "freight_account_not_configured",
                    format!(
                        "{record} has freight ({freight}); set [orders] freight_account to the G/L account freight is charged on, then `couplet errors retry`"
                    ),
                )));
            };
            let seq = self.next_seq();
            self.out.push(json!({
                "lineType": "Account", "lineObjectNumber": acc, "description": "Freight",
                "quantity": 1, "unitPrice": freight, "sequence": seq,
                "@couplet.line": format!("{record} freightamount"),
            }));
        }
        Ok(())
    }
}
