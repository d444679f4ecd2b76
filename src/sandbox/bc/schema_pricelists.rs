//! Business Central's price lists (extended pricing on): the Price List Header and Price List
//! Line tables. API v2.0 has neither; the sandbox serves them under the company as a custom
//! API page (publisher-specific in a real tenant) would, with the fields Business Central's own
//! PLHEADER-PRICE and PLLINE-PRODPRICE mappings read. Dates are `YYYY-MM-DD` texts, as API
//! pages show `Date` fields; a blank date is `0001-01-01`, as Business Central shows it.

use super::schema::{EntityDef, Kind, ro, w};

/// Business Central's "Price Type" enum.
const PRICE_TYPES: &[&str] = &["Any", "Sale", "Purchase"];
/// Business Central's "Price Amount Type" enum.
const AMOUNT_TYPES: &[&str] = &["Any", "Price", "Discount"];

pub(crate) static PRICE_LIST_HEADER: EntityDef = EntityDef {
    set: "priceListHeaders",
    type_name: "priceListHeader",
    table: "Price List Header",
    number: ("code", "S"),
    columns: &[
        ro("id", Kind::Guid),
        w("code", Kind::Text(20)),
        w("description", Kind::Text(250)),
        w("currencyCode", Kind::Text(10)),
        w("status", Kind::Enum(&["Draft", "Active", "Inactive"])),
        w("priceType", Kind::Enum(PRICE_TYPES)),
        w("amountType", Kind::Enum(AMOUNT_TYPES)),
        w("startingDate", Kind::Text(10)),
        w("endingDate", Kind::Text(10)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// `assetNo` and `productNo` both hold the item or resource number, as the table's "Asset No."
/// and "Product No." do.
pub(crate) static PRICE_LIST_LINE: EntityDef = EntityDef {
    set: "priceListLines",
    type_name: "priceListLine",
    table: "Price List Line",
    number: ("", ""),
    columns: &[
        ro("id", Kind::Guid),
        w("priceListCode", Kind::Text(20)),
        w("priceType", Kind::Enum(PRICE_TYPES)),
        w("amountType", Kind::Enum(AMOUNT_TYPES)),
        w(
            "assetType",
            Kind::Enum(&[
                " ",
                "Item",
                "Item Discount Group",
                "Resource",
                "Resource Group",
                "Service Cost",
                "G/L Account",
            ]),
        ),
        w("assetNo", Kind::Text(20)),
        w("productNo", Kind::Text(20)),
        w("currencyCode", Kind::Text(10)),
        w("unitOfMeasureCode", Kind::Text(10)),
        w("minimumQuantity", Kind::Number),
        w("unitPrice", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};
