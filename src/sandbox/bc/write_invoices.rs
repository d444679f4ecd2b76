//! Posted sales invoices in the Business Central emulator: posting (header, lines, totals,
//! remaining amount, the customer's balance), customer payments applied to an invoice, and
//! cancellation. These stand for BC's posting routine, a posted customer payment journal line
//! applied to the invoice, and "Cancel" on a posted invoice (a corrective credit memo); the
//! API pages over posted invoices are read-only.

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::write::{EMPTY_GUID, find_by, not_in_related};
use super::{BcError, timestamp};
use crate::event::Fields;
use crate::sandbox::invoices::{InvoiceLine, InvoiceToPost, PostedInvoice};
use crate::sandbox::table::Store;

/// The posted invoice pages.
pub(crate) const INVOICES: &str = "salesInvoices";
/// The posted invoice line pages.
pub(crate) const LINES: &str = "salesInvoiceLines";

/// True for the entity sets of posted invoices (read-only through the API).
pub(crate) fn is_posted_set(set: &str) -> bool {
    set == INVOICES || set == LINES
}

/// The error of a write to a posted invoice through the API.
pub(crate) fn posted_read_only() -> BcError {
    dialog("The invoice has been posted and it cannot be modified.")
}

fn dialog(message: impl Into<String>) -> BcError {
    BcError::new(
        StatusCode::BAD_REQUEST,
        "Application_DialogException",
        message,
    )
}

fn text(f: &Fields, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn date(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

/// Adds `delta` to a customer's `balanceDue`. A FlowField in Business Central: the customer's
/// version and `lastModifiedDateTime` do not move.
fn add_balance(store: &mut Store, customer_id: &str, delta: f64) {
    let Some(row) = store.table("customers").and_then(|t| t.get(customer_id)) else {
        return;
    };
    let mut fields = row.fields.clone();
    let version = row.version;
    let balance = round2(num(&fields, "balanceDue") + delta);
    fields.insert("balanceDue".into(), json!(balance));
    store
        .table_mut("customers")
        .put(customer_id, fields, version);
}

fn line_row(
    store: &Store,
    doc_number: &str,
    sequence: i64,
    l: &InvoiceLine,
) -> Result<Fields, BcError> {
    let line_type = if l.line_type.trim().is_empty() {
        "Item".to_string()
    } else {
        l.line_type.trim().to_string()
    };
    let Some(canon) = super::schema_orders::LINE_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&line_type))
    else {
        return Err(BcError::bad_request(format!(
            "The value '{line_type}' is not valid for the field 'lineType' on type 'Microsoft.NAV.salesInvoiceLine'. Valid values are: {}.",
            super::schema_orders::LINE_TYPES.join(", ")
        )));
    };
    let at = format!(
        "Sales Line: Document Type=Invoice, Document No.={doc_number}, Line No.={sequence}"
    );
    let mut f = Fields::new();
    f.insert("sequence".into(), json!(sequence));
    f.insert("lineType".into(), json!(canon));
    f.insert("itemId".into(), json!(EMPTY_GUID));
    f.insert("accountId".into(), json!(EMPTY_GUID));
    let mut description = l.description.trim().to_string();
    let mut unit = l.unit_of_measure.trim().to_string();
    let number = l.number.trim().to_string();
    match *canon {
        "Item" => {
            if number.is_empty() {
                return Err(dialog(format!("No. must have a value in {at}")));
            }
            let (item_id, item) = find_by(store, "items", "number", &number)
                .ok_or_else(|| not_in_related("No.", "Sales Line", &number, "Item"))?;
            f.insert("itemId".into(), json!(item_id));
            if description.is_empty() {
                description = text(&item, "displayName");
            }
            if unit.is_empty() {
                unit = text(&item, "baseUnitOfMeasureCode");
            }
        }
        "Comment" => {}
        _ if number.is_empty() => return Err(dialog(format!("No. must have a value in {at}"))),
        _ => {}
    }
    f.insert("lineObjectNumber".into(), json!(number));
    f.insert(
        "description".into(),
        json!(description.chars().take(100).collect::<String>()),
    );
    f.insert("unitOfMeasureCode".into(), json!(unit));
    let (qty, price, disc) = if *canon == "Comment" {
        (0.0, 0.0, 0.0)
    } else {
        if l.quantity <= 0.0 {
            return Err(BcError::new(
                StatusCode::BAD_REQUEST,
                "Application_FieldValidationException",
                format!(
                    "The field Quantity of table Sales Line must be positive ({}) in {at}.",
                    l.quantity
                ),
            ));
        }
        (l.quantity, l.unit_price, l.discount_amount)
    };
    let gross = qty * price;
    let amount = round2(gross - disc);
    let tax = round2(amount * l.tax_percent / 100.0);
    f.insert("quantity".into(), json!(qty));
    f.insert("unitPrice".into(), json!(price));
    f.insert("discountAmount".into(), json!(disc));
    let pct = if gross > 0.0 {
        round2(disc / gross * 100.0)
    } else {
        0.0
    };
    f.insert("discountPercent".into(), json!(pct));
    f.insert("amountExcludingTax".into(), json!(amount));
    f.insert("taxPercent".into(), json!(l.tax_percent));
    f.insert("totalTaxAmount".into(), json!(tax));
    f.insert("amountIncludingTax".into(), json!(round2(amount + tax)));
    Ok(f)
}

/// Posts an invoice: checks the customer (exists, not blocked for invoicing) and the lines
/// (something to post, items exist, quantities positive), then stores the header and lines.
pub(crate) fn post(
    store: &mut Store,
    inv: &InvoiceToPost,
    at: DateTime<Utc>,
) -> Result<PostedInvoice, BcError> {
    post_with_ids(store, inv, at, &mut || uuid::Uuid::new_v4().to_string())
}

/// [`post`] with the ids of the header and lines from `new_id` (deterministic seeding).
pub(crate) fn post_with_ids(
    store: &mut Store,
    inv: &InvoiceToPost,
    at: DateTime<Utc>,
    new_id: &mut dyn FnMut() -> String,
) -> Result<PostedInvoice, BcError> {
    let cnum = inv.customer_number.trim();
    let (customer_id, customer) = find_by(store, "customers", "number", cnum)
        .ok_or_else(|| not_in_related("Sell-to Customer No.", "Sales Header", cnum, "Customer"))?;
    let cnum = text(&customer, "number");
    let blocked = text(&customer, "blocked");
    if blocked == "All" || blocked == "Invoice" {
        return Err(dialog(format!(
            "You cannot post this type of document when Customer {cnum} is blocked with type {blocked}"
        )));
    }
    if inv
        .lines
        .iter()
        .all(|l| l.line_type.trim().eq_ignore_ascii_case("Comment"))
    {
        return Err(dialog("There is nothing to post."));
    }
    let number = next_number(store);
    let mut lines = Vec::new();
    for (i, l) in inv.lines.iter().enumerate() {
        lines.push(line_row(store, &number, (i as i64 + 1) * 10000, l)?);
    }
    let posting = inv.posting_date.unwrap_or_else(|| at.date_naive());
    let due = inv
        .due_date
        .unwrap_or_else(|| posting + chrono::Duration::days(30));
    let excl = round2(lines.iter().map(|l| num(l, "amountExcludingTax")).sum());
    let tax = round2(lines.iter().map(|l| num(l, "totalTaxAmount")).sum());
    let incl = round2(excl + tax);
    let id = new_id();
    let stamp = json!(timestamp(at));
    let mut h = Fields::new();
    h.insert("id".into(), json!(id));
    h.insert("number".into(), json!(number));
    h.insert(
        "externalDocumentNumber".into(),
        json!(inv.external_document_number.trim()),
    );
    let order = inv.order.clone().unwrap_or_default();
    h.insert("yourReference".into(), json!(order.your_reference.trim()));
    h.insert("invoiceDate".into(), date(posting));
    h.insert("postingDate".into(), date(posting));
    h.insert("dueDate".into(), date(due));
    h.insert(
        "customerPurchaseOrderReference".into(),
        json!(inv.external_document_number.trim()),
    );
    h.insert("customerId".into(), json!(customer_id));
    h.insert("customerNumber".into(), json!(cnum));
    h.insert("customerName".into(), json!(text(&customer, "displayName")));
    let order_id = if order.id.trim().is_empty() {
        EMPTY_GUID.to_string()
    } else {
        order.id.trim().to_ascii_lowercase()
    };
    h.insert("orderId".into(), json!(order_id));
    h.insert("orderNumber".into(), json!(order.number.trim()));
    h.insert(
        "currencyId".into(),
        customer
            .get("currencyId")
            .cloned()
            .unwrap_or(json!(EMPTY_GUID)),
    );
    h.insert(
        "currencyCode".into(),
        json!(text(&customer, "currencyCode")),
    );
    h.insert("pricesIncludeTax".into(), json!(false));
    h.insert("discountAmount".into(), json!(0));
    h.insert("totalAmountExcludingTax".into(), json!(excl));
    h.insert("totalTaxAmount".into(), json!(tax));
    h.insert("totalAmountIncludingTax".into(), json!(incl));
    h.insert("remainingAmount".into(), json!(incl));
    h.insert(
        "status".into(),
        json!(if incl > 0.0 { "Open" } else { "Paid" }),
    );
    h.insert("lastModifiedDateTime".into(), stamp.clone());
    for mut l in lines {
        let lid = new_id();
        l.insert("id".into(), json!(lid));
        l.insert("documentId".into(), json!(id));
        l.insert("lastModifiedDateTime".into(), stamp.clone());
        let v = store.next_version();
        store.table_mut(LINES).put(&lid, l, v);
    }
    let v = store.next_version();
    store.table_mut(INVOICES).put(&id, h, v);
    add_balance(store, &customer_id, incl);
    Ok(PostedInvoice { id, number })
}

fn next_number(store: &Store) -> String {
    let max = store
        .table(INVOICES)
        .map(|t| {
            t.live()
                .iter()
                .filter_map(|(_, r)| {
                    r.fields
                        .get("number")
                        .and_then(Value::as_str)?
                        .strip_prefix("PS-INV")?
                        .parse::<u64>()
                        .ok()
                })
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    format!("PS-INV{:06}", max + 1)
}

fn invoice(store: &Store, id: &str) -> Result<Fields, BcError> {
    store
        .table(INVOICES)
        .and_then(|t| t.get(id))
        .map(|r| r.fields.clone())
        .ok_or_else(|| BcError::not_found("Sales Invoice Header", id))
}

fn save(store: &mut Store, id: &str, mut fields: Fields, at: DateTime<Utc>) {
    fields.insert("lastModifiedDateTime".into(), json!(timestamp(at)));
    let v = store.next_version();
    store.table_mut(INVOICES).put(id, fields, v);
}

/// Applies a customer payment of `amount` to the open invoice `id`; returns the remaining
/// amount. The invoice becomes `Paid` when nothing remains.
pub(crate) fn pay(
    store: &mut Store,
    id: &str,
    amount: f64,
    at: DateTime<Utc>,
) -> Result<f64, BcError> {
    let mut f = invoice(store, id)?;
    let number = text(&f, "number");
    let status = text(&f, "status");
    if status != "Open" {
        return Err(dialog(format!(
            "Posted sales invoice {number} is {status}: there is no open amount to apply a payment to."
        )));
    }
    let remaining = num(&f, "remainingAmount");
    if amount.is_nan() || amount <= 0.0 || round2(amount) > round2(remaining) {
        return Err(dialog(format!(
            "The payment of {amount} cannot be applied to posted sales invoice {number}: it must be positive and at most the remaining amount {remaining}."
        )));
    }
    let left = round2(remaining - amount);
    f.insert("remainingAmount".into(), json!(left));
    if left <= 0.0 {
        f.insert("status".into(), json!("Paid"));
    }
    let customer = text(&f, "customerId");
    save(store, id, f, at);
    add_balance(store, &customer, -amount);
    Ok(left)
}

/// Cancels the unpaid posted invoice `id` (a corrective credit memo closes it): status
/// `Canceled`, nothing remaining.
pub(crate) fn cancel(store: &mut Store, id: &str, at: DateTime<Utc>) -> Result<(), BcError> {
    let mut f = invoice(store, id)?;
    let number = text(&f, "number");
    let status = text(&f, "status");
    let remaining = num(&f, "remainingAmount");
    let total = num(&f, "totalAmountIncludingTax");
    if status == "Canceled" {
        return Err(dialog(format!(
            "Posted sales invoice {number} has already been cancelled."
        )));
    }
    if status != "Open" || round2(remaining) != round2(total) {
        return Err(dialog(format!(
            "You cannot cancel posted sales invoice {number} because it is fully or partially paid."
        )));
    }
    f.insert("remainingAmount".into(), json!(0));
    f.insert("status".into(), json!("Canceled"));
    let customer = text(&f, "customerId");
    save(store, id, f, at);
    add_balance(store, &customer, -remaining);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::schema::CUSTOMER;
    use super::super::schema_sales::ITEM;
    use super::super::write::{create, validate};
    use super::*;
    use crate::sandbox::invoices::SourceOrder;

    fn obj(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn setup() -> (Store, String) {
        let mut s = Store::default();
        let now = Utc::now();
        let c = create(
            &mut s,
            &CUSTOMER,
            validate(&CUSTOMER, &obj(json!({"displayName":"Adatum"}))).unwrap(),
            now,
        )
        .unwrap();
        create(
            &mut s,
            &ITEM,
            validate(
                &ITEM,
                &obj(json!({"number":"I1","displayName":"Cable","baseUnitOfMeasureCode":"PCS"})),
            )
            .unwrap(),
            now,
        )
        .unwrap();
        (s, c)
    }

    fn row(s: &Store, set: &str, id: &str) -> Fields {
        s.table(set).unwrap().get(id).unwrap().fields.clone()
    }

    #[test]
    fn post_pay_and_cancel() {
        let (mut s, cust) = setup();
        let before = num(&row(&s, "customers", &cust), "balanceDue");
        let cust_version = s.table("customers").unwrap().get(&cust).unwrap().version;
        let inv = InvoiceToPost {
            customer_number: "C00001".into(),
            lines: vec![
                InvoiceLine {
                    tax_percent: 10.0,
                    ..InvoiceLine::item("I1", 2.0, 50.0)
                },
                InvoiceLine::other("Account", "6120", "Freight", 1.0, 20.0),
                InvoiceLine::other("Comment", "", "Thanks", 0.0, 0.0),
            ],
            order: Some(SourceOrder {
                id: "5e2c0b9a-7f3e-4c1d-9a57-1b2c3d4e5f60".into(),
                number: "S-ORD000001".into(),
                your_reference: "ORD-1".into(),
            }),
            ..Default::default()
        };
        let p = post(&mut s, &inv, Utc::now()).unwrap();
        assert_eq!(p.number, "PS-INV000001");
        let h = row(&s, INVOICES, &p.id);
        assert_eq!(h["totalAmountExcludingTax"], json!(120.0));
        assert_eq!(h["totalTaxAmount"], json!(10.0));
        assert_eq!(h["remainingAmount"], json!(130.0));
        assert_eq!(h["status"], json!("Open"));
        assert_eq!(h["yourReference"], json!("ORD-1"));
        assert_eq!(h["orderNumber"], json!("S-ORD000001"));
        let lines: Vec<Fields> = s
            .table(LINES)
            .unwrap()
            .live()
            .into_iter()
            .map(|(_, r)| r.fields.clone())
            .filter(|f| text(f, "documentId") == p.id)
            .collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().any(|l| text(l, "description") == "Cable"
            && text(l, "unitOfMeasureCode") == "PCS"
            && num(l, "amountIncludingTax") == 110.0));
        // The balance is a FlowField: it moves, the customer's version does not.
        assert_eq!(
            num(&row(&s, "customers", &cust), "balanceDue"),
            round2(before + 130.0)
        );
        assert_eq!(
            s.table("customers").unwrap().get(&cust).unwrap().version,
            cust_version
        );
        // Partial, then full payment.
        let v0 = s.table(INVOICES).unwrap().get(&p.id).unwrap().version;
        assert_eq!(pay(&mut s, &p.id, 30.0, Utc::now()).unwrap(), 100.0);
        assert!(s.table(INVOICES).unwrap().get(&p.id).unwrap().version > v0);
        assert_eq!(row(&s, INVOICES, &p.id)["status"], json!("Open"));
        assert!(pay(&mut s, &p.id, 100.01, Utc::now()).is_err());
        let e = cancel(&mut s, &p.id, Utc::now()).unwrap_err();
        assert!(e.message.contains("partially paid"), "{}", e.message);
        assert_eq!(pay(&mut s, &p.id, 100.0, Utc::now()).unwrap(), 0.0);
        assert_eq!(row(&s, INVOICES, &p.id)["status"], json!("Paid"));
        assert!(pay(&mut s, &p.id, 1.0, Utc::now()).is_err());
        assert_eq!(num(&row(&s, "customers", &cust), "balanceDue"), before);
        // A second invoice, cancelled.
        let q = post(
            &mut s,
            &InvoiceToPost {
                customer_number: "c00001".into(),
                lines: vec![InvoiceLine::item("I1", 1.0, 5.0)],
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
        assert_eq!(q.number, "PS-INV000002");
        cancel(&mut s, &q.id, Utc::now()).unwrap();
        let h = row(&s, INVOICES, &q.id);
        assert_eq!(h["status"], json!("Canceled"));
        assert_eq!(h["remainingAmount"], json!(0));
        assert_eq!(h["orderId"], json!(EMPTY_GUID));
        assert_eq!(num(&row(&s, "customers", &cust), "balanceDue"), before);
    }

    #[test]
    fn posting_errors() {
        let (mut s, _) = setup();
        let post_one = |s: &mut Store, customer: &str, lines: Vec<InvoiceLine>| {
            post(
                s,
                &InvoiceToPost {
                    customer_number: customer.into(),
                    lines,
                    ..Default::default()
                },
                Utc::now(),
            )
        };
        let e = post_one(&mut s, "C9", vec![InvoiceLine::item("I1", 1.0, 1.0)]).unwrap_err();
        assert!(e.message.contains("C9"), "{}", e.message);
        let e = post_one(&mut s, "C00001", vec![]).unwrap_err();
        assert_eq!(e.message, "There is nothing to post.");
        let e = post_one(&mut s, "C00001", vec![InvoiceLine::item("NOPE", 1.0, 1.0)]).unwrap_err();
        assert!(e.message.contains("NOPE"), "{}", e.message);
        let e = post_one(&mut s, "C00001", vec![InvoiceLine::item("I1", 0.0, 1.0)]).unwrap_err();
        assert!(e.message.contains("Quantity"), "{}", e.message);
        assert!(s.table(INVOICES).is_none_or(|t| t.live().is_empty()));
    }
}
