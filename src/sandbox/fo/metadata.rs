//! `GET /data/$metadata`: the CSDL (OData v4 XML) of the served entities, generated from their
//! definitions ([`super::schema::ENTITIES`]): namespace `Microsoft.Dynamics.DataEntities`, one
//! `EntityType` per entity with its composite key, an `EnumType` per enum, and an `EntitySet`
//! per public collection name.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::schema::{ENTITIES, ENUM_NAMESPACE, EntityDef, Kind};
use super::write::type_of;

/// The path segment.
pub(crate) const METADATA: &str = "$metadata";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn entity_type(out: &mut String, def: &EntityDef) {
    out.push_str(&format!(
        "<EntityType Name=\"{}\"><Key>",
        escape(def.type_name)
    ));
    for k in def.keys {
        out.push_str(&format!("<PropertyRef Name=\"{}\"/>", escape(k)));
    }
    out.push_str("</Key>");
    for c in def.columns {
        let extra = match c.kind {
            Kind::Text(n) => format!(" MaxLength=\"{n}\""),
            Kind::Decimal => " Precision=\"32\" Scale=\"6\"".to_string(),
            _ => String::new(),
        };
        out.push_str(&format!(
            "<Property Name=\"{}\" Type=\"{}\" Nullable=\"false\"{extra}>",
            escape(c.name),
            escape(&type_of(&c.kind))
        ));
        out.push_str(&format!(
            "<Annotation Term=\"Org.OData.Core.V1.Description\" String=\"{}\"/>",
            escape(c.label)
        ));
        if !c.writable {
            out.push_str("<Annotation Term=\"Org.OData.Core.V1.Computed\" Bool=\"true\"/>");
        }
        out.push_str("</Property>");
    }
    for n in super::expand::of(def) {
        out.push_str(&format!(
            "<NavigationProperty Name=\"{}\" Type=\"Collection({ENUM_NAMESPACE}.{})\"/>",
            escape(n.name),
            escape(n.target.type_name)
        ));
    }
    out.push_str("</EntityType>");
}

/// The CSDL document.
pub(crate) fn document() -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\
<edmx:DataServices><Schema Namespace=\"{ENUM_NAMESPACE}\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">"
    );
    let mut enums: Vec<(&str, &[&str])> = Vec::new();
    for def in ENTITIES {
        for c in def.columns {
            if let Kind::Enum(name, members) = c.kind
                && !enums.iter().any(|(n, _)| *n == name)
            {
                enums.push((name, members));
            }
        }
    }
    for (name, members) in enums {
        out.push_str(&format!("<EnumType Name=\"{}\">", escape(name)));
        for (i, m) in members.iter().enumerate() {
            out.push_str(&format!("<Member Name=\"{}\" Value=\"{i}\"/>", escape(m)));
        }
        out.push_str("</EnumType>");
    }
    for def in ENTITIES {
        entity_type(&mut out, def);
    }
    out.push_str("<EntityContainer Name=\"Resources\">");
    for def in ENTITIES {
        out.push_str(&format!(
            "<EntitySet Name=\"{}\" EntityType=\"{ENUM_NAMESPACE}.{}\"/>",
            escape(def.set),
            escape(def.type_name)
        ));
    }
    out.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    out
}

/// The `$metadata` response.
pub(crate) fn response() -> Response {
    let mut r = Response::new(Body::from(document()));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r.headers_mut()
        .insert("odata-version", HeaderValue::from_static("4.0"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_every_entity_with_its_composite_key() {
        let d = document();
        for def in ENTITIES {
            assert!(d.contains(&format!(
                "<EntitySet Name=\"{}\" EntityType=\"Microsoft.Dynamics.DataEntities.{}\"/>",
                def.set, def.type_name
            )));
        }
        assert!(d.contains(
            "<EntityType Name=\"CustomerV3\"><Key><PropertyRef Name=\"dataAreaId\"/><PropertyRef Name=\"CustomerAccount\"/></Key>"
        ));
        assert!(d.contains("<EnumType Name=\"NoYes\"><Member Name=\"No\" Value=\"0\"/><Member Name=\"Yes\" Value=\"1\"/></EnumType>"));
        assert_eq!(d.matches("<EnumType Name=\"SalesStatus\">").count(), 1);
        assert!(d.contains("Type=\"Microsoft.Dynamics.DataEntities.NoYes\""));
        assert!(d.contains("<NavigationProperty Name=\"SalesOrderLines\" Type=\"Collection(Microsoft.Dynamics.DataEntities.SalesOrderLine)\"/></EntityType>"));
    }
}
