//! Business Central API v2.0 `salesOrders` and `salesOrderLines`. Lines are addressed as the
//! API does: `salesOrders({id})/salesOrderLines` to list and create, and
//! `salesOrderLines({id})` (or the nested path with the line id) for one line.
//!
//! Sandbox extensions, as a custom API page over the Sales Header would expose them (API v2.0
//! has only ids for these): `yourReference`, `paymentTermsCode`, `shipmentMethodCode`,
//! `shippingAgentCode`, `quoteNumber` (Quote No.), `opportunityNumber` (Opportunity No.),
//! `lastShipmentDate` (the Sales Header's "Shipment Date" of the last
//! posted shipment, which Business Central's SALESORDER-ORDER mapping sends to
//! `datefulfilled`). `number` is assigned from the series `S-ORD`.
//!
//! Fulfilment (`fulfil.rs`): `status` becomes `Released` on release (API v2.0 lists `Draft`,
//! `In Review`, `Open` and `Released`); posting a shipment fills the lines' `shippedQuantity`,
//! the header's `lastShipmentDate` and `fullyShipped`; posting an invoice fills
//! `invoicedQuantity`. The totals are FlowFields: recomputed from the lines, without a new
//! ETag, as Business Central computes them on read. The sandbox has no sales tax:
//! `totalTaxAmount` is 0 and `totalAmountIncludingTax` equals `totalAmountExcludingTax`.

use super::schema::{EntityDef, Kind, ro, w};

pub(crate) static SALES_ORDER: EntityDef = EntityDef {
    set: "salesOrders",
    type_name: "salesOrder",
    table: "Sales Header",
    number: ("number", "S-ORD"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("externalDocumentNumber", Kind::Text(35)),
        w("yourReference", Kind::Text(35)),
        w("quoteNumber", Kind::Text(20)),
        w("opportunityNumber", Kind::Text(20)),
        w("orderDate", Kind::DateTime),
        w("postingDate", Kind::DateTime),
        w("customerId", Kind::Guid),
        w("customerNumber", Kind::Text(20)),
        ro("customerName", Kind::Text(100)),
        w("billToName", Kind::Text(100)),
        w("billToAddressLine1", Kind::Text(100)),
        w("billToAddressLine2", Kind::Text(50)),
        w("billToCity", Kind::Text(30)),
        w("billToState", Kind::Text(30)),
        w("billToCountry", Kind::Text(10)),
        w("billToPostCode", Kind::Text(20)),
        w("shipToName", Kind::Text(100)),
        w("shipToAddressLine1", Kind::Text(100)),
        w("shipToAddressLine2", Kind::Text(50)),
        w("shipToCity", Kind::Text(30)),
        w("shipToState", Kind::Text(30)),
        w("shipToCountry", Kind::Text(10)),
        w("shipToPostCode", Kind::Text(20)),
        w("currencyId", Kind::Guid),
        w("currencyCode", Kind::Text(10)),
        w("pricesIncludeTax", Kind::Bool),
        w("paymentTermsId", Kind::Guid),
        w("paymentTermsCode", Kind::Text(10)),
        w("shipmentMethodId", Kind::Guid),
        w("shipmentMethodCode", Kind::Text(10)),
        w("shippingAgentCode", Kind::Text(10)),
        w("salesperson", Kind::Text(20)),
        w("requestedDeliveryDate", Kind::DateTime),
        w("discountAmount", Kind::Number),
        ro("discountAppliedBeforeTax", Kind::Bool),
        ro("totalAmountExcludingTax", Kind::Number),
        ro("totalTaxAmount", Kind::Number),
        ro("totalAmountIncludingTax", Kind::Number),
        ro("fullyShipped", Kind::Bool),
        ro("lastShipmentDate", Kind::DateTime),
        ro(
            "status",
            Kind::Enum(&["Draft", "In Review", "Open", "Released"]),
        ),
        w("phoneNumber", Kind::Text(30)),
        w("email", Kind::Text(80)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// Line types of API v2.0 sales lines.
pub(crate) const LINE_TYPES: &[&str] = &[
    "Comment",
    "Account",
    "Item",
    "Resource",
    "Fixed Asset",
    "Charge",
];

pub(crate) static SALES_ORDER_LINE: EntityDef = EntityDef {
    set: "salesOrderLines",
    type_name: "salesOrderLine",
    table: "Sales Line",
    number: ("lineObjectNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("documentId", Kind::Guid),
        w("sequence", Kind::Number),
        w("itemId", Kind::Guid),
        w("accountId", Kind::Guid),
        w("lineType", Kind::Enum(LINE_TYPES)),
        w("lineObjectNumber", Kind::Text(20)),
        w("description", Kind::Text(100)),
        w("unitOfMeasureId", Kind::Guid),
        w("unitOfMeasureCode", Kind::Text(10)),
        w("quantity", Kind::Number),
        w("unitPrice", Kind::Number),
        w("discountAmount", Kind::Number),
        w("discountPercent", Kind::Number),
        ro("amountExcludingTax", Kind::Number),
        w("shipmentDate", Kind::DateTime),
        ro("shippedQuantity", Kind::Number),
        ro("invoicedQuantity", Kind::Number),
        w("shipQuantity", Kind::Number),
        w("invoiceQuantity", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};
