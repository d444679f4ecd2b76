//! Dataverse invoices (`invoices`), their lines (`invoicedetails`) and Business Central's
//! account statistics entity (`nav_accountstatistics`, set `nav_accountstatisticses`, linked
//! from `account.nav_accountstatisticsid`), with the columns Business Central's posted-invoice
//! integration and CRM Statistics Job write.
//!
//! invoice statecode **0 Active, 1 Closed (deprecated), 2 Paid, 3 Canceled**; statuscode 1 New,
//! 2 Partially Shipped, 4 Billed, 5 Booked, 6 Installed (state 0); 3 Canceled (deprecated), 7
//! Paid in Full (deprecated) (state 1); 100001 Complete, 100002 Partial (state 2); 100003
//! Canceled (state 3). The rules the sandbox enforces are in `rules_invoices.rs`.
//!
//! Sandbox simplification: the header totals (`totalamount`, `totallineitemamount`,
//! `totaltax`) are stored as written instead of being recalculated from the lines by the
//! platform; Couplet writes Business Central's posted totals there.

use super::schema::{CURRENCY, EntityDef, Kind, MODIFIEDBY, OWNER, Target, ro, w};

const CUSTOMER: &[Target] = &[
    Target {
        nav: "customerid_account",
        set: "accounts",
        logical: "account",
    },
    Target {
        nav: "customerid_contact",
        set: "contacts",
        logical: "contact",
    },
];
const ORDER: &[Target] = &[Target {
    nav: "salesorderid",
    set: "salesorders",
    logical: "salesorder",
}];
const INVOICE_REF: &[Target] = &[Target {
    nav: "invoiceid",
    set: "invoices",
    logical: "invoice",
}];
const PRODUCT: &[Target] = &[Target {
    nav: "productid",
    set: "products",
    logical: "product",
}];
const UOM: &[Target] = &[Target {
    nav: "uomid",
    set: "uoms",
    logical: "uom",
}];
/// `account.nav_accountstatisticsid`.
pub(crate) const ACCOUNT_STATISTICS_REF: &[Target] = &[Target {
    nav: "nav_accountstatisticsid",
    set: "nav_accountstatisticses",
    logical: "nav_accountstatistics",
}];

pub(crate) static INVOICE: EntityDef = EntityDef {
    set: "invoices",
    logical: "invoice",
    key: "invoiceid",
    columns: &[
        w("invoiceid", Kind::Guid),
        w("name", Kind::Text(300)),
        w("invoicenumber", Kind::Text(100)),
        w("customerid", Kind::Lookup(CUSTOMER)),
        w("salesorderid", Kind::Lookup(ORDER)),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("ownerid", Kind::Lookup(OWNER)),
        w("description", Kind::Text(2000)),
        w("duedate", Kind::Date),
        w("datedelivered", Kind::Date),
        w("ispricelocked", Kind::Bool),
        w("totallineitemamount", Kind::Money),
        w("discountamount", Kind::Money),
        w("totaltax", Kind::Money),
        w("totalamount", Kind::Money),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static INVOICEDETAIL: EntityDef = EntityDef {
    set: "invoicedetails",
    logical: "invoicedetail",
    key: "invoicedetailid",
    columns: &[
        w("invoicedetailid", Kind::Guid),
        w("invoiceid", Kind::Lookup(INVOICE_REF)),
        w("lineitemnumber", Kind::Int),
        w("sequencenumber", Kind::Int),
        w("productid", Kind::Lookup(PRODUCT)),
        w("isproductoverridden", Kind::Bool),
        w("productdescription", Kind::Text(500)),
        w("description", Kind::Text(2000)),
        w("uomid", Kind::Lookup(UOM)),
        w("quantity", Kind::Money),
        w("priceperunit", Kind::Money),
        w("ispriceoverridden", Kind::Bool),
        w("baseamount", Kind::Money),
        w("manualdiscountamount", Kind::Money),
        w("tax", Kind::Money),
        w("extendedamount", Kind::Money),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

/// Business Central's `nav_accountstatistics` (table 5367 "CRM Account Statistics"): the
/// money columns are in the local currency (`…lcy`).
pub(crate) static ACCOUNT_STATISTICS: EntityDef = EntityDef {
    set: "nav_accountstatisticses",
    logical: "nav_accountstatistics",
    key: "nav_accountstatisticsid",
    columns: &[
        w("nav_accountstatisticsid", Kind::Guid),
        w("nav_name", Kind::Text(160)),
        w("nav_customerno", Kind::Text(20)),
        w("nav_balancelcy", Kind::Money),
        w("nav_outstandingorderslcy", Kind::Money),
        w("nav_shippednotinvoicedlcy", Kind::Money),
        w("nav_outstandinginvoiceslcy", Kind::Money),
        w("nav_totallcy", Kind::Money),
        w("nav_creditlimitlcy", Kind::Money),
        w("nav_overdueamountslcy", Kind::Money),
        w("nav_overdueamountsasof", Kind::Date),
        w("nav_totalsaleslcy", Kind::Money),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};
