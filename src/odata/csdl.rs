//! Reading an OData v4 CSDL document (`$metadata`, XML) as Business Central and Finance & Operations publish it:
//! entity types with their properties, and the entity sets of the container.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::event::System;
use crate::systems::metadata::{EntitySchema, FieldInfo};

/// A parsed `$metadata` document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Csdl {
    /// Entity types by unqualified name.
    types: HashMap<String, Vec<FieldInfo>>,
    /// Entity set name → unqualified entity type name.
    sets: HashMap<String, String>,
}

impl Csdl {
    /// Parses the document; the error says where the XML is broken. A property is read-only
    /// when annotated `Org.OData.Core.V1.Computed` (or `Immutable`), inline or in an
    /// `<Annotations Target="Namespace.type/property">` block.
    pub fn parse(xml: &str) -> Result<Csdl, String> {
        let mut reader = Reader::from_str(xml);
        let mut out = Csdl::default();
        let mut current: Option<(String, Vec<FieldInfo>)> = None;
        let mut property: Option<FieldInfo> = None;
        // The target of an out-of-line `<Annotations>` block: (type, property).
        let mut target: Option<(String, String)> = None;
        let mut read_only: Vec<(String, String)> = Vec::new();
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
            match ev {
                Event::Start(e) if e.local_name().as_ref() == b"EntityType" => {
                    let name = attr(&e, "Name")?.ok_or("an EntityType without a Name")?;
                    current = Some((name, Vec::new()));
                }
                Event::Empty(e) if e.local_name().as_ref() == b"EntityType" => {
                    let name = attr(&e, "Name")?.ok_or("an EntityType without a Name")?;
                    out.types.insert(name, Vec::new());
                }
                Event::End(e) if e.local_name().as_ref() == b"EntityType" => {
                    if let Some((name, fields)) = current.take() {
                        out.types.insert(name, fields);
                    }
                }
                Event::Start(ref e) | Event::Empty(ref e)
                    if e.local_name().as_ref() == b"Property" =>
                {
                    let name = attr(e, "Name")?.ok_or("a Property without a Name")?;
                    let kind = attr(e, "Type")?.unwrap_or_default();
                    let p = FieldInfo {
                        name,
                        kind,
                        writable: true,
                    };
                    // `<Property/>` is complete; `<Property>` may hold annotations first.
                    if matches!(ev, Event::Empty(_)) {
                        if let Some((_, fields)) = &mut current {
                            fields.push(p);
                        }
                    } else {
                        property = Some(p);
                    }
                }
                Event::End(e) if e.local_name().as_ref() == b"Property" => {
                    if let (Some(p), Some((_, fields))) = (property.take(), &mut current) {
                        fields.push(p);
                    }
                }
                Event::Start(e) if e.local_name().as_ref() == b"Annotations" => {
                    let t = attr(&e, "Target")?.unwrap_or_default();
                    target = t.split_once('/').map(|(ty, prop)| {
                        (
                            ty.rsplit('.').next().unwrap_or(ty).to_string(),
                            prop.to_string(),
                        )
                    });
                }
                Event::End(e) if e.local_name().as_ref() == b"Annotations" => target = None,
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"Annotation" => {
                    let term = attr(&e, "Term")?.unwrap_or_default();
                    let on = attr(&e, "Bool")?.is_none_or(|b| b == "true");
                    if on
                        && (term.ends_with("Core.V1.Computed")
                            || term.ends_with("Core.V1.Immutable"))
                    {
                        if let Some(p) = &mut property {
                            p.writable = false;
                        } else if let Some(t) = &target {
                            read_only.push(t.clone());
                        }
                    }
                }
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"EntitySet" => {
                    let name = attr(&e, "Name")?.ok_or("an EntitySet without a Name")?;
                    let ty = attr(&e, "EntityType")?.unwrap_or_default();
                    let short = ty.rsplit('.').next().unwrap_or(&ty).to_string();
                    out.sets.insert(name, short);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        for (ty, prop) in read_only {
            if let Some(f) = out
                .types
                .get_mut(&ty)
                .and_then(|fs| fs.iter_mut().find(|f| f.name == prop))
            {
                f.writable = false;
            }
        }
        Ok(out)
    }

    /// The schema of an entity set of `system`, if the document describes it.
    pub fn entity_set(&self, system: System, set: &str) -> Option<EntitySchema> {
        let ty = self.sets.get(set)?;
        let fields = self.types.get(ty)?;
        Some(EntitySchema {
            system,
            set: set.to_string(),
            type_name: ty.clone(),
            fields: fields.clone(),
        })
    }

    /// Every entity set name, sorted.
    pub fn sets(&self) -> Vec<String> {
        let mut v: Vec<String> = self.sets.keys().cloned().collect();
        v.sort();
        v
    }
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("a broken attribute: {err}"))?;
        if a.key.local_name().as_ref() == name.as_bytes() {
            let v = a
                .unescape_value()
                .map_err(|err| format!("attribute {name}: {err}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Microsoft.NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="customer">
    <Key><PropertyRef Name="id"/></Key>
    <Property Name="id" Type="Edm.Guid" Nullable="false"/>
    <Property Name="displayName" Type="Edm.String" MaxLength="100"/>
    <Property Name="balanceDue" Type="Edm.Decimal">
     <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
    </Property>
    <Property Name="number" Type="Edm.String" MaxLength="20"/>
    <NavigationProperty Name="currency" Type="Microsoft.NAV.currency">
     <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
    </NavigationProperty>
    <Property Name="lastModifiedDateTime" Type="Edm.DateTimeOffset"/>
   </EntityType>
   <Annotations Target="Microsoft.NAV.customer/lastModifiedDateTime">
    <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
   </Annotations>
   <EntityContainer Name="NAV">
    <EntitySet Name="customers" EntityType="Microsoft.NAV.customer"/>
   </EntityContainer>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>"#;

    #[test]
    fn reads_sets_and_properties() {
        let c = Csdl::parse(DOC).unwrap();
        let s = c.entity_set(crate::systems::BC, "customers").unwrap();
        assert_eq!(s.type_name, "customer");
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "id",
                "displayName",
                "balanceDue",
                "number",
                "lastModifiedDateTime"
            ]
        );
        assert!(s.field("displayName").unwrap().writable);
        assert!(!s.field("balanceDue").unwrap().writable);
        // A navigation property's annotation does not touch the property before it.
        assert!(s.field("number").unwrap().writable);
        // Out-of-line annotations apply too.
        assert!(!s.field("lastModifiedDateTime").unwrap().writable);
        assert_eq!(s.field("id").unwrap().kind, "Edm.Guid");
        assert!(c.entity_set(crate::systems::BC, "vendors").is_none());
        assert_eq!(c.sets(), ["customers"]);
    }

    #[test]
    fn broken_xml_is_an_error() {
        assert!(Csdl::parse("<edmx:Edmx><Schema></edmx:Edmx>").is_err());
    }
}
