//! The Finance & Operations data entities the emulator serves: their public collection names,
//! their composite keys (always led by `dataAreaId`), columns and types.
//!
//! Field names follow the entities' `$metadata` as the reference lists them
//! (`external-apis.md` §3.2) and the Common Data Model pages of the entities
//! (MicrosoftDocs/common-data-model-and-service,
//! `schema/core/operationsCommon/Entities/SupplyChain/SalesAndMarketing/SalesPriceAgreementEntity.md`).
//! Sandbox extension: `ModifiedDateTime` on customers, released products and sales order
//! headers. The standard entities do not expose the row's modified time; an entity extension
//! adding it is how a polling integration gets one, and the reference's change detection for
//! F&O is "modified-datetime polling where the entity exposes one".

/// The enum namespace of data entities.
pub(crate) const ENUM_NAMESPACE: &str = "Microsoft.Dynamics.DataEntities";

/// A column's type.
#[derive(Debug)]
pub(crate) enum Kind {
    /// A string of at most this many characters.
    Text(usize),
    /// A 64-bit integer (record ids).
    Int64,
    /// A 32-bit integer (priorities, precisions).
    Int32,
    /// A decimal number.
    Decimal,
    /// A date, which F&O sends as a DateTimeOffset at 12:00 UTC.
    Date,
    /// An instant.
    DateTime,
    /// An enum: its type name and members, sent and received as the member name.
    Enum(&'static str, &'static [&'static str]),
}

/// One column.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Settable by a client (key fields only on create).
    pub writable: bool,
    /// The field's label, as messages name it.
    pub label: &'static str,
}

/// One data entity.
#[derive(Debug)]
pub(crate) struct EntityDef {
    /// The public collection name (entity set), e.g. `CustomersV3`.
    pub set: &'static str,
    /// The public entity name (the OData type), e.g. `CustomerV3`.
    pub type_name: &'static str,
    /// The entity's X++ class, as write errors name it.
    pub table: &'static str,
    /// Key fields, `dataAreaId` first on a company-specific entity; a shared entity (units,
    /// whose rows every legal entity sees) has no `dataAreaId` at all.
    pub keys: &'static [&'static str],
    pub columns: &'static [Column],
}

impl EntityDef {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// True when the entity's rows belong to a legal entity (its key starts with
    /// `dataAreaId`); false for shared entities such as units of measure.
    pub fn is_company_specific(&self) -> bool {
        self.keys.first() == Some(&"dataAreaId")
    }
}

const fn w(name: &'static str, kind: Kind, label: &'static str) -> Column {
    Column {
        name,
        kind,
        writable: true,
        label,
    }
}

const fn ro(name: &'static str, kind: Kind, label: &'static str) -> Column {
    Column {
        name,
        kind,
        writable: false,
        label,
    }
}

/// `NoYes`, the common boolean enum.
pub(crate) const NO_YES: Kind = Kind::Enum("NoYes", &["No", "Yes"]);

const COMPANY: Column = w("dataAreaId", Kind::Text(4), "Company");

pub(crate) static CUSTOMERS: EntityDef = EntityDef {
    set: "CustomersV3",
    type_name: "CustomerV3",
    table: "CustCustomerV3Entity",
    keys: &["dataAreaId", "CustomerAccount"],
    columns: &[
        COMPANY,
        w("CustomerAccount", Kind::Text(20), "Customer account"),
        w("OrganizationName", Kind::Text(100), "Organization name"),
        w(
            "PartyType",
            Kind::Enum("DirPartyBaseType", &["None", "Person", "Organization"]),
            "Party type",
        ),
        w("CustomerGroupId", Kind::Text(10), "Customer group"),
        w("SalesCurrencyCode", Kind::Text(3), "Currency"),
        w("PaymentTerms", Kind::Text(10), "Terms of payment"),
        w("DeliveryMode", Kind::Text(10), "Mode of delivery"),
        w(
            "EmployeeResponsibleNumber",
            Kind::Text(25),
            "Employee responsible",
        ),
        w("AddressStreet", Kind::Text(250), "Street"),
        w("AddressCity", Kind::Text(60), "City"),
        w("AddressState", Kind::Text(10), "State"),
        w("AddressZipCode", Kind::Text(10), "ZIP/postal code"),
        w("AddressCountryRegionId", Kind::Text(10), "Country/region"),
        w("PrimaryContactEmail", Kind::Text(255), "Email"),
        w("PrimaryContactPhone", Kind::Text(255), "Telephone"),
        w("PrimaryContactURL", Kind::Text(255), "URL"),
        w("CreditLimit", Kind::Decimal, "Credit limit"),
        w(
            "OnHoldStatus",
            Kind::Enum(
                "CustVendorBlocked",
                &["No", "Invoice", "All", "Payment", "Requisition", "Never"],
            ),
            "Customer on hold",
        ),
        ro("ModifiedDateTime", Kind::DateTime, "Modified date and time"),
    ],
};

pub(crate) static RELEASED_PRODUCTS: EntityDef = EntityDef {
    set: "ReleasedProductsV2",
    type_name: "ReleasedProductV2",
    table: "EcoResReleasedProductV2Entity",
    keys: &["dataAreaId", "ItemNumber"],
    columns: &[
        COMPANY,
        w("ItemNumber", Kind::Text(20), "Item number"),
        w("ProductNumber", Kind::Text(20), "Product number"),
        w("ProductName", Kind::Text(60), "Product name"),
        w("SearchName", Kind::Text(20), "Search name"),
        w(
            "ProductType",
            Kind::Enum("EcoResProductType", &["Item", "Service"]),
            "Product type",
        ),
        w("ItemModelGroupId", Kind::Text(10), "Item model group"),
        w("ProductGroupId", Kind::Text(10), "Item group"),
        w("InventoryUnitSymbol", Kind::Text(10), "Inventory unit"),
        w("SalesUnitSymbol", Kind::Text(10), "Sales unit"),
        w("SalesPrice", Kind::Decimal, "Sales price"),
        w("SalesPriceQuantity", Kind::Decimal, "Sales price quantity"),
        w("SalesPriceDate", Kind::Date, "Sales price date"),
        w("ProductionStandardCost", Kind::Decimal, "Cost price"),
        w(
            "IsSalesWithholdingTaxCalculated",
            NO_YES,
            "Calculate withholding tax",
        ),
        ro("ModifiedDateTime", Kind::DateTime, "Modified date and time"),
    ],
};

pub(crate) static SALES_PRICE_AGREEMENTS: EntityDef = EntityDef {
    set: "SalesPriceAgreements",
    type_name: "SalesPriceAgreement",
    table: "SalesPriceAgreementEntity",
    keys: &["dataAreaId", "RecordId"],
    columns: &[
        COMPANY,
        ro("RecordId", Kind::Int64, "Record ID"),
        w("ItemNumber", Kind::Text(20), "Item number"),
        w(
            "PriceCustomerGroupCode",
            Kind::Text(10),
            "Customer price group",
        ),
        w("CustomerAccountNumber", Kind::Text(20), "Customer account"),
        w("PriceCurrencyCode", Kind::Text(3), "Currency"),
        w("Price", Kind::Decimal, "Price"),
        w("QuantityUnitySymbol", Kind::Text(10), "Unit"),
        w("FromQuantity", Kind::Decimal, "From"),
        w("ToQuantity", Kind::Decimal, "To"),
        w("SalesPriceQuantity", Kind::Decimal, "Price quantity"),
        w("PriceApplicableFromDate", Kind::Date, "From date"),
        w("PriceApplicableToDate", Kind::Date, "To date"),
        w("WillSearchContinue", NO_YES, "Find next"),
    ],
};

pub(crate) static SALES_ORDER_HEADERS: EntityDef = EntityDef {
    set: "SalesOrderHeadersV2",
    type_name: "SalesOrderHeaderV2",
    table: "SalesOrderHeaderV2Entity",
    keys: &["dataAreaId", "SalesOrderNumber"],
    columns: &[
        COMPANY,
        w("SalesOrderNumber", Kind::Text(20), "Sales order"),
        w(
            "OrderingCustomerAccountNumber",
            Kind::Text(20),
            "Customer account",
        ),
        w(
            "InvoiceCustomerAccountNumber",
            Kind::Text(20),
            "Invoice account",
        ),
        w("CurrencyCode", Kind::Text(3), "Currency"),
        w(
            "CustomersOrderReference",
            Kind::Text(60),
            "Customer reference",
        ),
        w(
            "CustomerRequisitionNumber",
            Kind::Text(20),
            "Customer requisition",
        ),
        w("SalesOrderName", Kind::Text(100), "Name"),
        ro(
            "SalesOrderStatus",
            Kind::Enum(
                "SalesStatus",
                &["None", "Backorder", "Delivered", "Invoiced", "Canceled"],
            ),
            "Status",
        ),
        w("RequestedShippingDate", Kind::Date, "Requested ship date"),
        w("LanguageId", Kind::Text(7), "Language"),
        ro("ModifiedDateTime", Kind::DateTime, "Modified date and time"),
    ],
};

/// The lines' key is the lot id F&O gives each line (`InventTransId`), per the reference
/// (`SalesOrderLines(dataAreaId='usmf',InventoryLotId='000221')`).
pub(crate) static SALES_ORDER_LINES: EntityDef = EntityDef {
    set: "SalesOrderLines",
    type_name: "SalesOrderLine",
    table: "SalesOrderLineEntity",
    keys: &["dataAreaId", "InventoryLotId"],
    columns: &[
        COMPANY,
        ro("InventoryLotId", Kind::Text(20), "Lot ID"),
        w("SalesOrderNumber", Kind::Text(20), "Sales order"),
        w("LineNumber", Kind::Decimal, "Line number"),
        w("ItemNumber", Kind::Text(20), "Item number"),
        w("LineDescription", Kind::Text(1000), "Text"),
        w("OrderedSalesQuantity", Kind::Decimal, "Quantity"),
        w("SalesUnitSymbol", Kind::Text(10), "Unit"),
        w("SalesPrice", Kind::Decimal, "Unit price"),
        ro("LineAmount", Kind::Decimal, "Net amount"),
        ro("CurrencyCode", Kind::Text(3), "Currency"),
        ro(
            "SalesOrderLineStatus",
            Kind::Enum(
                "SalesStatus",
                &["None", "Backorder", "Delivered", "Invoiced", "Canceled"],
            ),
            "Line status",
        ),
    ],
};

/// Customer price groups (`PriceDiscPriceCustomerGroupEntity`, public collection
/// `PriceCustomerGroups`), per legal entity: the groups a sales price agreement's
/// `PriceCustomerGroupCode` names. Fields from the Common Data Model page
/// (MicrosoftDocs/common-data-model-and-service,
/// `schema/core/operationsCommon/Entities/SupplyChain/InventoryAndWarehouseManagement/PriceDiscPriceCustomerGroupEntity.md`:
/// `GroupCode`, `GroupName`, `PricingPriority`); the key is `dataAreaId` + `GroupCode`. No
/// `ModifiedDateTime`: a schedule reads it.
pub(crate) static PRICE_CUSTOMER_GROUPS: EntityDef = EntityDef {
    set: "PriceCustomerGroups",
    type_name: "PriceCustomerGroup",
    table: "PriceDiscPriceCustomerGroupEntity",
    keys: &["dataAreaId", "GroupCode"],
    columns: &[
        COMPANY,
        w("GroupCode", Kind::Text(10), "Price group"),
        w("GroupName", Kind::Text(60), "Name"),
        w("PricingPriority", Kind::Int32, "Pricing priority"),
    ],
};

/// Units of measure (`UnitOfMeasureEntity`, public collection `UnitsOfMeasure`), shared by
/// every legal entity: keyed by `UnitSymbol` alone, without `dataAreaId` (sandbox subset of
/// the columns and of `UnitClass`'s members). Fields from the Common Data Model page (MicrosoftDocs/common-data-model-and-service,
/// `schema/core/operationsCommon/Entities/SupplyChain/ProductInformationManagement/UnitOfMeasureEntity.md`).
pub(crate) static UNITS_OF_MEASURE: EntityDef = EntityDef {
    set: "UnitsOfMeasure",
    type_name: "UnitOfMeasure",
    table: "UnitOfMeasureEntity",
    keys: &["UnitSymbol"],
    columns: &[
        w("UnitSymbol", Kind::Text(10), "Unit"),
        w("UnitDescription", Kind::Text(60), "Description"),
        w(
            "UnitClass",
            Kind::Enum(
                "UnitOfMeasureClass",
                &[
                    "Undefined",
                    "Quantity",
                    "Length",
                    "Area",
                    "Volume",
                    "Mass",
                    "Time",
                ],
            ),
            "Unit class",
        ),
        w(
            "SystemOfUnits",
            Kind::Enum("UnitOfMeasureSystemOfUnits", &["None", "Metric", "US"]),
            "System of units",
        ),
        w("DecimalPrecision", Kind::Int32, "Decimal precision"),
        w("IsBaseUnit", NO_YES, "Base unit"),
        w("IsSystemUnit", NO_YES, "System unit"),
        w("NationalCode", Kind::Text(10), "National code"),
    ],
};

/// Every entity the emulator serves.
pub(crate) static ENTITIES: &[&EntityDef] = &[
    &CUSTOMERS,
    &RELEASED_PRODUCTS,
    &SALES_PRICE_AGREEMENTS,
    &SALES_ORDER_HEADERS,
    &SALES_ORDER_LINES,
    &PRICE_CUSTOMER_GROUPS,
    &UNITS_OF_MEASURE,
];

/// The entity of a public collection name (case-sensitive, as F&O's routing is).
pub(crate) fn entity(set: &str) -> Option<&'static EntityDef> {
    ENTITIES.iter().copied().find(|e| e.set == set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_is_keyed_by_company_first_or_shared_and_declares_its_keys() {
        for def in ENTITIES {
            // A shared entity has no company column at all.
            assert_eq!(
                def.is_company_specific(),
                def.column("dataAreaId").is_some(),
                "{}",
                def.set
            );
            for k in def.keys {
                assert!(def.column(k).is_some(), "{}.{k}", def.set);
            }
            let mut names: Vec<_> = def.columns.iter().map(|c| c.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), def.columns.len(), "{}", def.set);
        }
        assert!(entity("CustomersV3").is_some() && entity("customersv3").is_none());
        assert!(PRICE_CUSTOMER_GROUPS.is_company_specific());
        assert!(!UNITS_OF_MEASURE.is_company_specific());
    }
}
