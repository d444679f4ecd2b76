//! Unit tests of the `$filter` parser and evaluator.

use super::*;
use serde_json::json;

fn row(v: Value) -> Fields {
    v.as_object().cloned().unwrap_or_default()
}

fn m(f: &str, r: &Value) -> bool {
    parse(f).unwrap().matches(&row(r.clone()))
}

#[test]
fn comparisons_and_logic() {
    let r = json!({"name":"Contoso Ltd","creditlimit":5000,"statecode":0,"active":true,"accountnumber":null});
    assert!(m("name eq 'contoso ltd'", &r));
    assert!(m("name ne 'Fabrikam'", &r));
    assert!(m("creditlimit gt 4999.5 and creditlimit le 5000", &r));
    assert!(m("creditlimit lt 1 or statecode eq 0", &r));
    assert!(m("not (statecode eq 1)", &r));
    assert!(m("active eq true", &r));
    assert!(m("accountnumber eq null", &r));
    assert!(m("missing eq null and not (missing ne null)", &r));
    assert!(!m("creditlimit gt null", &r));
    assert!(m("5000 ge creditlimit", &r));
    assert!(m(
        "(name eq 'x' or name eq 'CONTOSO LTD') and statecode eq 0",
        &r
    ));
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    let r = json!({"a":1,"b":2});
    assert!(m("a eq 1 or a eq 2 and b eq 3", &r));
    assert!(!m("(a eq 1 or a eq 2) and b eq 3", &r));
}

#[test]
fn strings_escapes_and_functions() {
    let r = json!({"name":"O'Brien & Sons","email":"info@obrien.com"});
    assert!(m("name eq 'O''Brien & Sons'", &r));
    assert!(m("contains(name,'brien')", &r));
    assert!(m("startswith(name, 'o''b') and endswith(email,'.COM')", &r));
    assert!(!m("contains(missing,'x')", &r));
}

#[test]
fn guids_and_lookups() {
    let r = json!({"_parentcustomerid_value":"6D81597F-0000-4000-8000-000000000001"});
    assert!(m(
        "_parentcustomerid_value eq 6d81597f-0000-4000-8000-000000000001",
        &r
    ));
    assert!(m(
        "_parentcustomerid_value eq '6d81597f-0000-4000-8000-000000000001'",
        &r
    ));
}

#[test]
fn datetimes_compare_as_instants() {
    let r = json!({"lastModifiedDateTime":"2019-08-18T22:05:51.603+02:00"});
    assert!(m("lastModifiedDateTime eq 2019-08-18T20:05:51.603Z", &r));
    assert!(m("lastModifiedDateTime gt 2019-08-18T20:05:51Z", &r));
    assert!(!m("lastModifiedDateTime gt 2019-08-18T20:05:51.604Z", &r));
    assert!(m("lastModifiedDateTime lt 2019-08-19", &r));
}

#[test]
fn numbers_in_strings_and_negatives() {
    let r = json!({"n":"-3","x":-2.5});
    assert!(m("n lt -2", &r));
    assert!(m("x eq -2.5", &r));
}

#[test]
fn fields_lists_referenced_properties() {
    let f = parse("a eq 1 and (b eq 'x' or contains(c,'y')) and a ne 2").unwrap();
    assert_eq!(f.fields(), vec!["a", "b", "c"]);
}

#[test]
fn errors_name_token_and_column() {
    let e = parse("name eq xx").unwrap_err().to_string();
    assert_eq!(e, "unexpected 'xx' at column 9 in $filter 'name eq xx'");
    let e = parse("name eq 'a' and").unwrap_err().to_string();
    assert!(e.contains("unexpected end"), "{e}");
    let e = parse("name eq 'abc").unwrap_err().to_string();
    assert!(
        e.contains("unterminated string starting at column 9"),
        "{e}"
    );
    let e = parse("name eqq 'a'").unwrap_err().to_string();
    assert!(e.contains("'eqq' at column 6"), "{e}");
    let e = parse("name eq 'a')").unwrap_err().to_string();
    assert!(e.contains("')' at column 12"), "{e}");
    let e = parse("name eq 'a' # x").unwrap_err().to_string();
    assert!(e.contains("'#' at column 13"), "{e}");
    assert!(parse("").is_err());
    assert!(parse("frobnicate(name,'x')").is_err());
    assert_eq!(parse("x").unwrap_err().actor(), Actor::User);
}

#[test]
fn enum_literals_and_eq_wildcards() {
    let r = row(json!({"WillSearchContinue":"Yes","OrganizationName":"Contoso Retail San Diego"}));
    let yes = parse("WillSearchContinue eq Microsoft.Dynamics.DataEntities.NoYes'Yes'").unwrap();
    assert!(yes.matches(&r) && !yes.orders_enums());
    assert!(
        !parse("WillSearchContinue ne Microsoft.Dynamics.DataEntities.NoYes'yes'")
            .unwrap()
            .matches(&r)
    );
    assert!(
        parse("WillSearchContinue gt Microsoft.Dynamics.DataEntities.NoYes'No'")
            .unwrap()
            .orders_enums()
    );
    assert!(parse("X eq Ns.Type'open").is_err());
    let like = parse("OrganizationName eq '*retail*'").unwrap();
    assert!(!like.matches(&r), "without wildcards '*' is a character");
    let like = like.with_eq_wildcards();
    assert!(like.matches(&r));
    assert!(
        !parse("OrganizationName ne 'contoso*'")
            .unwrap()
            .with_eq_wildcards()
            .matches(&r)
    );
}
