//! Fulfilling a Business Central sales order in the sandbox, as the Sales Order page's actions
//! do: **Release** (status `Released`), **Post → Ship** of full or partial quantities (a posted
//! `salesShipments` document with its lines; the order lines' `shippedQuantity`, the header's
//! `lastShipmentDate` and `fullyShipped`), and the order's totals, which are FlowFields
//! recomputed from its lines. Posting releases an open order first, as Business Central does.
//! **Post → Invoice** of shipped quantities makes a posted invoice (`salesInvoices`, through
//! the posted-invoice routine of `write_invoices.rs`); an order completely shipped and
//! invoiced is deleted, as Business Central deletes it after posting. **Ship and Invoice** is
//! API v2.0's bound action `Microsoft.NAV.shipAndInvoice`.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::schema_shipments::{SALES_SHIPMENT, SALES_SHIPMENT_LINE};
use super::write::next_number;
use super::{BcError, timestamp};
use crate::event::Fields;
use crate::sandbox::invoices::{InvoiceLine, InvoiceToPost, PostedInvoice, SourceOrder};
use crate::sandbox::table::Store;

fn num(f: &Fields, k: &str) -> f64 {
    f.get(k).and_then(Value::as_f64).unwrap_or(0.0)
}

fn text(f: &Fields, k: &str) -> String {
    f.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn order_row(store: &Store, order: &str) -> Result<Fields, BcError> {
    store
        .table("salesOrders")
        .and_then(|t| t.get(order))
        .map(|r| r.fields.clone())
        .ok_or_else(|| BcError::not_found("Sales Header", order))
}

/// The order's lines as `(line id, fields)`, in `sequence` order.
pub(crate) fn order_lines(store: &Store, order: &str) -> Vec<(String, Fields)> {
    let mut lines: Vec<(String, Fields)> = store
        .table("salesOrderLines")
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| text(&r.fields, "documentId") == order)
                .map(|(id, r)| (id.to_string(), r.fields.clone()))
                .collect()
        })
        .unwrap_or_default();
    lines.sort_by(|a, b| num(&a.1, "sequence").total_cmp(&num(&b.1, "sequence")));
    lines
}

/// Lines that carry a quantity (every type except `Comment`).
fn has_quantity(line: &Fields) -> bool {
    text(line, "lineType") != "Comment" && num(line, "quantity") > 0.0
}

/// Recomputes the order's totals from its lines (FlowFields: no new version, no new ETag).
pub(crate) fn recompute_totals(store: &mut Store, order: &str) {
    let Some(row) = store.table("salesOrders").and_then(|t| t.get(order)) else {
        return;
    };
    let (mut fields, version) = (row.fields.clone(), row.version);
    let lines: f64 = order_lines(store, order)
        .iter()
        .map(|(_, l)| num(l, "amountExcludingTax"))
        .sum();
    let total = round(lines - num(&fields, "discountAmount"));
    fields.insert("totalAmountExcludingTax".into(), json!(total));
    fields.insert("totalTaxAmount".into(), json!(0));
    fields.insert("totalAmountIncludingTax".into(), json!(total));
    store.table_mut("salesOrders").put(order, fields, version);
}

/// Writes the order header with `changes` as a modification (new version and
/// `lastModifiedDateTime`).
pub(crate) fn touch_order(store: &mut Store, order: &str, changes: Fields, at: DateTime<Utc>) {
    let Some(row) = store.table("salesOrders").and_then(|t| t.get(order)) else {
        return;
    };
    let mut fields = row.fields.clone();
    fields.extend(changes);
    fields.insert("lastModifiedDateTime".into(), json!(timestamp(at)));
    let v = store.next_version();
    store.table_mut("salesOrders").put(order, fields, v);
}

/// Releases the order (status `Released`). An order released already is left as it is.
pub(crate) fn release(store: &mut Store, order: &str, at: DateTime<Utc>) -> Result<(), BcError> {
    let header = order_row(store, order)?;
    if text(&header, "status") == "Released" {
        return Ok(());
    }
    if !order_lines(store, order)
        .iter()
        .any(|(_, l)| has_quantity(l))
    {
        return Err(BcError::new(
            StatusCode::BAD_REQUEST,
            "Application_DialogException",
            format!(
                "There is nothing to release for the document of type Order with the number {}.",
                text(&header, "number")
            ),
        ));
    }
    touch_order(store, order, obj(json!({"status": "Released"})), at);
    Ok(())
}

fn obj(v: Value) -> Fields {
    match v {
        Value::Object(m) => m,
        _ => Fields::new(),
    }
}

/// The lines of order `number` to post and how much of each: `quantities` as `(line sequence,
/// quantity)`, or every line's `open` quantity when empty. Business Central's errors: an
/// unknown line, more than a line's open quantity (`You cannot {verb} more than N units.`),
/// nothing to post.
fn pick(
    lines: &[(String, Fields)],
    number: &str,
    quantities: &[(i64, f64)],
    open: impl Fn(&Fields) -> f64,
    verb: &str,
) -> Result<Vec<(String, Fields, f64)>, BcError> {
    for (seq, _) in quantities {
        if !lines
            .iter()
            .any(|(_, l)| num(l, "sequence") as i64 == *seq && has_quantity(l))
        {
            return Err(BcError::not_found(
                "Sales Line",
                &format!("Document Type=Order, Document No.={number}, Line No.={seq}"),
            ));
        }
    }
    let mut picked: Vec<(String, Fields, f64)> = Vec::new();
    for (id, l) in lines.iter().filter(|(_, l)| has_quantity(l)) {
        let seq = num(l, "sequence") as i64;
        let open = open(l);
        let q = if quantities.is_empty() {
            open
        } else {
            quantities
                .iter()
                .filter(|(s, _)| *s == seq)
                .map(|(_, q)| *q)
                .sum()
        };
        if q > open + 1e-9 {
            return Err(BcError::new(
                StatusCode::BAD_REQUEST,
                "Application_FieldValidationException",
                format!(
                    "You cannot {verb} more than {open} units. Sales Line: Document Type=Order, Document No.={number}, Line No.={seq}"
                ),
            ));
        }
        if q > 0.0 {
            picked.push((id.clone(), l.clone(), q));
        }
    }
    if picked.is_empty() {
        return Err(BcError::new(
            StatusCode::BAD_REQUEST,
            "Application_DialogException",
            "There is nothing to post.",
        ));
    }
    Ok(picked)
}

/// Posts a shipment of the order: `quantities` as `(line sequence, quantity)`, or every
/// line's remaining quantity when empty. Returns the posted shipment's id. Business Central's
/// errors: more than the remaining quantity of a line, an unknown line, nothing to post.
pub(crate) fn ship(
    store: &mut Store,
    order: &str,
    quantities: &[(i64, f64)],
    at: DateTime<Utc>,
) -> Result<String, BcError> {
    let header = order_row(store, order)?;
    let number = text(&header, "number");
    let lines = order_lines(store, order);
    let shipped = pick(
        &lines,
        &number,
        quantities,
        |l| num(l, "quantity") - num(l, "shippedQuantity"),
        "ship",
    )?;
    if text(&header, "status") != "Released" {
        release(store, order, at)?;
    }
    let today = at.format("%Y-%m-%d").to_string();
    let stamp = timestamp(at);
    let shipment_id = uuid::Uuid::new_v4().to_string();
    let shipment_no = next_number(store, &SALES_SHIPMENT);
    let mut doc = Fields::new();
    doc.insert("id".into(), json!(shipment_id));
    doc.insert("number".into(), json!(shipment_no));
    doc.insert("orderNumber".into(), json!(number));
    doc.insert("postingDate".into(), json!(today));
    doc.insert("shipmentDate".into(), json!(today));
    for (to, from) in [
        ("externalDocumentNumber", "externalDocumentNumber"),
        ("customerId", "customerId"),
        ("customerNumber", "customerNumber"),
        ("customerName", "customerName"),
        ("shipToName", "shipToName"),
        ("shipToAddressLine1", "shipToAddressLine1"),
        ("shipToCity", "shipToCity"),
        ("shipToPostCode", "shipToPostCode"),
        ("shipToCountry", "shipToCountry"),
        ("currencyCode", "currencyCode"),
    ] {
        doc.insert(to.into(), header.get(from).cloned().unwrap_or(Value::Null));
    }
    doc.insert("lastModifiedDateTime".into(), json!(stamp));
    let v = store.next_version();
    store
        .table_mut(SALES_SHIPMENT.set)
        .put(&shipment_id, doc, v);
    for (line_id, l, q) in &shipped {
        let mut sl = Fields::new();
        let id = uuid::Uuid::new_v4().to_string();
        sl.insert("id".into(), json!(id));
        sl.insert("documentId".into(), json!(shipment_id));
        sl.insert("documentNo".into(), json!(shipment_no));
        for k in [
            "sequence",
            "lineType",
            "lineObjectNumber",
            "description",
            "unitOfMeasureCode",
            "unitPrice",
        ] {
            sl.insert(k.into(), l.get(k).cloned().unwrap_or(Value::Null));
        }
        sl.insert("quantity".into(), json!(q));
        sl.insert("shipmentDate".into(), json!(today));
        sl.insert("lastModifiedDateTime".into(), json!(stamp));
        let v = store.next_version();
        store.table_mut(SALES_SHIPMENT_LINE.set).put(&id, sl, v);

        // A shipped item leaves stock: a Sale item ledger entry (the item's inventory, a
        // FlowField, moves; the item itself is not modified).
        let item = text(l, "lineObjectNumber");
        if text(l, "lineType") == "Item" && super::inventory::tracks_stock(store, &item) {
            let e = super::inventory::NewEntry {
                item_number: &item,
                entry_type: "Sale",
                quantity: -q,
                document_number: &shipment_no,
                description: "",
            };
            super::inventory::post(store, &e, at)?;
        }
        let mut ol = l.clone();
        let done = num(l, "shippedQuantity") + q;
        ol.insert("shippedQuantity".into(), json!(done));
        ol.insert("shipQuantity".into(), json!(num(l, "quantity") - done));
        ol.insert("lastModifiedDateTime".into(), json!(stamp));
        let v = store.next_version();
        store.table_mut("salesOrderLines").put(line_id, ol, v);
    }
    let fully = order_lines(store, order)
        .iter()
        .filter(|(_, l)| has_quantity(l))
        .all(|(_, l)| num(l, "shippedQuantity") + 1e-9 >= num(l, "quantity"));
    touch_order(
        store,
        order,
        obj(json!({"lastShipmentDate": today, "fullyShipped": fully})),
        at,
    );
    Ok(shipment_id)
}

/// Posts an invoice of the order's shipped, not yet invoiced quantities: `quantities` as
/// `(line sequence, quantity)`, or all of them when empty. The posted invoice
/// (`salesInvoices`, with `orderId`, `orderNumber` and `yourReference`) is made by the
/// posted-invoice routine; the order lines' `invoicedQuantity` follows. An order completely
/// shipped and invoiced is deleted with its lines, as Business Central deletes it after
/// posting.
pub(crate) fn invoice(
    store: &mut Store,
    order: &str,
    quantities: &[(i64, f64)],
    at: DateTime<Utc>,
) -> Result<PostedInvoice, BcError> {
    let header = order_row(store, order)?;
    let number = text(&header, "number");
    let lines = order_lines(store, order);
    let billed = pick(
        &lines,
        &number,
        quantities,
        |l| num(l, "shippedQuantity") - num(l, "invoicedQuantity"),
        "invoice",
    )?;
    let to_post = InvoiceToPost {
        customer_number: text(&header, "customerNumber"),
        lines: billed
            .iter()
            .map(|(_, l, q)| {
                let quantity = num(l, "quantity");
                InvoiceLine {
                    line_type: text(l, "lineType"),
                    number: text(l, "lineObjectNumber"),
                    description: text(l, "description"),
                    unit_of_measure: text(l, "unitOfMeasureCode"),
                    quantity: *q,
                    unit_price: num(l, "unitPrice"),
                    discount_amount: round(num(l, "discountAmount") * q / quantity),
                    tax_percent: 0.0,
                }
            })
            .collect(),
        order: Some(SourceOrder {
            id: order.to_string(),
            number: number.clone(),
            your_reference: text(&header, "yourReference"),
        }),
        external_document_number: text(&header, "externalDocumentNumber"),
        posting_date: Some(at.date_naive()),
        due_date: None,
    };
    let posted = super::write_invoices::post(store, &to_post, at)?;
    let stamp = timestamp(at);
    for (line_id, l, q) in &billed {
        let mut ol = l.clone();
        let done = num(l, "invoicedQuantity") + q;
        ol.insert("invoicedQuantity".into(), json!(done));
        ol.insert(
            "invoiceQuantity".into(),
            json!(num(l, "shippedQuantity") - done),
        );
        ol.insert("lastModifiedDateTime".into(), json!(stamp));
        let v = store.next_version();
        store.table_mut("salesOrderLines").put(line_id, ol, v);
    }
    let lines = order_lines(store, order);
    let complete = lines.iter().filter(|(_, l)| has_quantity(l)).all(|(_, l)| {
        num(l, "shippedQuantity") + 1e-9 >= num(l, "quantity")
            && num(l, "invoicedQuantity") + 1e-9 >= num(l, "quantity")
    });
    if complete {
        for (line_id, _) in &lines {
            let v = store.next_version();
            store.table_mut("salesOrderLines").remove(line_id, v);
        }
        let v = store.next_version();
        store.table_mut("salesOrders").remove(order, v);
    } else {
        touch_order(store, order, Fields::new(), at);
    }
    Ok(posted)
}

/// API v2.0's bound action `salesOrders({id})/Microsoft.NAV.shipAndInvoice`: ships every
/// remaining quantity (if any) and invoices everything shipped and not invoiced; the order is
/// then complete and deleted.
pub(crate) fn ship_and_invoice(
    store: &mut Store,
    order: &str,
    at: DateTime<Utc>,
) -> Result<PostedInvoice, BcError> {
    let remaining = order_lines(store, order)
        .iter()
        .filter(|(_, l)| has_quantity(l))
        .any(|(_, l)| num(l, "shippedQuantity") + 1e-9 < num(l, "quantity"));
    if remaining {
        ship(store, order, &[], at)?;
    }
    invoice(store, order, &[], at)
}

#[cfg(test)]
mod tests {
    use super::super::schema_orders::{SALES_ORDER, SALES_ORDER_LINE};
    use super::super::write::{create, validate};
    use super::*;

    fn order_with_lines(s: &mut Store) -> String {
        let now = Utc::now();
        let c = create(
            s,
            &super::super::schema::CUSTOMER,
            validate(
                &super::super::schema::CUSTOMER,
                &obj(json!({"displayName": "A"})),
            )
            .unwrap(),
            now,
        )
        .unwrap();
        let o = create(
            s,
            &SALES_ORDER,
            validate(&SALES_ORDER, &obj(json!({"customerId": c}))).unwrap(),
            now,
        )
        .unwrap();
        for (seq, qty) in [(10000, 3), (20000, 1)] {
            let mut f = validate(
                &SALES_ORDER_LINE,
                &obj(json!({"sequence": seq, "lineType": "Account", "lineObjectNumber": "6120", "quantity": qty, "unitPrice": 10})),
            )
            .unwrap();
            f.insert("documentId".into(), json!(o));
            create(s, &SALES_ORDER_LINE, f, now).unwrap();
        }
        o
    }

    #[test]
    fn partial_then_full_shipment() {
        let mut s = Store::default();
        let o = order_with_lines(&mut s);
        assert_eq!(
            order_row(&s, &o).unwrap()["totalAmountExcludingTax"],
            json!(40.0)
        );
        let e = ship(&mut s, &o, &[(10000, 4.0)], Utc::now()).unwrap_err();
        assert!(e.message.contains("more than 3 units"), "{}", e.message);
        let sh = ship(&mut s, &o, &[(10000, 2.0)], Utc::now()).unwrap();
        let h = order_row(&s, &o).unwrap();
        assert_eq!(h["status"], json!("Released"));
        assert_eq!(h["fullyShipped"], json!(false));
        assert!(h["lastShipmentDate"].is_string());
        let doc = &s.table("salesShipments").unwrap().get(&sh).unwrap().fields;
        assert_eq!(doc["number"], json!("S-SHP000001"));
        assert_eq!(doc["orderNumber"], h["number"]);
        ship(&mut s, &o, &[], Utc::now()).unwrap();
        let h = order_row(&s, &o).unwrap();
        assert_eq!(h["fullyShipped"], json!(true));
        let lines = order_lines(&s, &o);
        assert_eq!(lines[0].1["shippedQuantity"], json!(3.0));
        assert_eq!(lines[1].1["shippedQuantity"], json!(1.0));
        let e = ship(&mut s, &o, &[], Utc::now()).unwrap_err();
        assert_eq!(e.message, "There is nothing to post.");
        assert_eq!(s.table("salesShipmentLines").unwrap().len(), 3);

        let e = invoice(&mut s, &o, &[(20000, 2.0)], Utc::now()).unwrap_err();
        assert!(e.message.contains("more than 1 units"), "{}", e.message);
        let i1 = invoice(&mut s, &o, &[(10000, 3.0)], Utc::now()).unwrap();
        let inv = &s
            .table("salesInvoices")
            .unwrap()
            .get(&i1.id)
            .unwrap()
            .fields;
        assert_eq!(inv["orderId"], json!(o));
        assert_eq!(inv["totalAmountExcludingTax"], json!(30.0));
        assert_eq!(order_lines(&s, &o)[0].1["invoicedQuantity"], json!(3.0));
        ship_and_invoice(&mut s, &o, Utc::now()).unwrap();
        assert!(
            s.table("salesOrders").unwrap().get(&o).is_none(),
            "deleted after posting"
        );
        assert!(order_lines(&s, &o).is_empty());
        assert_eq!(s.table("salesInvoices").unwrap().len(), 2);
    }
}
