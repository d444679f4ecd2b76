//! Dataverse quotes (`quotes`) and their lines (`quotedetails`), with the columns Business
//! Central's quote integration reads, and the close activities the Sales actions create
//! (`quotecloses`, `opportunitycloses`).
//!
//! A quote is created Draft (statecode 0, statuscode 1 In Progress) with an autonumber
//! `quotenumber` (e.g. `QUO-01001-B7K2L9`) and `revisionnumber` 0. A user activates it by
//! PATCHing statecode 1 (statuscode 2 In Progress or 3 Open), as the real Web API allows.
//! `ReviseQuote` closes it as Revised (statecode 3, statuscode 7) and creates a Draft copy
//! with the same quotenumber and revisionnumber + 1; `WinQuote` makes it Won (statecode 2,
//! statuscode 4); `ConvertQuoteToSalesOrder` wins an Active quote and creates a sales order
//! with `quoteid` and the quote's lines (see `actions.rs`). Lost and Canceled are statecode
//! 3 with statuscode 5 and 6.

use super::schema::{CURRENCY, EntityDef, Kind, MODIFIEDBY, OWNER, Target, ro, w};
use super::schema::{FREIGHT_TERMS, PAYMENT_TERMS, SHIPPING_METHODS};

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
pub(crate) const QUOTE_REF: &[Target] = &[Target {
    nav: "quoteid",
    set: "quotes",
    logical: "quote",
}];
pub(crate) const OPPORTUNITY_REF: &[Target] = &[Target {
    nav: "opportunityid",
    set: "opportunities",
    logical: "opportunity",
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

/// Quote statecodes.
pub(crate) const QUOTE_DRAFT: i64 = 0;
pub(crate) const QUOTE_ACTIVE: i64 = 1;
pub(crate) const QUOTE_WON: i64 = 2;
pub(crate) const QUOTE_CLOSED: i64 = 3;
/// The statuscode of a quote closed by a revision.
pub(crate) const QUOTE_REVISED: i64 = 7;

pub(crate) static QUOTE: EntityDef = EntityDef {
    set: "quotes",
    logical: "quote",
    key: "quoteid",
    columns: &[
        w("quoteid", Kind::Guid),
        w("name", Kind::Text(300)),
        w("quotenumber", Kind::Text(100)),
        w("revisionnumber", Kind::Int),
        w("customerid", Kind::Lookup(CUSTOMER)),
        w("opportunityid", Kind::Lookup(OPPORTUNITY_REF)),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("ownerid", Kind::Lookup(OWNER)),
        w("description", Kind::Text(2000)),
        w("effectivefrom", Kind::Date),
        w("effectiveto", Kind::Date),
        w("requestdeliveryby", Kind::Date),
        w("freightamount", Kind::Money),
        w("discountamount", Kind::Money),
        w("discountpercentage", Kind::Money),
        w("paymenttermscode", Kind::Option(PAYMENT_TERMS)),
        w("freighttermscode", Kind::Option(FREIGHT_TERMS)),
        w("shippingmethodcode", Kind::Option(SHIPPING_METHODS)),
        w("billto_name", Kind::Text(200)),
        w("billto_line1", Kind::Text(250)),
        w("billto_line2", Kind::Text(250)),
        w("billto_city", Kind::Text(80)),
        w("billto_stateorprovince", Kind::Text(50)),
        w("billto_postalcode", Kind::Text(20)),
        w("billto_country", Kind::Text(80)),
        w("shipto_name", Kind::Text(200)),
        w("shipto_line1", Kind::Text(250)),
        w("shipto_line2", Kind::Text(250)),
        w("shipto_city", Kind::Text(80)),
        w("shipto_stateorprovince", Kind::Text(50)),
        w("shipto_postalcode", Kind::Text(20)),
        w("shipto_country", Kind::Text(80)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static QUOTEDETAIL: EntityDef = EntityDef {
    set: "quotedetails",
    logical: "quotedetail",
    key: "quotedetailid",
    columns: &[
        w("quotedetailid", Kind::Guid),
        w("quoteid", Kind::Lookup(QUOTE_REF)),
        w("sequencenumber", Kind::Int),
        w("productid", Kind::Lookup(PRODUCT)),
        w("isproductoverridden", Kind::Bool),
        w("productdescription", Kind::Text(500)),
        w("description", Kind::Text(2000)),
        w("uomid", Kind::Lookup(UOM)),
        w("quantity", Kind::Money),
        w("priceperunit", Kind::Money),
        w("ispriceoverridden", Kind::Bool),
        w("manualdiscountamount", Kind::Money),
        w("volumediscountamount", Kind::Money),
        w("baseamount", Kind::Money),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

/// The close activity `WinQuote` records.
pub(crate) static QUOTECLOSE: EntityDef = EntityDef {
    set: "quotecloses",
    logical: "quoteclose",
    key: "activityid",
    columns: &[
        w("activityid", Kind::Guid),
        w("subject", Kind::Text(200)),
        w("quoteid", Kind::Lookup(QUOTE_REF)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("modifiedon", Kind::DateTime),
        ro("versionnumber", Kind::Int),
    ],
};

/// The close activity `WinOpportunity` (and `LoseOpportunity`) records.
pub(crate) static OPPORTUNITYCLOSE: EntityDef = EntityDef {
    set: "opportunitycloses",
    logical: "opportunityclose",
    key: "activityid",
    columns: &[
        w("activityid", Kind::Guid),
        w("subject", Kind::Text(200)),
        w("opportunityid", Kind::Lookup(OPPORTUNITY_REF)),
        w("actualrevenue", Kind::Money),
        w("actualend", Kind::Date),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("modifiedon", Kind::DateTime),
        ro("versionnumber", Kind::Int),
    ],
};
