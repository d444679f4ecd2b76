//! Dataverse sales orders (`salesorders`) and their lines (`salesorderdetails`), with the
//! columns Business Central's order integration reads. `customerid` is polymorphic (account
//! or contact); `isproductoverridden` marks a write-in line, whose name is
//! `productdescription`. statecode 0 Active, 1 Submitted, 2 Canceled, 3 Fulfilled, 4 Invoiced
//! (statuscodes and the read-only rule in `write_state.rs`). `totalamount` and
//! `totalamountlessfreight` are writable as they are when the organisation's system pricing
//! calculation is off, which Business Central's order integration requires (it writes the BC
//! order's amounts there).

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
const ORDER: &[Target] = &[Target {
    nav: "salesorderid",
    set: "salesorders",
    logical: "salesorder",
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

pub(crate) static SALESORDER: EntityDef = EntityDef {
    set: "salesorders",
    logical: "salesorder",
    key: "salesorderid",
    columns: &[
        w("salesorderid", Kind::Guid),
        w("name", Kind::Text(300)),
        w("ordernumber", Kind::Text(100)),
        w("customerid", Kind::Lookup(CUSTOMER)),
        w("quoteid", Kind::Lookup(super::schema_quotes::QUOTE_REF)),
        w(
            "opportunityid",
            Kind::Lookup(super::schema_quotes::OPPORTUNITY_REF),
        ),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("ownerid", Kind::Lookup(OWNER)),
        w("description", Kind::Text(2000)),
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
        w("lastbackofficesubmit", Kind::Date),
        w("datefulfilled", Kind::Date),
        w("totalamount", Kind::Money),
        w("totalamountlessfreight", Kind::Money),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static SALESORDERDETAIL: EntityDef = EntityDef {
    set: "salesorderdetails",
    logical: "salesorderdetail",
    key: "salesorderdetailid",
    columns: &[
        w("salesorderdetailid", Kind::Guid),
        w("salesorderid", Kind::Lookup(ORDER)),
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
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};
