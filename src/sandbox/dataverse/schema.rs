//! Dataverse entity definitions: columns, types, maximum lengths and lookups.

/// A lookup target: the single-valued navigation property to bind through, and the table.
#[derive(Debug)]
pub(crate) struct Target {
    /// Navigation property used in `nav@odata.bind`.
    pub nav: &'static str,
    /// Entity set of the target.
    pub set: &'static str,
    /// Logical name of the target.
    pub logical: &'static str,
}

/// A column's type.
#[derive(Debug)]
pub(crate) enum Kind {
    Guid,
    Text(usize),
    Int,
    Money,
    Bool,
    DateTime,
    /// A date-only column (`2024-05-31`).
    Date,
    /// A choice (option set): the valid option values.
    Option(&'static [i64]),
    /// A lookup, stored and read as `_<name>_value`.
    Lookup(&'static [Target]),
}

/// One column.
#[derive(Debug)]
pub(crate) struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub writable: bool,
}

/// One table.
#[derive(Debug)]
pub(crate) struct EntityDef {
    pub set: &'static str,
    pub logical: &'static str,
    pub key: &'static str,
    pub columns: &'static [Column],
}

impl EntityDef {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The lookup column whose targets include navigation property `nav`.
    pub fn lookup_by_nav(&self, nav: &str) -> Option<(&'static Column, &'static Target)> {
        self.columns.iter().find_map(|c| match &c.kind {
            Kind::Lookup(ts) => ts.iter().find(|t| t.nav == nav).map(|t| (c, t)),
            _ => None,
        })
    }

    /// Names as they appear in a GET: lookups as `_x_value`.
    pub fn read_names(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().map(|c| c.read_name())
    }
}

impl Column {
    pub fn read_name(&self) -> String {
        match self.kind {
            Kind::Lookup(_) => format!("_{}_value", self.name),
            _ => self.name.to_string(),
        }
    }

    pub fn is_polymorphic(&self) -> bool {
        matches!(self.kind, Kind::Lookup(ts) if ts.len() > 1)
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

pub(crate) const CURRENCY: &[Target] = &[Target {
    nav: "transactioncurrencyid",
    set: "transactioncurrencies",
    logical: "transactioncurrency",
}];
pub(crate) const MODIFIEDBY: &[Target] = &[Target {
    nav: "modifiedby",
    set: "systemusers",
    logical: "systemuser",
}];
const PRIMARYCONTACT: &[Target] = &[Target {
    nav: "primarycontactid",
    set: "contacts",
    logical: "contact",
}];
pub(crate) const OWNER: &[Target] = &[Target {
    nav: "ownerid",
    set: "systemusers",
    logical: "systemuser",
}];
/// Option values of `account.paymenttermscode` (Net 30, 2% 10 Net 30, Net 45, Net 60).
pub(crate) const PAYMENT_TERMS: &[i64] = &[1, 2, 3, 4];
/// Option values of `account.address1_freighttermscode` (FOB, No Charge).
pub(crate) const FREIGHT_TERMS: &[i64] = &[1, 2];
/// Option values of `account.address1_shippingmethodcode` (Airborne, DHL, FedEx, UPS, Postal
/// Mail, Full Load, Will Call).
pub(crate) const SHIPPING_METHODS: &[i64] = &[1, 2, 3, 4, 5, 6, 7];
const PARENTCUSTOMER: &[Target] = &[
    Target {
        nav: "parentcustomerid_account",
        set: "accounts",
        logical: "account",
    },
    Target {
        nav: "parentcustomerid_contact",
        set: "contacts",
        logical: "contact",
    },
];

pub(crate) static ACCOUNT: EntityDef = EntityDef {
    set: "accounts",
    logical: "account",
    key: "accountid",
    columns: &[
        w("accountid", Kind::Guid),
        w("name", Kind::Text(160)),
        w("accountnumber", Kind::Text(20)),
        w("telephone1", Kind::Text(50)),
        w("telephone2", Kind::Text(50)),
        w("fax", Kind::Text(50)),
        w("emailaddress1", Kind::Text(100)),
        w("websiteurl", Kind::Text(200)),
        w("address1_line1", Kind::Text(250)),
        w("address1_line2", Kind::Text(250)),
        w("address1_city", Kind::Text(80)),
        w("address1_stateorprovince", Kind::Text(50)),
        w("address1_postalcode", Kind::Text(20)),
        w("address1_country", Kind::Text(80)),
        w("creditlimit", Kind::Money),
        w("customertypecode", Kind::Int),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("primarycontactid", Kind::Lookup(PRIMARYCONTACT)),
        w("ownerid", Kind::Lookup(OWNER)),
        w("paymenttermscode", Kind::Option(PAYMENT_TERMS)),
        w("address1_freighttermscode", Kind::Option(FREIGHT_TERMS)),
        w(
            "address1_shippingmethodcode",
            Kind::Option(SHIPPING_METHODS),
        ),
        // A custom column: the account's legal entity in a multi-company ERP (F&O's
        // dataAreaId), as an F&O integration adds to the account (README, "Finance & Operations").
        w("couplet_legalentity", Kind::Text(4)),
        w(
            "nav_accountstatisticsid",
            Kind::Lookup(super::schema_invoices::ACCOUNT_STATISTICS_REF),
        ),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static CONTACT: EntityDef = EntityDef {
    set: "contacts",
    logical: "contact",
    key: "contactid",
    columns: &[
        w("contactid", Kind::Guid),
        w("firstname", Kind::Text(50)),
        w("middlename", Kind::Text(50)),
        w("lastname", Kind::Text(50)),
        ro("fullname", Kind::Text(160)),
        w("emailaddress1", Kind::Text(100)),
        w("telephone1", Kind::Text(50)),
        w("mobilephone", Kind::Text(50)),
        w("fax", Kind::Text(50)),
        w("jobtitle", Kind::Text(100)),
        w("address1_line1", Kind::Text(250)),
        w("address1_line2", Kind::Text(250)),
        w("address1_city", Kind::Text(80)),
        w("address1_stateorprovince", Kind::Text(50)),
        w("address1_postalcode", Kind::Text(20)),
        w("address1_country", Kind::Text(80)),
        w("parentcustomerid", Kind::Lookup(PARENTCUSTOMER)),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static TRANSACTIONCURRENCY: EntityDef = EntityDef {
    set: "transactioncurrencies",
    logical: "transactioncurrency",
    key: "transactioncurrencyid",
    columns: &[
        w("transactioncurrencyid", Kind::Guid),
        w("isocurrencycode", Kind::Text(5)),
        w("currencyname", Kind::Text(100)),
        w("currencysymbol", Kind::Text(10)),
        w("exchangerate", Kind::Money),
        w("statecode", Kind::Int),
        ro("modifiedon", Kind::DateTime),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static SYSTEMUSER: EntityDef = EntityDef {
    set: "systemusers",
    logical: "systemuser",
    key: "systemuserid",
    columns: &[
        w("systemuserid", Kind::Guid),
        w("fullname", Kind::Text(200)),
        w("internalemailaddress", Kind::Text(100)),
        w("isdisabled", Kind::Bool),
        w("islicensed", Kind::Bool),
        w("isintegrationuser", Kind::Bool),
        w("mobilephone", Kind::Text(64)),
        w("jobtitle", Kind::Text(100)),
        w("applicationid", Kind::Guid),
        ro("modifiedon", Kind::DateTime),
        ro("versionnumber", Kind::Int),
    ],
};

/// Every table, by entity set.
pub(crate) static ENTITIES: &[&EntityDef] = &[
    &ACCOUNT,
    &CONTACT,
    &TRANSACTIONCURRENCY,
    &SYSTEMUSER,
    &super::schema_sales::UOMSCHEDULE,
    &super::schema_sales::UOM,
    &super::schema_sales::PRODUCT,
    &super::schema_sales::PRICELEVEL,
    &super::schema_sales::PRODUCTPRICELEVEL,
    &super::schema_sales::OPPORTUNITY,
    &super::schema_orders::SALESORDER,
    &super::schema_orders::SALESORDERDETAIL,
    &super::schema_posts::POST,
    &super::schema_invoices::INVOICE,
    &super::schema_invoices::INVOICEDETAIL,
    &super::schema_invoices::ACCOUNT_STATISTICS,
    &super::schema_quotes::QUOTE,
    &super::schema_quotes::QUOTEDETAIL,
    &super::schema_quotes::QUOTECLOSE,
    &super::schema_quotes::OPPORTUNITYCLOSE,
];

/// The definition of an entity set.
pub(crate) fn entity(set: &str) -> Option<&'static EntityDef> {
    ENTITIES.iter().copied().find(|e| e.set == set)
}
