//! An F&O sales order read back: whole (header and lines) for the order flow's way back to
//! Sales, in the flows' terms ([`ErpOrder`]), and in words for the CLI.

use serde_json::Value;

use super::build::{HEADERS, LINE_SET};
use crate::event::Fields;
use crate::orders::back::LINES;
use crate::systems::documents::{ErpOrder, ErpOrderLine, ErpOrderStatus};
use crate::systems::error::SystemError;
use crate::systems::fo::FoClient;
use crate::systems::fo::system::COMPANY;
use crate::systems::http::urls::odata_string;

/// How F&O is named in the CRM's posts.
pub const NAME: &str = "Finance & Operations";

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

async fn lines(client: &FoClient, header: &Fields) -> Result<Vec<Fields>, SystemError> {
    let filter = format!(
        "SalesOrderNumber eq {} and {COMPANY} eq {}",
        odata_string(&text(header, "SalesOrderNumber")),
        odata_string(&text(header, COMPANY))
    );
    let mut rows = client.query(LINE_SET, &filter).await?;
    rows.sort_by(|a, b| num(a, "LineNumber").total_cmp(&num(b, "LineNumber")));
    Ok(rows)
}

/// Completes `order` (the event's fields of `SalesOrderHeadersV2({id})`) with the header as it
/// is now and its lines.
pub async fn complete(client: &FoClient, id: &str, order: &mut Fields) -> Result<(), SystemError> {
    if let Some(header) = client.get(HEADERS, id).await? {
        order.extend(header);
    }
    let rows = lines(client, order).await?;
    order.insert(
        LINES.into(),
        Value::Array(rows.into_iter().map(Value::Object).collect()),
    );
    Ok(())
}

/// An order read whole as the flows read it. F&O's statuses: `Backorder` (open, confirmed),
/// `Delivered`, `Invoiced`, `Canceled`; posted packing slips and invoices are not read.
pub fn interpret(order: &Fields) -> ErpOrder {
    let status = text(order, "SalesOrderStatus");
    let lines: Vec<ErpOrderLine> = order
        .get(LINES)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|l| {
            let quantity = num(l, "OrderedSalesQuantity");
            ErpOrderLine {
                comment: false,
                quantity,
                invoiced_quantity: if text(l, "SalesOrderLineStatus") == "Invoiced" {
                    quantity
                } else {
                    0.0
                },
            }
        })
        .collect();
    let date = text(order, "RequestedShippingDate");
    ErpOrder {
        erp_name: NAME,
        number: text(order, "SalesOrderNumber"),
        your_reference: text(order, super::build::REFERENCE),
        customer_id: None,
        status: match status.as_str() {
            "Backorder" | "Delivered" | "Invoiced" => ErpOrderStatus::Released,
            "None" | "" => ErpOrderStatus::Open,
            _ => ErpOrderStatus::Other,
        },
        deleted: false,
        fully_shipped: matches!(status.as_str(), "Delivered" | "Invoiced"),
        last_shipment_date: None,
        requested_delivery_date: date
            .get(..10)
            .filter(|d| !d.starts_with("1900-"))
            .map(str::to_string),
        total_excluding_tax: None,
        total_including_tax: None,
        lines,
        shipments: Vec::new(),
        invoices: Vec::new(),
    }
}

/// Sales order `id` in words, or `None` when it is not in F&O.
pub async fn describe(client: &FoClient, id: &str) -> Result<Option<Vec<String>>, SystemError> {
    let Some(header) = client.get(HEADERS, id).await? else {
        return Ok(None);
    };
    let mut out = vec![format!(
        "F&O sales order {} in {} (customer {}, customer reference {}, status {}):",
        text(&header, "SalesOrderNumber"),
        text(&header, COMPANY),
        text(&header, "OrderingCustomerAccountNumber"),
        text(&header, super::build::REFERENCE),
        text(&header, "SalesOrderStatus"),
    )];
    let rows = lines(client, &header).await?;
    let mut total = 0.0;
    for l in &rows {
        total += num(l, "LineAmount");
        out.push(format!(
            "  {:>4} {:<12} {:>8} x {:>10} = {:>10}  {}",
            num(l, "LineNumber"),
            text(l, "ItemNumber"),
            num(l, "OrderedSalesQuantity"),
            num(l, "SalesPrice"),
            num(l, "LineAmount"),
            text(l, "LineDescription"),
        ));
    }
    out.push(format!(
        "{} line(s); net amount {total:.2} {}",
        rows.len(),
        text(&header, "CurrencyCode")
    ));
    Ok(Some(out))
}
