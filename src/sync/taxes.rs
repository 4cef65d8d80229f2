//! Tax classes: OpenERP tax ⇄ Magento product tax class.
//!
//! The mapping lives in OpenERP (`account.tax.magento_tax_class_id` +
//! `magento_tax_class_mapped`, written by the addon). This module proposes a class for unmapped
//! taxes (by name, then by rate) and resolves the class of a product from its taxes. Pure
//! functions only; the `taxes.sync` I/O is in [`crate::sync::peers`].

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::magento::types::TaxClass;
use crate::openerp::models::taxes::Tax;
use crate::server::backends::{TaxClass as ReportClass, TaxMapping};

/// Proposes the mapping of every OpenERP sale tax onto Magento's product tax classes.
///
/// Mapped taxes keep their class. For the others: a class whose name matches the tax name
/// (either contains the other, case-insensitive) wins; then a 0 % tax proposes "None" (class
/// 0); then the class already used by mapped taxes of the same rate; else nothing is proposed
/// and the reason says so.
pub fn propose(classes: &[TaxClass], taxes: &[Tax]) -> Vec<TaxMapping> {
    let mut by_rate: BTreeMap<Decimal, i64> = BTreeMap::new();
    for t in taxes.iter().filter(|t| t.magento_tax_class_mapped) {
        if let Some(rate) = t.percent() {
            by_rate.entry(rate.normalize()).or_insert(t.magento_tax_class_id);
        }
    }
    taxes
        .iter()
        .map(|t| {
            let base = TaxMapping {
                tax_id: t.id,
                tax_name: t.name.clone(),
                amount: t.amount.normalize(),
                price_include: t.price_include,
                mapped: t.magento_tax_class_mapped,
                class_id: t.magento_tax_class_mapped.then_some(t.magento_tax_class_id),
                proposed_class_id: None,
                reason: String::new(),
            };
            if t.magento_tax_class_mapped {
                let name = class_name(classes, t.magento_tax_class_id);
                return TaxMapping { reason: format!("mapped to {name}"), ..base };
            }
            let lname = t.name.to_lowercase();
            if let Some(c) = classes.iter().find(|c| {
                let cn = c.name.to_lowercase();
                c.id != 0 && !cn.is_empty() && (lname.contains(&cn) || cn.contains(&lname))
            }) {
                return TaxMapping {
                    proposed_class_id: Some(c.id),
                    reason: format!("proposed by name: {:?}", c.name),
                    ..base
                };
            }
            match t.percent() {
                Some(rate) if rate.is_zero() && classes.iter().any(|c| c.id == 0) => TaxMapping {
                    proposed_class_id: Some(0),
                    reason: "proposed by rate: 0 % maps to \"None\"".into(),
                    ..base
                },
                Some(rate) => match by_rate.get(&rate.normalize()) {
                    Some(&class) => TaxMapping {
                        proposed_class_id: Some(class),
                        reason: format!("proposed by rate: other {rate} % taxes use {}", class_name(classes, class)),
                        ..base
                    },
                    None => TaxMapping {
                        reason: "no Magento class matches this tax by name or rate; choose one".into(),
                        ..base
                    },
                },
                None => TaxMapping { reason: "not a percent tax; choose a class by hand".into(), ..base },
            }
        })
        .collect()
}

fn class_name(classes: &[TaxClass], id: i64) -> String {
    classes.iter().find(|c| c.id == id).map_or_else(|| format!("class {id}"), |c| format!("{:?} ({id})", c.name))
}

/// Converts Magento's classes to the server's report type.
pub fn report_classes(classes: &[TaxClass]) -> Vec<ReportClass> {
    classes.iter().map(|c| ReportClass { id: c.id, name: c.name.clone() }).collect()
}

/// Why a product has no Magento tax class.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxClassError {
    /// A tax of the product has no mapping yet.
    #[error("tax {name:?} (id {id}) has no Magento tax class: map it in Magento > Taxes")]
    Unmapped {
        /// Tax id.
        id: i64,
        /// Tax name.
        name: String,
    },
    /// The product's taxes map to different classes.
    #[error("the product's taxes map to different Magento classes ({0:?}); Magento allows one")]
    Conflict(Vec<i64>),
    /// A tax id is not a known sale tax (archived or another company).
    #[error("tax id {0} is not an active sale tax")]
    Unknown(i64),
}

/// The Magento tax class of a product with customer taxes `tax_ids` (no tax → class 0 "None").
pub fn product_tax_class(tax_ids: &[i64], taxes: &BTreeMap<i64, Tax>) -> Result<i64, TaxClassError> {
    let mut classes: Vec<i64> = Vec::new();
    for id in tax_ids {
        let t = taxes.get(id).ok_or(TaxClassError::Unknown(*id))?;
        if t.type_tax_use != "sale" {
            continue;
        }
        if !t.magento_tax_class_mapped {
            return Err(TaxClassError::Unmapped { id: t.id, name: t.name.clone() });
        }
        if !classes.contains(&t.magento_tax_class_id) {
            classes.push(t.magento_tax_class_id);
        }
    }
    match classes.as_slice() {
        [] => Ok(0),
        [one] => Ok(*one),
        _ => Err(TaxClassError::Conflict(classes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::models::taxes::AmountType;
    use std::str::FromStr;

    fn tax(id: i64, name: &str, amount: &str, mapped: Option<i64>) -> Tax {
        Tax {
            id,
            name: name.into(),
            amount: Decimal::from_str(amount).unwrap(),
            amount_type: AmountType::Percent,
            price_include: false,
            type_tax_use: "sale".into(),
            active: true,
            company: None,
            magento_tax_class_id: mapped.unwrap_or(0),
            magento_tax_class_mapped: mapped.is_some(),
        }
    }

    fn classes() -> Vec<TaxClass> {
        vec![
            TaxClass { id: 0, name: "None".into() },
            TaxClass { id: 2, name: "Taxable Goods".into() },
            TaxClass { id: 4, name: "Shipping".into() },
        ]
    }

    #[test]
    fn proposals_by_name_then_zero_rate_then_same_rate() {
        let taxes = vec![
            tax(1, "Sales Tax 8.25%", "8.25", Some(2)),
            tax(2, "Shipping tax", "8.25", None),
            tax(3, "No Tax 0%", "0", None),
            tax(4, "Other 8.25", "8.25", None),
            tax(5, "Eco 2%", "2", None),
        ];
        let m = propose(&classes(), &taxes);
        assert_eq!(m[0].class_id, Some(2));
        assert!(m[0].mapped);
        assert_eq!(m[1].proposed_class_id, Some(4));
        assert!(m[1].reason.contains("by name"));
        assert_eq!(m[2].proposed_class_id, Some(0));
        assert_eq!(m[3].proposed_class_id, Some(2));
        assert!(m[3].reason.contains("by rate"));
        assert_eq!(m[4].proposed_class_id, None);
        assert!(m[4].reason.contains("choose one"));
    }

    #[test]
    fn product_class_from_its_taxes() {
        let map: BTreeMap<i64, Tax> = [
            tax(1, "A", "8.25", Some(2)),
            tax(2, "B", "8.375", Some(2)),
            tax(3, "C", "0", Some(0)),
            tax(4, "D", "2", None),
        ]
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
        assert_eq!(product_tax_class(&[], &map), Ok(0));
        assert_eq!(product_tax_class(&[1, 2], &map), Ok(2));
        assert_eq!(product_tax_class(&[1, 3], &map), Err(TaxClassError::Conflict(vec![2, 0])));
        assert!(matches!(product_tax_class(&[4], &map), Err(TaxClassError::Unmapped { id: 4, .. })));
        assert_eq!(product_tax_class(&[9], &map), Err(TaxClassError::Unknown(9)));
    }
}
