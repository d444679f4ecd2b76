//! Each entity's own rules, as its `defaultRow`, `validateWrite` and `validateDelete` apply
//! them: numbers from the number sequences, defaults taken from related records (an order's
//! currency from its customer, a line's price and unit from its product), related records
//! that must exist in the same company, and what a delete takes with it. Messages follow the
//! Infolog texts F&O writes (`external-apis.md` §3.3).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::render::{CUSTOMER_GROUPS, CUSTOMER_SEQUENCE};
use super::schema::{
    CUSTOMERS, EntityDef, Kind, RELEASED_PRODUCTS, SALES_ORDER_HEADERS, SALES_ORDER_LINES,
    SALES_PRICE_AGREEMENTS,
};
use super::state::Data;
use super::{FoError, keys, timestamp};
use crate::event::Fields;

/// The company's accounting currency, the default of prices.
const COMPANY_CURRENCY: &str = "USD";

fn text<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.get(name).and_then(Value::as_str).unwrap_or_default()
}

fn number(f: &Fields, name: &str) -> f64 {
    f.get(name).and_then(Value::as_f64).unwrap_or_default()
}

/// The row of `def` with these key values, if any.
fn related<'a>(data: &'a Data, def: &EntityDef, key: &[&str]) -> Option<&'a Fields> {
    let values: Vec<Value> = key.iter().map(|k| json!(k)).collect();
    data.store
        .table(def.set)
        .and_then(|t| t.get(&keys::row_id_of(&values)))
        .map(|r| &r.fields)
}

fn required(def: &EntityDef, f: &Fields, name: &str) -> Result<(), FoError> {
    if text(f, name).is_empty() {
        let label = def.column(name).map_or(name, |c| c.label);
        return Err(FoError::write_failed(
            def.table,
            format!("Field '{label}' must be filled in."),
        ));
    }
    Ok(())
}

fn not_found_in(def: &EntityDef, value: &str, field: &str, table: &str) -> FoError {
    FoError::write_failed(
        def.table,
        format!(
            "The value '{value}' in field '{field}' is not found in the related table '{table}'."
        ),
    )
}

/// The empty value of a column, as a create leaves it when the body has none.
pub(crate) fn empty_value(kind: &Kind, now: DateTime<Utc>) -> Value {
    match kind {
        Kind::Text(_) => Value::from(""),
        Kind::Decimal => Value::from(0.0),
        Kind::Int64 | Kind::Int32 => Value::from(0),
        Kind::Date => Value::from(super::NO_DATE),
        Kind::DateTime => Value::from(timestamp(now)),
        Kind::Enum(_, members) => Value::from(members.first().copied().unwrap_or_default()),
    }
}

/// Fills the columns the request left out with their defaults (empty strings, zero, the
/// empty date, the first enum member), then the entity's own defaults and numbers.
pub(crate) fn default_row(
    data: &mut Data,
    def: &EntityDef,
    company: &str,
    f: &mut Fields,
    now: DateTime<Utc>,
) -> Result<(), FoError> {
    if def.set == CUSTOMERS.set && text(f, "CustomerAccount").is_empty() {
        let n = data.numbers.next(CUSTOMER_SEQUENCE, company);
        f.insert("CustomerAccount".into(), json!(format!("C{n:05}")));
    }
    if def.set == SALES_ORDER_HEADERS.set && text(f, "SalesOrderNumber").is_empty() {
        let n = data.numbers.next("SalesId", company);
        f.insert("SalesOrderNumber".into(), json!(format!("{n:06}")));
    }
    if def.set == SALES_ORDER_LINES.set {
        let n = data.numbers.next("InventTransId", company);
        f.insert("InventoryLotId".into(), json!(format!("{n:06}")));
    }
    match def.set {
        s if s == CUSTOMERS.set => {
            f.entry("PartyType").or_insert(json!("Organization"));
        }
        s if s == RELEASED_PRODUCTS.set => {
            let item = text(f, "ItemNumber").to_string();
            f.entry("ProductNumber").or_insert(json!(item));
            let search: String = text(f, "ProductName")
                .to_uppercase()
                .chars()
                .take(20)
                .collect();
            f.entry("SearchName").or_insert(json!(search));
            f.entry("SalesPriceQuantity").or_insert(json!(1.0));
            f.entry("SalesPriceDate")
                .or_insert(json!(super::date(now.date_naive())));
        }
        s if s == SALES_PRICE_AGREEMENTS.set => {
            f.entry("PriceCurrencyCode")
                .or_insert(json!(COMPANY_CURRENCY));
            f.entry("SalesPriceQuantity").or_insert(json!(1.0));
        }
        s if s == SALES_ORDER_HEADERS.set => {
            f.entry("SalesOrderStatus").or_insert(json!("Backorder"));
            f.entry("LanguageId").or_insert(json!("en-us"));
            let ordering = text(f, "OrderingCustomerAccountNumber").to_string();
            f.entry("InvoiceCustomerAccountNumber")
                .or_insert(json!(ordering));
            if let Some(c) = related(data, &CUSTOMERS, &[company, &ordering]) {
                let currency = text(c, "SalesCurrencyCode").to_string();
                f.entry("CurrencyCode").or_insert(json!(currency));
            }
        }
        s if s == SALES_ORDER_LINES.set => line_defaults(data, company, f),
        _ => {}
    }
    for c in def.columns {
        f.entry(c.name).or_insert_with(|| empty_value(&c.kind, now));
    }
    Ok(())
}

/// A new line's defaults: the next line number of its order, the product's name, unit and
/// price, one piece, the order's currency.
fn line_defaults(data: &Data, company: &str, f: &mut Fields) {
    let order = text(f, "SalesOrderNumber").to_lowercase();
    let last = data
        .store
        .table(SALES_ORDER_LINES.set)
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| {
                    text(&r.fields, "dataAreaId").eq_ignore_ascii_case(company)
                        && text(&r.fields, "SalesOrderNumber").to_lowercase() == order
                })
                .map(|(_, r)| number(&r.fields, "LineNumber"))
                .fold(0.0, f64::max)
        })
        .unwrap_or_default();
    f.entry("LineNumber").or_insert(json!(last.floor() + 1.0));
    f.entry("OrderedSalesQuantity").or_insert(json!(1.0));
    f.entry("SalesOrderLineStatus")
        .or_insert(json!("Backorder"));
    let item = text(f, "ItemNumber").to_string();
    if let Some(p) = related(data, &RELEASED_PRODUCTS, &[company, &item]) {
        let (name, unit, price) = (
            text(p, "ProductName").to_string(),
            text(p, "SalesUnitSymbol").to_string(),
            number(p, "SalesPrice"),
        );
        f.entry("LineDescription").or_insert(json!(name));
        f.entry("SalesUnitSymbol").or_insert(json!(unit));
        f.entry("SalesPrice").or_insert(json!(price));
    }
}

/// The error of a create whose key is taken.
pub(crate) fn duplicate(def: &EntityDef, f: &Fields) -> FoError {
    let key = def.keys[1..]
        .iter()
        .map(|k| {
            let label = def.column(k).map_or(*k, |c| c.label);
            format!(
                "{label}: {}",
                f.get(*k)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    FoError::write_failed(
        def.table,
        format!(
            "Cannot create a record in {} ({key}). The record already exists.",
            def.type_name
        ),
    )
}

/// The checks of a create or update, and the columns computed from others.
pub(crate) fn validate_write(
    data: &Data,
    def: &EntityDef,
    company: &str,
    f: &mut Fields,
    now: DateTime<Utc>,
) -> Result<(), FoError> {
    match def.set {
        s if s == CUSTOMERS.set => {
            required(def, f, "CustomerGroupId")?;
            required(def, f, "SalesCurrencyCode")?;
            let group = text(f, "CustomerGroupId");
            if !CUSTOMER_GROUPS
                .iter()
                .any(|(g, _)| g.eq_ignore_ascii_case(group))
            {
                return Err(not_found_in(
                    def,
                    group,
                    "Customer group",
                    "Customer groups",
                ));
            }
        }
        s if s == RELEASED_PRODUCTS.set => {
            required(def, f, "ItemNumber")?;
            required(def, f, "ProductName")?;
        }
        s if s == SALES_PRICE_AGREEMENTS.set => {
            required(def, f, "ItemNumber")?;
            let item = text(f, "ItemNumber");
            if related(data, &RELEASED_PRODUCTS, &[company, item]).is_none() {
                return Err(not_found_in(def, item, "Item number", "Released products"));
            }
        }
        s if s == SALES_ORDER_HEADERS.set => {
            required(def, f, "OrderingCustomerAccountNumber")?;
            for (field, label) in [
                ("OrderingCustomerAccountNumber", "Customer account"),
                ("InvoiceCustomerAccountNumber", "Invoice account"),
            ] {
                let account = text(f, field);
                if related(data, &CUSTOMERS, &[company, account]).is_none() {
                    return Err(not_found_in(def, account, label, "Customers"));
                }
            }
            required(def, f, "CurrencyCode")?;
        }
        s if s == SALES_ORDER_LINES.set => {
            required(def, f, "SalesOrderNumber")?;
            required(def, f, "ItemNumber")?;
            let order = text(f, "SalesOrderNumber").to_string();
            let header = related(data, &SALES_ORDER_HEADERS, &[company, &order])
                .ok_or_else(|| not_found_in(def, &order, "Sales order", "Sales orders"))?;
            let currency = text(header, "CurrencyCode").to_string();
            let item = text(f, "ItemNumber");
            if related(data, &RELEASED_PRODUCTS, &[company, item]).is_none() {
                return Err(not_found_in(def, item, "Item number", "Released products"));
            }
            let amount = number(f, "OrderedSalesQuantity") * number(f, "SalesPrice");
            f.insert("LineAmount".into(), json!((amount * 100.0).round() / 100.0));
            f.insert("CurrencyCode".into(), json!(currency));
        }
        _ => {}
    }
    if def.column("ModifiedDateTime").is_some() {
        f.insert("ModifiedDateTime".into(), json!(timestamp(now)));
    }
    Ok(())
}

fn rows_where(data: &Data, set: &str, company: &str, field: &str, value: &str) -> Vec<String> {
    data.store
        .table(set)
        .map(|t| {
            t.live()
                .into_iter()
                .filter(|(_, r)| {
                    text(&r.fields, "dataAreaId").eq_ignore_ascii_case(company)
                        && text(&r.fields, field).eq_ignore_ascii_case(value)
                })
                .map(|(id, _)| id.to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The checks of a delete: a customer with sales orders stays.
pub(crate) fn validate_delete(data: &Data, def: &EntityDef, f: &Fields) -> Result<(), FoError> {
    if def.set == CUSTOMERS.set {
        let company = text(f, "dataAreaId");
        let account = text(f, "CustomerAccount");
        if !rows_where(
            data,
            SALES_ORDER_HEADERS.set,
            company,
            "OrderingCustomerAccountNumber",
            account,
        )
        .is_empty()
        {
            return Err(FoError::write_failed(
                def.table,
                format!(
                    "Customer {account} cannot be deleted while dependent Sales orders exist. Delete dependent Sales orders and try again."
                ),
            ));
        }
    }
    Ok(())
}

/// What a delete takes with it: an order's lines.
pub(crate) fn cascade_delete(data: &mut Data, def: &EntityDef, f: &Fields) {
    if def.set != SALES_ORDER_HEADERS.set {
        return;
    }
    let lines = rows_where(
        data,
        SALES_ORDER_LINES.set,
        text(f, "dataAreaId"),
        "SalesOrderNumber",
        text(f, "SalesOrderNumber"),
    );
    for id in lines {
        let v = data.store.next_version();
        data.store.table_mut(SALES_ORDER_LINES.set).remove(&id, v);
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;
    use crate::sandbox::fo::render::put;
    use crate::sandbox::fo::write::{create, delete, replace, update};

    fn body(v: Value) -> Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn data() -> Data {
        let mut d = Data::default();
        put(
            &mut d,
            &CUSTOMERS,
            json!({"dataAreaId": "usmf", "CustomerAccount": "C1", "SalesCurrencyCode": "EUR", "CustomerGroupId": "10"}),
        );
        put(
            &mut d,
            &RELEASED_PRODUCTS,
            json!({"dataAreaId": "usmf", "ItemNumber": "I1", "ProductName": "Widget", "SalesUnitSymbol": "ea", "SalesPrice": 2.5}),
        );
        d
    }

    fn field(d: &Data, set: &str, id: &str, name: &str) -> Value {
        d.store
            .table(set)
            .and_then(|t| t.get(id))
            .map(|r| r.fields[name].clone())
            .unwrap_or(Value::Null)
    }

    #[test]
    fn customers_take_numbers_and_need_a_known_group() {
        let mut d = data();
        d.numbers.start_at(CUSTOMER_SEQUENCE, "usmf", 7);
        let new = body(
            json!({"dataAreaId": "usmf", "CustomerGroupId": "20", "SalesCurrencyCode": "USD", "OnHoldStatus": "no"}),
        );
        let id = create(&mut d, &CUSTOMERS, &new, false, Utc::now()).unwrap();
        assert_eq!(id, "usmf|c00007");
        assert_eq!(field(&d, "CustomersV3", &id, "OnHoldStatus"), json!("No"));
        assert_eq!(
            field(&d, "CustomersV3", &id, "PartyType"),
            json!("Organization")
        );
        assert_eq!(field(&d, "CustomersV3", &id, "AddressCity"), json!(""));
        let local = body(
            json!({"dataAreaId": "usmf", "CustomerGroupId": "Local", "SalesCurrencyCode": "USD"}),
        );
        let e = create(&mut d, &CUSTOMERS, &local, false, Utc::now()).unwrap_err();
        assert!(e.inner.contains("The value 'Local' in field 'Customer group' is not found in the related table 'Customer groups'."), "{}", e.inner);
        let twin = body(
            json!({"dataAreaId": "USMF", "CustomerAccount": "c1", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}),
        );
        let e = create(&mut d, &CUSTOMERS, &twin, false, Utc::now()).unwrap_err();
        assert!(
            e.inner.contains("The record already exists."),
            "{}",
            e.inner
        );
        // As the OData client posts unset properties: computed ones at their defaults.
        let client = body(
            json!({"dataAreaId": "usmf", "CustomerAccount": "C9", "CustomerGroupId": "10", "SalesCurrencyCode": "USD", "ModifiedDateTime": "0001-01-01T00:00:00Z"}),
        );
        let id = create(&mut d, &CUSTOMERS, &client, false, Utc::now()).unwrap();
        assert_ne!(
            field(&d, "CustomersV3", &id, "ModifiedDateTime"),
            json!("0001-01-01T00:00:00Z")
        );
        let set = body(
            json!({"dataAreaId": "usmf", "CustomerGroupId": "10", "SalesCurrencyCode": "USD", "ModifiedDateTime": "2020-01-01T00:00:00Z"}),
        );
        assert!(
            create(&mut d, &CUSTOMERS, &set, false, Utc::now())
                .unwrap_err()
                .inner
                .contains("cannot be edited")
        );
        let bad = body(
            json!({"dataAreaId": "usmf", "CustomerGroupId": "10", "SalesCurrencyCode": "USD", "Nope": 1}),
        );
        assert!(
            create(&mut d, &CUSTOMERS, &bad, false, Utc::now())
                .unwrap_err()
                .inner
                .contains("'Nope' does not exist")
        );
        let other = body(
            json!({"dataAreaId": "usrt", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}),
        );
        assert!(create(&mut d, &CUSTOMERS, &other, false, Utc::now()).is_err());
        assert!(create(&mut d, &CUSTOMERS, &other, true, Utc::now()).is_ok());
    }

    #[test]
    fn orders_and_lines_default_from_customer_and_product() {
        let mut d = data();
        let h = body(json!({"dataAreaId": "usmf", "OrderingCustomerAccountNumber": "C1"}));
        let hid = create(&mut d, &SALES_ORDER_HEADERS, &h, false, Utc::now()).unwrap();
        assert_eq!(hid, "usmf|000001");
        assert_eq!(
            field(&d, "SalesOrderHeadersV2", &hid, "CurrencyCode"),
            json!("EUR")
        );
        assert_eq!(
            field(
                &d,
                "SalesOrderHeadersV2",
                &hid,
                "InvoiceCustomerAccountNumber"
            ),
            json!("C1")
        );
        assert_eq!(
            field(&d, "SalesOrderHeadersV2", &hid, "SalesOrderStatus"),
            json!("Backorder")
        );
        let l = body(
            json!({"dataAreaId": "usmf", "SalesOrderNumber": "000001", "ItemNumber": "I1", "OrderedSalesQuantity": 4}),
        );
        let lid = create(&mut d, &SALES_ORDER_LINES, &l, false, Utc::now()).unwrap();
        let lid2 = create(&mut d, &SALES_ORDER_LINES, &l, false, Utc::now()).unwrap();
        assert_eq!(
            field(&d, "SalesOrderLines", &lid, "LineAmount"),
            json!(10.0)
        );
        assert_eq!(
            field(&d, "SalesOrderLines", &lid, "LineDescription"),
            json!("Widget")
        );
        assert_eq!(
            field(&d, "SalesOrderLines", &lid2, "LineNumber"),
            json!(2.0)
        );
        update(
            &mut d,
            &SALES_ORDER_LINES,
            &lid,
            &body(json!({"SalesPrice": 3})),
            None,
            Utc::now(),
        )
        .unwrap();
        assert_eq!(
            field(&d, "SalesOrderLines", &lid, "LineAmount"),
            json!(12.0)
        );
        let e = update(
            &mut d,
            &SALES_ORDER_LINES,
            &lid,
            &body(json!({"LineAmount": 1})),
            None,
            Utc::now(),
        )
        .unwrap_err();
        assert!(e.inner.contains("cannot be edited"), "{}", e.inner);
        let e = update(
            &mut d,
            &SALES_ORDER_LINES,
            &lid,
            &body(json!({"OrderedSalesQuantity": "x"})),
            None,
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
        let nobody = body(json!({"dataAreaId": "usmf", "OrderingCustomerAccountNumber": "C9"}));
        assert!(
            create(&mut d, &SALES_ORDER_HEADERS, &nobody, false, Utc::now())
                .unwrap_err()
                .inner
                .contains("'C9'")
        );
        let customer = "usmf|c1";
        let e = delete(&mut d, &CUSTOMERS, customer, None).unwrap_err();
        assert!(e.inner.contains("dependent Sales orders"), "{}", e.inner);
        delete(&mut d, &SALES_ORDER_HEADERS, &hid, Some("*")).unwrap();
        assert_eq!(
            d.store.table("SalesOrderLines").map(|t| t.live().len()),
            Some(0)
        );
        delete(&mut d, &CUSTOMERS, customer, None).unwrap();
    }

    #[test]
    fn stale_etags_fail_and_price_agreements_need_a_product() {
        let mut d = data();
        let p = body(
            json!({"dataAreaId": "usmf", "ItemNumber": "I1", "Price": 9.5, "WillSearchContinue": "yes"}),
        );
        let id = create(&mut d, &SALES_PRICE_AGREEMENTS, &p, false, Utc::now()).unwrap();
        let row = d
            .store
            .table("SalesPriceAgreements")
            .and_then(|t| t.get(&id))
            .cloned()
            .unwrap();
        assert_eq!(id, format!("usmf|{}", row.fields["RecordId"]));
        assert_eq!(row.fields["PriceCurrencyCode"], json!("USD"));
        assert_eq!(row.fields["WillSearchContinue"], json!("Yes"));
        let tag = crate::sandbox::fo::etag(&row);
        update(
            &mut d,
            &SALES_PRICE_AGREEMENTS,
            &id,
            &body(json!({"Price": 10})),
            Some(&tag),
            Utc::now(),
        )
        .unwrap();
        let e = update(
            &mut d,
            &SALES_PRICE_AGREEMENTS,
            &id,
            &body(json!({"Price": 11})),
            Some(&tag),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(e.status, axum::http::StatusCode::PRECONDITION_FAILED);
        // PUT: what the body leaves out goes back to empty; required fields stay required.
        replace(
            &mut d,
            &SALES_PRICE_AGREEMENTS,
            &id,
            &body(json!({"ItemNumber": "I1", "Price": 4})),
            None,
            Utc::now(),
        )
        .unwrap();
        let row = d
            .store
            .table("SalesPriceAgreements")
            .and_then(|t| t.get(&id))
            .cloned()
            .unwrap();
        assert_eq!(
            (
                row.fields["Price"].clone(),
                row.fields["WillSearchContinue"].clone()
            ),
            (json!(4.0), json!("No"))
        );
        assert!(
            replace(
                &mut d,
                &SALES_PRICE_AGREEMENTS,
                &id,
                &body(json!({"Price": 4})),
                None,
                Utc::now()
            )
            .is_err()
        );
        let none = body(json!({"dataAreaId": "usmf", "ItemNumber": "I9", "Price": 1}));
        assert!(create(&mut d, &SALES_PRICE_AGREEMENTS, &none, false, Utc::now()).is_err());
    }
}
