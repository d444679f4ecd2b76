//! Dataverse Sales tables the default mappings reach beyond accounts and contacts: unit groups
//! (`uomschedules`) and units (`uoms`), products, price lists (`pricelevels`) and their items
//! (`productpricelevels`), and opportunities.

use super::schema::{CURRENCY, EntityDef, Kind, MODIFIEDBY, OWNER, Target, ro, w};

const SCHEDULE: &[Target] = &[Target {
    nav: "uomscheduleid",
    set: "uomschedules",
    logical: "uomschedule",
}];
const BASEUOM: &[Target] = &[Target {
    nav: "baseuom",
    set: "uoms",
    logical: "uom",
}];
const DEFAULTUOM: &[Target] = &[Target {
    nav: "defaultuomid",
    set: "uoms",
    logical: "uom",
}];
const DEFAULTSCHEDULE: &[Target] = &[Target {
    nav: "defaultuomscheduleid",
    set: "uomschedules",
    logical: "uomschedule",
}];
const PRICELIST: &[Target] = &[Target {
    nav: "pricelevelid",
    set: "pricelevels",
    logical: "pricelevel",
}];
const PRODUCTREF: &[Target] = &[Target {
    nav: "productid",
    set: "products",
    logical: "product",
}];
const UOMREF: &[Target] = &[Target {
    nav: "uomid",
    set: "uoms",
    logical: "uom",
}];
const PARENTCONTACT: &[Target] = &[Target {
    nav: "parentcontactid",
    set: "contacts",
    logical: "contact",
}];
const PARENTACCOUNT: &[Target] = &[Target {
    nav: "parentaccountid",
    set: "accounts",
    logical: "account",
}];

pub(crate) static UOMSCHEDULE: EntityDef = EntityDef {
    set: "uomschedules",
    logical: "uomschedule",
    key: "uomscheduleid",
    columns: &[
        w("uomscheduleid", Kind::Guid),
        w("name", Kind::Text(200)),
        w("baseuomname", Kind::Text(100)),
        w("description", Kind::Text(2000)),
        w("statecode", Kind::Int),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static UOM: EntityDef = EntityDef {
    set: "uoms",
    logical: "uom",
    key: "uomid",
    columns: &[
        w("uomid", Kind::Guid),
        w("name", Kind::Text(100)),
        w("uomscheduleid", Kind::Lookup(SCHEDULE)),
        w("baseuom", Kind::Lookup(BASEUOM)),
        w("quantity", Kind::Money),
        ro("isschedulebaseuom", Kind::Bool),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

/// Sandbox simplification: new products are Active (as with the organization setting
/// `CreateProductsWithoutParentInActiveState = 1`), so no `PublishProductHierarchy` is needed.
pub(crate) static PRODUCT: EntityDef = EntityDef {
    set: "products",
    logical: "product",
    key: "productid",
    columns: &[
        w("productid", Kind::Guid),
        w("productnumber", Kind::Text(100)),
        w("name", Kind::Text(100)),
        w("description", Kind::Text(2000)),
        w("price", Kind::Money),
        w("standardcost", Kind::Money),
        w("currentcost", Kind::Money),
        w("stockvolume", Kind::Money),
        w("stockweight", Kind::Money),
        w("quantityonhand", Kind::Money),
        w("vendorpartnumber", Kind::Text(100)),
        w("producttypecode", Kind::Option(&[1, 2, 3, 4])),
        w("quantitydecimal", Kind::Int),
        w("defaultuomid", Kind::Lookup(DEFAULTUOM)),
        w("defaultuomscheduleid", Kind::Lookup(DEFAULTSCHEDULE)),
        w("pricelevelid", Kind::Lookup(PRICELIST)),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static PRICELEVEL: EntityDef = EntityDef {
    set: "pricelevels",
    logical: "pricelevel",
    key: "pricelevelid",
    columns: &[
        w("pricelevelid", Kind::Guid),
        w("name", Kind::Text(100)),
        w("description", Kind::Text(200)),
        w("begindate", Kind::Date),
        w("enddate", Kind::Date),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        w("statecode", Kind::Int),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static PRODUCTPRICELEVEL: EntityDef = EntityDef {
    set: "productpricelevels",
    logical: "productpricelevel",
    key: "productpricelevelid",
    columns: &[
        w("productpricelevelid", Kind::Guid),
        w("pricelevelid", Kind::Lookup(PRICELIST)),
        w("productid", Kind::Lookup(PRODUCTREF)),
        w("productnumber", Kind::Text(100)),
        w("uomid", Kind::Lookup(UOMREF)),
        w("amount", Kind::Money),
        w("pricingmethodcode", Kind::Option(&[1, 2, 3, 4, 5, 6])),
        w("transactioncurrencyid", Kind::Lookup(CURRENCY)),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};

pub(crate) static OPPORTUNITY: EntityDef = EntityDef {
    set: "opportunities",
    logical: "opportunity",
    key: "opportunityid",
    columns: &[
        w("opportunityid", Kind::Guid),
        w("name", Kind::Text(300)),
        w("parentcontactid", Kind::Lookup(PARENTCONTACT)),
        w("parentaccountid", Kind::Lookup(PARENTACCOUNT)),
        w("ownerid", Kind::Lookup(OWNER)),
        w("estimatedvalue", Kind::Money),
        w("estimatedclosedate", Kind::Date),
        w("description", Kind::Text(2000)),
        w("statecode", Kind::Int),
        w("statuscode", Kind::Int),
        ro("createdon", Kind::DateTime),
        ro("modifiedon", Kind::DateTime),
        ro("modifiedby", Kind::Lookup(MODIFIEDBY)),
        ro("versionnumber", Kind::Int),
    ],
};
