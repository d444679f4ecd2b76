//! Business Central API v2.0 `salesQuotes` and `salesQuoteLines`, and the quote archive.
//! Lines are addressed as for orders: `salesQuotes({id})/salesQuoteLines` to list and create,
//! `salesQuoteLines({id})` for one line. `number` is assigned from the series `S-QUO`.
//!
//! Sandbox extensions, as a custom API page over the Sales Header would expose them (API v2.0
//! has no such fields or actions), documented here like `schema_orders.rs`:
//! - on `salesQuotes`: `yourReference`, `paymentTermsCode`, `shipmentMethodCode`,
//!   `shippingAgentCode`, `opportunityNumber` (as on `salesOrders`), and `documentStatus` (read-only, the Sales
//!   Header's Status: `Open` or `Released`; API v2.0 only derives `status` Draft/Sent/…);
//! - bound actions `salesQuotes({id})/Microsoft.NAV.release` and `…/Microsoft.NAV.reopen` (the
//!   quote page's Release and Reopen), and `…/Microsoft.NAV.archive` (the page's "Archive
//!   Document": the quote's current header and lines are copied to a new archived version);
//! - `salesQuoteArchives` (the Sales Header Archive: `quoteId`, `quoteNumber`,
//!   `versionNumber`, the header fields at archiving time) and `salesQuoteArchiveLines`
//!   (`archiveId`, the lines), read-only lists;
//! - on `salesOrders`: `quoteNumber` (the Sales Header's Quote No.) and `opportunityNumber`,
//!   in `schema_orders.rs`.

use super::schema::{EntityDef, Kind, ro, w};
use super::schema_orders::LINE_TYPES;

pub(crate) static SALES_QUOTE: EntityDef = EntityDef {
    set: "salesQuotes",
    type_name: "salesQuote",
    table: "Sales Header",
    number: ("number", "S-QUO"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("externalDocumentNumber", Kind::Text(35)),
        w("yourReference", Kind::Text(35)),
        w("opportunityNumber", Kind::Text(20)),
        w("documentDate", Kind::DateTime),
        w("postingDate", Kind::DateTime),
        w("dueDate", Kind::DateTime),
        w("validUntilDate", Kind::DateTime),
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
        w("paymentTermsId", Kind::Guid),
        w("paymentTermsCode", Kind::Text(10)),
        w("shipmentMethodId", Kind::Guid),
        w("shipmentMethodCode", Kind::Text(10)),
        w("shippingAgentCode", Kind::Text(10)),
        w("salesperson", Kind::Text(20)),
        w("requestedDeliveryDate", Kind::DateTime),
        w("discountAmount", Kind::Number),
        ro("totalAmountExcludingTax", Kind::Number),
        ro(
            "status",
            Kind::Enum(&["Draft", "Sent", "Accepted", "Expired"]),
        ),
        ro("documentStatus", Kind::Enum(&["Open", "Released"])),
        w("phoneNumber", Kind::Text(30)),
        w("email", Kind::Text(80)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static SALES_QUOTE_LINE: EntityDef = EntityDef {
    set: "salesQuoteLines",
    type_name: "salesQuoteLine",
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
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static SALES_QUOTE_ARCHIVE: EntityDef = EntityDef {
    set: "salesQuoteArchives",
    type_name: "salesQuoteArchive",
    table: "Sales Header Archive",
    number: ("quoteNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("quoteId", Kind::Guid),
        ro("quoteNumber", Kind::Text(20)),
        ro("versionNumber", Kind::Number),
        ro("archivedDateTime", Kind::DateTime),
        ro("customerNumber", Kind::Text(20)),
        ro("externalDocumentNumber", Kind::Text(35)),
        ro("yourReference", Kind::Text(35)),
        ro("validUntilDate", Kind::DateTime),
        ro("totalAmountExcludingTax", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static SALES_QUOTE_ARCHIVE_LINE: EntityDef = EntityDef {
    set: "salesQuoteArchiveLines",
    type_name: "salesQuoteArchiveLine",
    table: "Sales Line Archive",
    number: ("lineObjectNumber", ""),
    columns: &[
        ro("id", Kind::Guid),
        ro("archiveId", Kind::Guid),
        ro("sequence", Kind::Number),
        ro("lineType", Kind::Enum(LINE_TYPES)),
        ro("lineObjectNumber", Kind::Text(20)),
        ro("description", Kind::Text(100)),
        ro("unitOfMeasureCode", Kind::Text(10)),
        ro("quantity", Kind::Number),
        ro("unitPrice", Kind::Number),
        ro("discountAmount", Kind::Number),
        ro("amountExcludingTax", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};
