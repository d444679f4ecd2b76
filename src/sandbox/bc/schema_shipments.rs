//! Business Central API v2.0 `salesShipments` and `salesShipmentLines`: posted sales
//! shipments, read-only (made only by posting an order's shipment, see `fulfil.rs`). Lines are
//! read as the API does: `salesShipments({id})/salesShipmentLines`, or
//! `salesShipmentLines?$filter=documentId eq {id}`. `number` is assigned from the series
//! `S-SHP` (Business Central's "Posted Shipment Nos.").

use super::schema::{EntityDef, Kind, ro};

pub(crate) static SALES_SHIPMENT: EntityDef = EntityDef {
    set: "salesShipments",
    type_name: "salesShipment",
    table: "Sales Shipment Header",
    number: ("number", "S-SHP"),
    columns: &[
        ro("id", Kind::Guid),
        ro("number", Kind::Text(20)),
        ro("externalDocumentNumber", Kind::Text(35)),
        ro("orderNumber", Kind::Text(20)),
        ro("postingDate", Kind::DateTime),
        ro("shipmentDate", Kind::DateTime),
        ro("customerId", Kind::Guid),
        ro("customerNumber", Kind::Text(20)),
        ro("customerName", Kind::Text(100)),
        ro("shipToName", Kind::Text(100)),
        ro("shipToAddressLine1", Kind::Text(100)),
        ro("shipToCity", Kind::Text(30)),
        ro("shipToPostCode", Kind::Text(20)),
        ro("shipToCountry", Kind::Text(10)),
        ro("currencyCode", Kind::Text(10)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static SALES_SHIPMENT_LINE: EntityDef = EntityDef {
    set: "salesShipmentLines",
    type_name: "salesShipmentLine",
    table: "Sales Shipment Line",
    number: ("lineObjectNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("documentId", Kind::Guid),
        ro("documentNo", Kind::Text(20)),
        ro("sequence", Kind::Number),
        ro("lineType", Kind::Enum(super::schema_orders::LINE_TYPES)),
        ro("lineObjectNumber", Kind::Text(20)),
        ro("description", Kind::Text(100)),
        ro("unitOfMeasureCode", Kind::Text(10)),
        ro("quantity", Kind::Number),
        ro("unitPrice", Kind::Number),
        ro("shipmentDate", Kind::DateTime),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// The posted-document sets, which the API does not write.
pub(crate) fn is_read_only(set: &str) -> bool {
    matches!(set, "salesShipments" | "salesShipmentLines")
}
