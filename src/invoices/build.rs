//! Building a Dataverse invoice (header and lines) from an ERP posted invoice read whole (in
//! the flows' terms, [`PostedInvoice`]), resolving every reference through couplings. Pure:
//! reads the projection only.
//!
//! - Customer: the account coupled to the sell-to customer (CUSTOMER); not coupled parks the
//!   invoice.
//! - Order: the Dataverse order coupled to the invoice's order (SALESORDER); otherwise the
//!   apply stage looks the order up by Your Reference = `ordernumber`.
//! - Lines in `sequence` order: an item coupled to a product (ITEM-PRODUCT) whose unit is
//!   coupled (ITEM UOM) is a product line; any other line (an uncoupled item, a G/L account, a
//!   resource, a charge) is a write-in line named `"<No.> <Description>"`. Comment lines carry
//!   no amount and are not written.

use serde_json::{Value, json};

use super::error::InvoiceError;
use super::state::of_payment;
use crate::event::Fields;
use crate::event::{Side, System};
use crate::store::{Store, StoreError};
use crate::systems::documents::{PostedInvoice, PostedInvoiceLine};
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
/// The ERP customer id (for the account statistics).
pub const CUSTOMER_ID: &str = "@couplet.customerId";
/// The Dataverse account id.
pub const ACCOUNT: &str = "@couplet.account";
/// On a line: the line in words, for messages.
pub const LINE_LABEL: &str = "@couplet.line";

/// What the builder reads.
pub struct BuildContext<'a> {
    /// Couplings.
    pub store: &'a Store,
    /// Currency ids ↔ codes.
    pub currencies: &'a CurrencyTable,
    /// The ERP the invoice was posted in.
    pub erp: System,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The write-in name an ERP line that cannot be coupled gets, as Business Central names it:
/// `"<No.> <Description>"`.
pub fn write_in_name(line: &PostedInvoiceLine) -> String {
    let name = [line.object_number.as_deref(), line.description.as_deref()]
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
    invoice: &PostedInvoice,
) -> Result<Fields, Result<InvoiceError, StoreError>> {
    let Some(number) = invoice.number.clone() else {
        return Err(Ok(InvoiceError::Invalid {
            field: "number".into(),
            reason: format!(
                "{record} has no number; {} numbers every posted invoice, so the record read is incomplete",
                cx.erp
            ),
            class: "malformed",
        }));
    };
    let mut h = Fields::new();
    let (account, customer_id) = account(cx, record, &number, invoice)?;
    h.insert("invoicenumber".into(), json!(number));
    h.insert("name".into(), json!(number));
    h.insert(
        "customerid_account@odata.bind".into(),
        json!(format!("/accounts({account})")),
    );
    // Currency (none: the local currency).
    let code = invoice.currency_code.as_deref().unwrap_or("");
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
    if let Some(order_id) = &invoice.order_id
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
    if let Some(due) = &invoice.due_date {
        h.insert("duedate".into(), json!(due));
    }
    h.insert("ispricelocked".into(), json!(true));
    // Lines.
    let mut out = Vec::new();
    let mut base_total = 0.0;
    for (i, line) in invoice.lines.iter().enumerate() {
        if line.comment {
            continue;
        }
        let (l, base) = line_fields(cx, line, i, &currency_bind)?;
        base_total += base;
        out.push(Value::Object(l));
    }
    h.insert("totallineitemamount".into(), json!(round2(base_total)));
    h.insert("discountamount".into(), json!(invoice.discount_amount));
    h.insert("totaltax".into(), json!(invoice.total_tax));
    h.insert("totalamount".into(), json!(invoice.total_including_tax));
    let (state, status) = of_payment(invoice.payment);
    h.insert("statecode".into(), json!(state));
    h.insert("statuscode".into(), json!(status));
    h.insert(INVOICE_LINES.into(), Value::Array(out));
    h.insert(
        YOUR_REFERENCE.into(),
        json!(invoice.your_reference.as_deref().unwrap_or("")),
    );
    h.insert(CUSTOMER_ID.into(), json!(customer_id));
    h.insert(ACCOUNT.into(), json!(account));
    Ok(h)
}

/// The Dataverse account coupled to the invoice's sell-to customer, and the customer's ERP
/// id; not coupled yet parks the invoice.
fn account(
    cx: &BuildContext<'_>,
    record: &str,
    number: &str,
    invoice: &PostedInvoice,
) -> Result<(String, String), Result<InvoiceError, StoreError>> {
    let Some(customer_id) = invoice.customer_id.clone() else {
        return Err(Ok(InvoiceError::Invalid {
            field: "customerId".into(),
            reason: format!("{record} (invoice {number}) has no sell-to customer"),
            class: "customer_unresolved",
        }));
    };
    let customer_no = invoice.customer_number.as_deref().unwrap_or("?");
    let account = cx
        .store
        .coupling(CUSTOMER_MAPPING, Side::Erp, &customer_id)
        .map_err(Err)?
        .ok_or_else(|| {
            Ok(InvoiceError::Waiting {
                waiting_for: waiting_key(CUSTOMER_MAPPING, cx.erp, None, &customer_id),
                reason: format!(
                    "customerId: customer {customer_no} ({}/{customer_id}) is not coupled to a Dataverse account ({CUSTOMER_MAPPING}) yet",
                    cx.erp
                ),
            })
        })?
        .crm_id;
    Ok((account, customer_id))
}

/// A Dataverse invoice line for ERP line `line` (the `i`th of the invoice), and its base
/// amount: a product line when its item is coupled to a product whose unit is coupled, a
/// write-in line otherwise.
fn line_fields(
    cx: &BuildContext<'_>,
    line: &PostedInvoiceLine,
    i: usize,
    currency_bind: &Value,
) -> Result<(Fields, f64), Result<InvoiceError, StoreError>> {
    let seq = line.sequence;
    let mut l = Fields::new();
    l.insert(
        LINE_LABEL.into(),
        json!(format!(
            "line {seq} ({} {})",
            line.type_name,
            line.object_number.as_deref().unwrap_or("")
        )),
    );
    l.insert("lineitemnumber".into(), json!(seq));
    l.insert("sequencenumber".into(), json!(i as i64 + 1));
    let product = match &line.item_id {
        Some(item) => {
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
        None => None,
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
    let base = round2(line.quantity * line.unit_price);
    l.insert("quantity".into(), json!(line.quantity));
    l.insert("priceperunit".into(), json!(line.unit_price));
    l.insert("ispriceoverridden".into(), json!(true));
    l.insert("baseamount".into(), json!(base));
    l.insert("manualdiscountamount".into(), json!(line.discount_amount));
    l.insert("tax".into(), json!(line.tax));
    l.insert("extendedamount".into(), json!(line.amount_including_tax));
    l.insert(
        "transactioncurrencyid@odata.bind".into(),
        currency_bind.clone(),
    );
    Ok((l, base))
}
