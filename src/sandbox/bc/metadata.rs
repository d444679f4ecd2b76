//! `GET …/api/v2.0/$metadata`: the CSDL (OData v4 XML) document of the API, generated from
//! the sandbox's own entity definitions ([`super::schema::ENTITIES`]), so an entity added
//! there is described here too. Namespace `Microsoft.NAV`, one `EntityType` per API page
//! (key `id`), an `EnumType` per option field, and an `EntitySet` per page in the `NAV`
//! container, as Business Central publishes them.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::schema::{ENTITIES, EntityDef, Kind};

/// The path segment.
pub(crate) const METADATA: &str = "$metadata";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// An enum member name as OData encodes it (`" "` → `_x0020_`).
fn member_name(v: &str) -> String {
    if v.trim().is_empty() {
        "_x0020_".into()
    } else {
        v.replace(' ', "_x0020_")
    }
}

/// `customer` + `blocked` → `customerBlocked`.
fn enum_name(def: &EntityDef, column: &str) -> String {
    let mut c = column.chars();
    let head: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    format!("{}{head}{}", def.type_name, c.as_str())
}

fn entity_type(out: &mut String, def: &EntityDef) {
    for c in def.columns {
        if let Kind::Enum(values) = c.kind {
            out.push_str(&format!(
                "<EnumType Name=\"{}\">",
                escape(&enum_name(def, c.name))
            ));
            for (i, v) in values.iter().enumerate() {
                out.push_str(&format!(
                    "<Member Name=\"{}\" Value=\"{i}\"/>",
                    escape(&member_name(v))
                ));
            }
            out.push_str("</EnumType>");
        }
    }
    out.push_str(&format!(
        "<EntityType Name=\"{}\"><Key><PropertyRef Name=\"id\"/></Key>",
        escape(def.type_name)
    ));
    for c in def.columns {
        let (ty, extra) = match c.kind {
            Kind::Guid => ("Edm.Guid".to_string(), String::new()),
            Kind::Text(n) => ("Edm.String".to_string(), format!(" MaxLength=\"{n}\"")),
            Kind::Enum(_) => (
                format!("Microsoft.NAV.{}", enum_name(def, c.name)),
                String::new(),
            ),
            Kind::Number => ("Edm.Decimal".to_string(), " Scale=\"Variable\"".to_string()),
            Kind::Bool => ("Edm.Boolean".to_string(), String::new()),
            Kind::DateTime => ("Edm.DateTimeOffset".to_string(), String::new()),
        };
        let nullable = if c.name == "id" {
            " Nullable=\"false\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<Property Name=\"{}\" Type=\"{}\"{nullable}{extra}>",
            escape(c.name),
            escape(&ty)
        ));
        if !c.writable {
            out.push_str("<Annotation Term=\"Org.OData.Core.V1.Computed\" Bool=\"true\"/>");
        }
        out.push_str("</Property>");
    }
    out.push_str("</EntityType>");
}

/// The CSDL document.
pub(crate) fn document() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\">\
<edmx:DataServices><Schema Namespace=\"Microsoft.NAV\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">",
    );
    out.push_str(
        "<EntityType Name=\"company\"><Key><PropertyRef Name=\"id\"/></Key>\
<Property Name=\"id\" Type=\"Edm.Guid\" Nullable=\"false\"/>\
<Property Name=\"systemVersion\" Type=\"Edm.String\"/>\
<Property Name=\"name\" Type=\"Edm.String\" MaxLength=\"30\"/>\
<Property Name=\"displayName\" Type=\"Edm.String\" MaxLength=\"250\"/>\
<Property Name=\"businessProfileId\" Type=\"Edm.String\" MaxLength=\"250\"/>\
<Property Name=\"systemCreatedAt\" Type=\"Edm.DateTimeOffset\"/>\
<Property Name=\"systemModifiedAt\" Type=\"Edm.DateTimeOffset\"/>",
    );
    for def in ENTITIES {
        out.push_str(&format!(
            "<NavigationProperty Name=\"{}\" Type=\"Collection(Microsoft.NAV.{})\" ContainsTarget=\"true\"/>",
            escape(def.set),
            escape(def.type_name)
        ));
    }
    out.push_str("</EntityType>");
    for def in ENTITIES {
        entity_type(&mut out, def);
    }
    out.push_str("<EntityContainer Name=\"NAV\">");
    out.push_str("<EntitySet Name=\"companies\" EntityType=\"Microsoft.NAV.company\"/>");
    for def in ENTITIES {
        out.push_str(&format!(
            "<EntitySet Name=\"{}\" EntityType=\"Microsoft.NAV.{}\"/>",
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
    fn describes_every_entity_and_option() {
        let d = document();
        for def in ENTITIES {
            assert!(d.contains(&format!(
                "<EntitySet Name=\"{}\" EntityType=\"Microsoft.NAV.{}\"/>",
                def.set, def.type_name
            )));
        }
        assert!(
            d.contains("<EnumType Name=\"customerBlocked\"><Member Name=\"_x0020_\" Value=\"0\"/>")
        );
        assert!(
            d.contains("<Property Name=\"displayName\" Type=\"Edm.String\" MaxLength=\"100\">")
        );
    }
}
