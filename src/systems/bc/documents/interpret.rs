//! Business Central's documents in the generic flows' terms: a sales order read whole
//! (`salesOrders` with its lines, posted shipments and invoices, as [`super::order_read`]
//! completes it) as an [`ErpOrder`], and a posted invoice (`salesInvoices` with its
//! `salesInvoiceLines`) as a [`PostedInvoice`], its payment state as BC's
//! `UpdateStatusOfPaidInvoices` decides it.

use serde_json::Value;

use crate::event::Fields;
use crate::orders::back::{DELETED, INVOICES, LINES, SHIPMENTS};
use crate::systems::documents::{
    ErpOrder, ErpOrderLine, ErpOrderStatus, PaymentState, PostedDocument, PostedInvoice,
    PostedInvoiceLine,
};

/// How Business Central is named in the CRM's posts.
pub const NAME: &str = "Business Central";

/// The GUID Business Central shows for "no record".
const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

fn text(f: &Fields, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A text that is there: trimmed, neither blank nor the empty GUID.
fn some_text(f: &Fields, k: &str) -> Option<String> {
    f.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != EMPTY_GUID)
        .map(str::to_string)
}

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn rows<'a>(f: &'a Fields, k: &str) -> Vec<&'a Fields> {
    f.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default()
}

/// A Business Central date (`2024-05-31`, or a timestamp) as a date; BC's blank date
/// (`0001-01-01`) is none.
fn date(f: &Fields, k: &str) -> Option<String> {
    let v = text(f, k);
    let d = v.get(..10)?;
    (chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() && !d.starts_with("0001-"))
        .then(|| d.to_string())
}

fn posted(f: &Fields, k: &str) -> Vec<PostedDocument> {
    rows(f, k)
        .into_iter()
        .map(|r| PostedDocument {
            number: text(r, "number"),
        })
        .collect()
}

fn amount(f: &Fields, k: &str) -> Option<serde_json::Number> {
    match f.get(k) {
        Some(Value::Number(n)) => Some(n.clone()),
        _ => None,
    }
}

/// A Business Central sales order (the captured fields, completed by
/// [`super::order_read::complete`]) as the order flow reads it.
pub fn order(f: &Fields) -> ErpOrder {
    ErpOrder {
        erp_name: NAME,
        number: text(f, "number"),
        your_reference: text(f, "yourReference"),
        customer_id: f
            .get("customerId")
            .and_then(Value::as_str)
            .map(str::to_string),
        status: match text(f, "status").as_str() {
            "Open" => ErpOrderStatus::Open,
            "Released" => ErpOrderStatus::Released,
            _ => ErpOrderStatus::Other,
        },
        deleted: f.get(DELETED).and_then(Value::as_bool) == Some(true),
        fully_shipped: f.get("fullyShipped").and_then(Value::as_bool) == Some(true),
        last_shipment_date: date(f, "lastShipmentDate"),
        requested_delivery_date: date(f, "requestedDeliveryDate"),
        total_excluding_tax: amount(f, "totalAmountExcludingTax"),
        total_including_tax: amount(f, "totalAmountIncludingTax"),
        lines: rows(f, LINES)
            .into_iter()
            .map(|l| ErpOrderLine {
                comment: text(l, "lineType") == "Comment",
                quantity: num(l, "quantity"),
                invoiced_quantity: num(l, "invoicedQuantity"),
            })
            .collect(),
        shipments: posted(f, SHIPMENTS),
        invoices: posted(f, INVOICES),
    }
}

/// The payment state of a Business Central posted invoice: cancelled; nothing remaining is
/// paid; something paid is partly paid (to the cent); otherwise unpaid.
pub fn payment(invoice: &Fields) -> PaymentState {
    let cents = |x: f64| (x * 100.0).round() as i64;
    let status = invoice.get("status").and_then(Value::as_str).unwrap_or("");
    if status == "Canceled" {
        return PaymentState::Canceled;
    }
    let remaining = cents(num(invoice, "remainingAmount"));
    let amount = cents(num(invoice, "totalAmountIncludingTax"));
    if remaining == 0 {
        PaymentState::Paid
    } else if remaining != amount {
        PaymentState::PartlyPaid
    } else {
        PaymentState::Unpaid
    }
}

fn invoice_line(line: &Fields) -> PostedInvoiceLine {
    let type_name = some_text(line, "lineType").unwrap_or_else(|| "Comment".to_string());
    PostedInvoiceLine {
        comment: type_name == "Comment",
        item_id: (type_name == "Item")
            .then(|| some_text(line, "itemId"))
            .flatten(),
        type_name,
        sequence: num(line, "sequence") as i64,
        object_number: some_text(line, "lineObjectNumber"),
        description: some_text(line, "description"),
        quantity: num(line, "quantity"),
        unit_price: num(line, "unitPrice"),
        discount_amount: num(line, "discountAmount"),
        tax: num(line, "totalTaxAmount"),
        amount_including_tax: num(line, "amountIncludingTax"),
    }
}

/// A Business Central posted invoice (with its lines under `crate::invoices::LINES`, as
/// [`super::invoice_read::complete`] reads them) as the invoice flow reads it.
pub fn posted_invoice(f: &Fields) -> PostedInvoice {
    PostedInvoice {
        number: some_text(f, "number"),
        customer_id: some_text(f, "customerId"),
        customer_number: some_text(f, "customerNumber"),
        currency_code: some_text(f, "currencyCode"),
        order_id: some_text(f, "orderId"),
        due_date: some_text(f, "dueDate").map(|d| d.get(..10).unwrap_or(&d).to_string()),
        your_reference: some_text(f, "yourReference"),
        discount_amount: num(f, "discountAmount"),
        total_tax: num(f, "totalTaxAmount"),
        total_including_tax: num(f, "totalAmountIncludingTax"),
        payment: payment(f),
        lines: rows(f, crate::invoices::LINES)
            .into_iter()
            .map(invoice_line)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inv(status: &str, total: f64, remaining: f64) -> Fields {
        json!({"status": status, "totalAmountIncludingTax": total, "remainingAmount": remaining})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn payment_follows_bc() {
        assert_eq!(payment(&inv("Open", 100.0, 100.0)), PaymentState::Unpaid);
        assert_eq!(payment(&inv("Open", 100.0, 40.0)), PaymentState::PartlyPaid);
        assert_eq!(payment(&inv("Paid", 100.0, 0.0)), PaymentState::Paid);
        assert_eq!(
            payment(&inv("Canceled", 100.0, 0.0)),
            PaymentState::Canceled
        );
        // Rounding noise is not a payment.
        assert_eq!(
            payment(&inv("Open", 100.1, 100.100_000_1)),
            PaymentState::Unpaid
        );
    }

    #[test]
    fn blank_dates_and_the_empty_guid_are_none() {
        let o = order(
            &json!({"number": " S-1 ", "status": "Released",
                "lastShipmentDate": "0001-01-01", "requestedDeliveryDate": "2026-12-24T00:00:00Z"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        );
        assert_eq!(o.number, "S-1");
        assert_eq!(o.status, ErpOrderStatus::Released);
        assert_eq!(o.last_shipment_date, None);
        assert_eq!(o.requested_delivery_date.as_deref(), Some("2026-12-24"));
        let i = posted_invoice(
            &json!({"number": "PS-1", "customerId": EMPTY_GUID, "dueDate": "2027-01-06"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        assert_eq!(i.customer_id, None);
        assert_eq!(i.due_date.as_deref(), Some("2027-01-06"));
        assert_eq!(i.payment, PaymentState::Paid);
    }
}
