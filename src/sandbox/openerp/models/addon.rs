//! The `magento_connector` addon's models, read from `openerp_addon/contract.json` at compile
//! time so the emulation cannot drift from the contract: `new_models` and `addon_only_models`
//! become models, `extended_models` add fields to the standard models.

use serde_json::Value as Json;

use crate::sandbox::openerp::orm::model::{FType, ModelBuilder, ModelDef, default_label};
use crate::sandbox::openerp::orm::val::Val;

const CONTRACT: &str = include_str!("../../../../openerp_addon/contract.json");

/// The parsed contract.
#[derive(Debug, Clone)]
pub struct Contract {
    json: Json,
}

fn description(model: &str) -> String {
    model.split('.').map(default_label).collect::<Vec<_>>().join(" ")
}

impl Contract {
    /// Parses the contract bundled with the crate.
    pub fn load() -> Result<Contract, String> {
        Self::parse(CONTRACT)
    }

    /// Parses a contract text.
    pub fn parse(text: &str) -> Result<Contract, String> {
        let json: Json = serde_json::from_str(text).map_err(|e| format!("openerp_addon/contract.json: {e}"))?;
        if !json.get("new_models").is_some_and(Json::is_object) {
            return Err("openerp_addon/contract.json: no `new_models` object".into());
        }
        Ok(Contract { json })
    }

    fn section(&self, name: &str) -> impl Iterator<Item = (&String, &serde_json::Map<String, Json>)> {
        self.json
            .get(name)
            .and_then(Json::as_object)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
    }

    /// Names of the models the addon creates (both sections).
    pub fn model_names(&self) -> Vec<String> {
        self.section("new_models").chain(self.section("addon_only_models")).map(|(k, _)| k.clone()).collect()
    }

    /// `(model, field)` pairs the addon adds to standard models.
    pub fn extended_fields(&self) -> Vec<(String, String)> {
        self.section("extended_models")
            .flat_map(|(m, fields)| fields.keys().map(move |f| (m.clone(), f.clone())))
            .collect()
    }

    /// Adds the contract's extra fields of `model` to a builder.
    pub fn extend(&self, b: &mut ModelBuilder, model: &str) -> Result<(), String> {
        for (m, fields) in self.section("extended_models") {
            if m != model {
                continue;
            }
            for (name, spec) in fields {
                let spec = spec.as_object().ok_or_else(|| format!("{model}.{name}: not an object"))?;
                add_field(b, name, spec).map_err(|e| format!("{model}.{name}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The addon's own models.
    pub fn new_models(&self) -> Result<Vec<ModelDef>, String> {
        let mut out = Vec::new();
        for (model, fields) in self.section("new_models").chain(self.section("addon_only_models")) {
            let mut b = ModelBuilder::new(model, &description(model));
            for (name, spec) in fields {
                let spec = spec.as_object().ok_or_else(|| format!("{model}.{name}: not an object"))?;
                add_field(&mut b, name, spec).map_err(|e| format!("{model}.{name}: {e}"))?;
            }
            if !fields.contains_key("name") {
                let rec = ["event", "code", "model"].into_iter().find(|f| fields.contains_key(*f));
                if let Some(r) = rec {
                    b.rec_name(r);
                }
            }
            out.push(b.build());
        }
        Ok(out)
    }
}

fn add_field(b: &mut ModelBuilder, name: &str, spec: &serde_json::Map<String, Json>) -> Result<(), String> {
    let tname = spec.get("type").and_then(Json::as_str).ok_or("no type")?;
    let ftype = FType::parse(tname).ok_or_else(|| format!("unknown type {tname}"))?;
    let relation = spec.get("relation").and_then(Json::as_str);
    let f = match ftype {
        FType::One2many => {
            let inverse = spec.get("inverse").and_then(Json::as_str).ok_or("one2many without inverse")?;
            b.o2m(name, "", relation.ok_or("one2many without relation")?, inverse)
        }
        FType::Many2one | FType::Many2many => {
            let f = b.field(name, "", ftype);
            f.relation = Some(relation.ok_or("relational field without relation")?.to_owned());
            f
        }
        _ => b.field(name, "", ftype),
    };
    if let Some(sel) = spec.get("selection").and_then(Json::as_array) {
        f.selection = sel.iter().filter_map(Json::as_str).map(|s| (s.to_owned(), s.to_owned())).collect();
    }
    if spec.get("required").and_then(Json::as_bool) == Some(true) {
        f.required();
        if ftype == FType::Many2one {
            f.cascade();
        }
    }
    if let Some(g) = spec.get("groups").and_then(Json::as_str) {
        f.groups(g);
    }
    if let Some(path) = spec.get("related").and_then(Json::as_str) {
        f.related(path);
    }
    if let Some(d) = spec.get("default") {
        let v = match (ftype, d) {
            (FType::Boolean, Json::Bool(x)) => Val::Bool(*x),
            (FType::Integer, Json::Number(n)) => Val::Int(n.as_i64().ok_or("integer default out of range")?),
            (FType::Float | FType::Monetary, Json::Number(n)) => Val::Num(
                rust_decimal::Decimal::try_from(n.as_f64().ok_or("bad float default")?).map_err(|e| e.to_string())?,
            ),
            (_, Json::String(s)) => Val::Str(s.clone()),
            (_, other) => return Err(format!("unsupported default {other}")),
        };
        f.default(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_builds_every_model_and_field() {
        let c = Contract::load().unwrap();
        let models = c.new_models().unwrap();
        let backend = models.iter().find(|m| m.name == "magento.backend").unwrap();
        assert_eq!(backend.field("store_ids").unwrap().inverse.as_deref(), Some("backend_id"));
        assert!(backend.field("name").unwrap().required);
        assert!(matches!(
            &backend.field("attribute_set_id").unwrap().default,
            crate::sandbox::openerp::orm::model::DefaultVal::Const(Val::Int(4))
        ));
        assert_eq!(backend.field("root_category_id").unwrap().label, "Root Category");
        assert!(c.model_names().contains(&"magento.export.request".to_owned()));
        assert!(c.extended_fields().contains(&("account.tax".to_owned(), "magento_tax_class_mapped".to_owned())));
        assert!(Contract::parse("{}").is_err());
    }
}
