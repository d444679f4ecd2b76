//! Building a Dataverse invoice (header and lines) from a Business Central posted invoice
//! aggregate, resolving every reference through couplings. Pure: reads the projection only.
//!
//! - Customer: the account coupled to the sell-to customer (CUSTOMER); not coupled parks the
//!   invoice.
//! - Order: the Dataverse order coupled to the invoice's `orderId` (SALESORDER); otherwise the
//!   apply stage looks the order up by Your Reference = `ordernumber`.
//! - Lines in `sequence` order: an item coupled to a product (ITEM-PRODUCT) whose unit is
//!   coupled (ITEM UOM) is a product line; any other line (an uncoupled item, a G/L account, a
//!   resource, a charge) is a write-in line named `"<No.> <Description>"`. Comment lines carry
//!   no amount and are not written.

use serde_json::{Value, json};

use super::error::InvoiceError;
use super::state::of_bc_invoice;
use crate::event::Fields;
use crate::event::Side;
use crate::store::{Store, StoreError};
use crate::transform::CurrencyTable;
use crate::transform::fields::waiting_key;

/// The mapping whose couplings resolve the customer.
pub const CUSTOMER_MAPPING: &str = "CUSTOMER";
/// The mapping whose couplings resolve the order the invoice came from.
pub const ORDER_MAPPING: &str = "SALESORDER";
/// The mapping whose couplings resolve an item to a product.
pub const PRODUCT_MAPPING: &str = "ITEM-PRODUCT";
/// The mapping whose couplings resolve an item's (base) unit.
pub const UOM_MAPPING: &str = "ITEM UOM";
/// The key of the lines array in a built invoice.
pub const INVOICE_LINES: &str = "invoicedetails";
/// Your Reference of the invoice (the Dataverse order number), for the order lookup.
pub const YOUR_REFERENCE: &str = "@couplet.yourReference";
/// The Business Central customer id (for the account statistics).
pub const CUSTOMER_ID: &str = "@couplet.customerId";
/// The Dataverse account id.
pub const ACCOUNT: &str = "@couplet.account";
/// On a line: the line in words, for messages.
pub const LINE_LABEL: &str = "@couplet.line";

/// The GUID Business Central shows for "no record".
const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// What the builder reads.
pub struct BuildContext<'a> {
    /// Couplings.
    pub store: &'a Store,
    /// Currency ids ↔ codes.
    pub currencies: &'a CurrencyTable,
}

fn text<'a>(f: &'a Fields, k: &str) -> Option<&'a str> {
    f.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != EMPTY_GUID)
}

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The write-in name Business Central gives a line it cannot couple: `"<No.> <Description>"`.
pub fn write_in_name(line: &Fields) -> String {
    let name = [text(line, "lineObjectNumber"), text(line, "description")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    name.chars().take(500).collect()
}

/// Builds the invoice. `Err(Ok(e))` is why it cannot be built (parked or invalid);
/// `Err(Err(_))` a broken projection.
pub fn build(
    cx: &BuildContext<'_>,
    record: &str,
    invoice: &Fields,
) -> Result<Fields, Result<InvoiceError, StoreError>> {
    let number = text(invoice, "number").unwrap_or_default().to_string();
    if number.is_empty() {
        return Err(Ok(InvoiceError::Invalid {
            field: "number".into(),
            reason: format!(
                "{record} has no number; Business Central always numbers posted invoices, so the record read is incomplete"
            ),
            class: "malformed",
        }));
    }
    let mut h = Fields::new();
    // Customer.
    let Some(customer_id) = text(invoice, "customerId").map(str::to_string) else {
        return Err(Ok(InvoiceError::Invalid {
            field: "customerId".into(),
            reason: format!("{record} (invoice {number}) has no sell-to customer"),
            class: "customer_unresolved",
        }));
    };
    let customer_no = text(invoice, "customerNumber").unwrap_or("?");
    let account = cx
        .store
        .coupling(CUSTOMER_MAPPING, Side::Erp, &customer_id)
        .map_err(Err)?
        .ok_or_else(|| {
            Ok(InvoiceError::Waiting {
                waiting_for: waiting_key(CUSTOMER_MAPPING, crate::systems::BC, None, &customer_id),
                reason: format!(
                    "customerId: customer {customer_no} (bc/customers/{customer_id}) is not coupled to a Dataverse account ({CUSTOMER_MAPPING}) yet"
                ),
            })
        })?
        .crm_id;
    h.insert("invoicenumber".into(), json!(number));
    h.insert("name".into(), json!(number));
    h.insert(
        "customerid_account@odata.bind".into(),
        json!(format!("/accounts({account})")),
    );
    // Currency (blank: the local currency).
    let code = text(invoice, "currencyCode").unwrap_or("");
    let currency = cx.currencies.id_for_erp_code(code).ok_or_else(|| {
        Ok(InvoiceError::Invalid {
            field: "currencyCode".into(),
            reason: format!(
                "{record} (invoice {number}): currency '{code}' has no transactioncurrency in Dataverse with that ISO code; create it there, then `couplet errors retry`"
            ),
            class: "unknown_currency",
        })
    })?;
    let currency_bind = json!(format!("/transactioncurrencies({currency})"));
    h.insert(
        "transactioncurrencyid@odata.bind".into(),
        currency_bind.clone(),
    );
    // The order it came from.
    if let Some(order_id) = text(invoice, "orderId")
        && let Some(c) = cx
            .store
            .coupling(ORDER_MAPPING, Side::Erp, order_id)
            .map_err(Err)?
    {
        h.insert(
            "salesorderid@odata.bind".into(),
            json!(format!("/salesorders({})", c.crm_id)),
        );
    }
    if let Some(due) = text(invoice, "dueDate") {
        h.insert("duedate".into(), json!(due.get(..10).unwrap_or(due)));
    }
    h.insert("ispricelocked".into(), json!(true));
    // Lines.
    let lines = invoice
        .get(super::LINES)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut base_total = 0.0;
    for (i, line) in lines.iter().filter_map(Value::as_object).enumerate() {
        let line_type = text(line, "lineType").unwrap_or("Comment");
        if line_type == "Comment" {
            continue;
        }
        let seq = num(line, "sequence") as i64;
        let mut l = Fields::new();
        l.insert(
            LINE_LABEL.into(),
            json!(format!(
                "line {seq} ({line_type} {})",
                text(line, "lineObjectNumber").unwrap_or("")
            )),
        );
        l.insert("lineitemnumber".into(), json!(seq));
        l.insert("sequencenumber".into(), json!(i as i64 + 1));
        let product = match (line_type, text(line, "itemId")) {
            ("Item", Some(item)) => {
                let p = cx
                    .store
                    .coupling(PRODUCT_MAPPING, Side::Erp, item)
                    .map_err(Err)?;
                let u = cx
                    .store
                    .coupling(UOM_MAPPING, Side::Erp, item)
                    .map_err(Err)?;
                p.zip(u).map(|(p, u)| (p.crm_id, u.crm_id))
            }
            _ => None,
        };
        match product {
            Some((product, uom)) => {
                l.insert(
                    "productid@odata.bind".into(),
                    json!(format!("/products({product})")),
                );
                l.insert("uomid@odata.bind".into(), json!(format!("/uoms({uom})")));
                l.insert("isproductoverridden".into(), json!(false));
            }
            None => {
                l.insert("isproductoverridden".into(), json!(true));
                l.insert("productdescription".into(), json!(write_in_name(line)));
            }
        }
        let qty = num(line, "quantity");
        let price = num(line, "unitPrice");
        let base = round2(qty * price);
        base_total += base;
        l.insert("quantity".into(), json!(qty));
        l.insert("priceperunit".into(), json!(price));
        l.insert("ispriceoverridden".into(), json!(true));
        l.insert("baseamount".into(), json!(base));
        l.insert(
            "manualdiscountamount".into(),
            json!(num(line, "discountAmount")),
        );
        l.insert("tax".into(), json!(num(line, "totalTaxAmount")));
        l.insert(
            "extendedamount".into(),
            json!(num(line, "amountIncludingTax")),
        );
        l.insert(
            "transactioncurrencyid@odata.bind".into(),
            currency_bind.clone(),
        );
        out.push(Value::Object(l));
    }
    h.insert("totallineitemamount".into(), json!(round2(base_total)));
    h.insert(
        "discountamount".into(),
        json!(num(invoice, "discountAmount")),
    );
    h.insert("totaltax".into(), json!(num(invoice, "totalTaxAmount")));
    h.insert(
        "totalamount".into(),
        json!(num(invoice, "totalAmountIncludingTax")),
    );
    let (state, status) = of_bc_invoice(invoice);
    h.insert("statecode".into(), json!(state));
    h.insert("statuscode".into(), json!(status));
    h.insert(INVOICE_LINES.into(), Value::Array(out));
    h.insert(
        YOUR_REFERENCE.into(),
        json!(text(invoice, "yourReference").unwrap_or("")),
    );
    h.insert(CUSTOMER_ID.into(), json!(customer_id));
    h.insert(ACCOUNT.into(), json!(account));
    Ok(h)
}
