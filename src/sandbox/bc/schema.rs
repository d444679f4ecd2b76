//! Business Central API v2.0 entity definitions: columns, types and maximum lengths.

/// A column's type.
#[derive(Debug)]
pub(crate) enum Kind {
    Guid,
    Text(usize),
    Enum(&'static [&'static str]),
    Number,
    Bool,
    DateTime,
}

/// One column.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub writable: bool,
}

/// One API page (entity set).
#[derive(Debug)]
pub(crate) struct EntityDef {
    pub set: &'static str,
    /// The OData type name, e.g. `customer`.
    pub type_name: &'static str,
    /// The AL table caption used in messages, e.g. `Customer`.
    pub table: &'static str,
    /// The business key (`number` or `code`) and the prefix of its number series.
    pub number: (&'static str, &'static str),
    pub columns: &'static [Column],
}

impl EntityDef {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

pub(crate) const fn w(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        writable: true,
    }
}

pub(crate) const fn ro(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        writable: false,
    }
}

/// Sandbox extension: API v2.0 gives a customer's payment terms and shipment method only as
/// ids (`paymentTermsId`, `shipmentMethodId`) and has no shipping agent; the sandbox also shows
/// the codes, as a custom API page over the Customer table would (Business Central's own
/// integration reads those codes from the table).
pub(crate) static CUSTOMER: EntityDef = EntityDef {
    set: "customers",
    type_name: "customer",
    table: "Customer",
    number: ("number", "C"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("displayName", Kind::Text(100)),
        w("type", Kind::Enum(&["Company", "Person"])),
        w("addressLine1", Kind::Text(100)),
        w("addressLine2", Kind::Text(50)),
        w("city", Kind::Text(30)),
        w("state", Kind::Text(30)),
        w("country", Kind::Text(10)),
        w("postalCode", Kind::Text(20)),
        w("phoneNumber", Kind::Text(30)),
        w("email", Kind::Text(80)),
        w("website", Kind::Text(80)),
        w("salespersonCode", Kind::Text(20)),
        ro("balanceDue", Kind::Number),
        w("creditLimit", Kind::Number),
        w("taxLiable", Kind::Bool),
        w("currencyId", Kind::Guid),
        w("currencyCode", Kind::Text(10)),
        w("paymentTermsId", Kind::Guid),
        w("shipmentMethodId", Kind::Guid),
        w("paymentTermsCode", Kind::Text(10)),
        w("shipmentMethodCode", Kind::Text(10)),
        w("shippingAgentCode", Kind::Text(10)),
        w("blocked", Kind::Enum(&[" ", "Ship", "Invoice", "All"])),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// Sandbox simplification: a Person contact's `companyNumber` is the number of the customer it
/// belongs to (and `contactBusinessRelation` is then `Customer`); it must be blank or an
/// existing customer number. Real BC links contacts to a Company contact, which is linked to
/// the customer through a business relation.
pub(crate) static CONTACT: EntityDef = EntityDef {
    set: "contacts",
    type_name: "contact",
    table: "Contact",
    number: ("number", "CT"),
    columns: &[
        ro("id", Kind::Guid),
        w("number", Kind::Text(20)),
        w("type", Kind::Enum(&["Person", "Company"])),
        w("displayName", Kind::Text(100)),
        w("jobTitle", Kind::Text(30)),
        w("companyNumber", Kind::Text(20)),
        ro("companyName", Kind::Text(100)),
        ro("contactBusinessRelation", Kind::Text(30)),
        w("addressLine1", Kind::Text(100)),
        w("addressLine2", Kind::Text(50)),
        w("city", Kind::Text(30)),
        w("state", Kind::Text(30)),
        w("country", Kind::Text(10)),
        w("postalCode", Kind::Text(20)),
        w("phoneNumber", Kind::Text(30)),
        w("mobilePhoneNumber", Kind::Text(30)),
        w("email", Kind::Text(80)),
        w("privacyBlocked", Kind::Bool),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

pub(crate) static CURRENCY: EntityDef = EntityDef {
    set: "currencies",
    type_name: "currency",
    table: "Currency",
    number: ("code", ""),
    columns: &[
        ro("id", Kind::Guid),
        w("code", Kind::Text(10)),
        w("displayName", Kind::Text(30)),
        w("symbol", Kind::Text(10)),
        w("amountDecimalPlaces", Kind::Text(5)),
        w("amountRoundingPrecision", Kind::Number),
        ro("lastModifiedDateTime", Kind::DateTime),
    ],
};

/// Every entity set under a company.
pub(crate) static ENTITIES: &[&EntityDef] = &[
    &CUSTOMER,
    &CONTACT,
    &CURRENCY,
    &super::schema_sales::SALESPERSON,
    &super::schema_sales::VENDOR,
    &super::schema_sales::ITEM,
    &super::schema_sales::RESOURCE,
    &super::schema_sales::CUSTOMER_PRICE_GROUP,
    &super::schema_sales::SALES_PRICE,
    &super::schema_pricelists::PRICE_LIST_HEADER,
    &super::schema_pricelists::PRICE_LIST_LINE,
    &super::schema_sales::OPPORTUNITY,
    &super::schema_orders::SALES_ORDER,
    &super::schema_orders::SALES_ORDER_LINE,
    &super::schema_inventory::ITEM_LEDGER_ENTRY,
    &super::schema_shipments::SALES_SHIPMENT,
    &super::schema_shipments::SALES_SHIPMENT_LINE,
    &super::schema_invoices::SALES_INVOICE,
    &super::schema_invoices::SALES_INVOICE_LINE,
    &super::schema_quotes::SALES_QUOTE,
    &super::schema_quotes::SALES_QUOTE_LINE,
    &super::schema_quotes::SALES_QUOTE_ARCHIVE,
    &super::schema_quotes::SALES_QUOTE_ARCHIVE_LINE,
];

/// The definition of an entity set.
pub(crate) fn entity(set: &str) -> Option<&'static EntityDef> {
    ENTITIES.iter().copied().find(|e| e.set == set)
}
