//! Business Central entities the default mappings reach beyond customers, contacts and
//! currencies. `salespeoplePurchasers`, `vendors` and `items` follow API v2.0. API v2.0 has no
//! resources, customer price groups, sales prices or opportunities: the sandbox serves them
//! under the same company as a custom API page (publisher-specific in a real tenant) would,
//! with the fields Business Central's own integration maps.

use super::schema::{EntityDef, Kind, ro, w};

pub(crate) static SALESPERSON: EntityDef = EntityDef {
    set: "salespeoplePurchasers",
    type_name: "salespersonPurchaser",
    table: "Salesperson/Purchaser",
    number: ("code", "SP NO. "),
    columns: &[
        ro("id", Kind::Guid),
        w("code", Kind::Text(20)),
        w("displayName", Kind::Text(50)),
        w("email", Kind::Text(80)),
        w("email2", Kind::Text(80)),
        w("phoneNo", Kind::Text(30)),
        w("jobTitle", Kind::Text(30)),
        w("commisionPercent", Kind::Number),
        w("privacyBlocked", Kind::Bool),
        w("blocked", Kind::Bool),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// `paymentTermsCode` is a sandbox extension, as on customers.
pub(crate) static VENDOR: EntityDef = EntityDef {
    set: "vendors",
    type_name: "vendor",
    table: "Vendor",
    number: ("number", "V"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("displayName", Kind::Text(100)),
        w("addressLine1", Kind::Text(100)),
        w("addressLine2", Kind::Text(50)),
        w("city", Kind::Text(30)),
        w("state", Kind::Text(30)),
        w("country", Kind::Text(10)),
        w("postalCode", Kind::Text(20)),
        w("phoneNumber", Kind::Text(30)),
        w("email", Kind::Text(80)),
        w("website", Kind::Text(80)),
        w("taxRegistrationNumber", Kind::Text(20)),
        w("currencyId", Kind::Guid),
        w("currencyCode", Kind::Text(10)),
        w("paymentTermsId", Kind::Guid),
        w("paymentTermsCode", Kind::Text(10)),
        w("taxLiable", Kind::Bool),
        w("blocked", Kind::Enum(&[" ", "Payment", "All"])),
        ro("balance", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static ITEM: EntityDef = EntityDef {
    set: "items",
    type_name: "item",
    table: "Item",
    number: ("number", "I"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("displayName", Kind::Text(100)),
        w("displayName2", Kind::Text(50)),
        w(
            "type",
            Kind::Enum(&["Inventory", "Service", "Non-Inventory"]),
        ),
        w("itemCategoryCode", Kind::Text(20)),
        w("blocked", Kind::Bool),
        w("gtin", Kind::Text(14)),
        ro("inventory", Kind::Number),
        w("unitPrice", Kind::Number),
        w("priceIncludesTax", Kind::Bool),
        w("unitCost", Kind::Number),
        w("baseUnitOfMeasureId", Kind::Guid),
        w("baseUnitOfMeasureCode", Kind::Text(10)),
        w("taxGroupCode", Kind::Text(20)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static RESOURCE: EntityDef = EntityDef {
    set: "resources",
    type_name: "resource",
    table: "Resource",
    number: ("number", "R"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("displayName", Kind::Text(100)),
        w("type", Kind::Enum(&["Person", "Machine"])),
        w("baseUnitOfMeasureCode", Kind::Text(10)),
        w("unitPrice", Kind::Number),
        w("unitCost", Kind::Number),
        w("capacity", Kind::Number),
        w("blocked", Kind::Bool),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static CUSTOMER_PRICE_GROUP: EntityDef = EntityDef {
    set: "customerPriceGroups",
    type_name: "customerPriceGroup",
    table: "Customer Price Group",
    number: ("code", ""),
    columns: &[
        ro("id", Kind::Guid),
        w("code", Kind::Text(10)),
        w("displayName", Kind::Text(100)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// The classic Sales Price table (extended pricing off).
pub(crate) static SALES_PRICE: EntityDef = EntityDef {
    set: "salesPrices",
    type_name: "salesPrice",
    table: "Sales Price",
    number: ("", ""),
    columns: &[
        ro("id", Kind::Guid),
        w("itemNumber", Kind::Text(20)),
        w(
            "salesType",
            Kind::Enum(&[
                "Customer",
                "Customer Price Group",
                "All Customers",
                "Campaign",
            ]),
        ),
        w("salesCode", Kind::Text(20)),
        w("currencyCode", Kind::Text(10)),
        w("unitOfMeasureCode", Kind::Text(10)),
        w("minimumQuantity", Kind::Number),
        w("unitPrice", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static OPPORTUNITY: EntityDef = EntityDef {
    set: "opportunities",
    type_name: "opportunity",
    table: "Opportunity",
    number: ("number", "OP"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("description", Kind::Text(100)),
        w("contactNumber", Kind::Text(20)),
        w("salespersonCode", Kind::Text(20)),
        w(
            "status",
            Kind::Enum(&["Not Started", "In Progress", "Won", "Lost"]),
        ),
        w("estimatedValue", Kind::Number),
        w("estimatedClosingDate", Kind::Text(10)),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};
