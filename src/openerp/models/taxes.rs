//! `account.tax`: sale taxes with the addon's Magento tax class mapping.

use rust_decimal::Decimal;

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::Error;
use crate::openerp::wire::{Context, Domain};
use crate::rpc::value::{DecodeError, Many2one, Map, Record};

/// Model of taxes.
pub const MODEL: &str = "account.tax";

/// The addon's fields on `account.tax`.
pub const ADDON_FIELDS: &[&str] = &["magento_tax_class_id", "magento_tax_class_mapped"];

/// Fields read for every tax.
pub const FIELDS: &[&str] = &[
    "name",
    "amount",
    "amount_type",
    "price_include",
    "type_tax_use",
    "active",
    "company_id",
    "magento_tax_class_id",
    "magento_tax_class_mapped",
];

/// How a tax amount is computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountType {
    /// Percentage of the price, hundred-based (`15.0` = 15 %).
    Percent,
    /// Fixed amount per unit.
    Fixed,
    /// Percentage of the price tax included (`division`).
    Division,
    /// Group of taxes.
    Group,
    /// Something a module added.
    Other(String),
}

/// One tax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tax {
    /// Id.
    pub id: i64,
    /// Name (`15%`).
    pub name: String,
    /// Amount (meaning depends on [`Tax::amount_type`]).
    pub amount: Decimal,
    /// How the amount applies.
    pub amount_type: AmountType,
    /// Price includes the tax.
    pub price_include: bool,
    /// `sale`, `purchase` or `none`.
    pub type_tax_use: String,
    /// Not archived.
    pub active: bool,
    /// Company `[id, name]`.
    pub company: Option<Many2one>,
    /// Magento product tax class id (meaningful only when mapped).
    pub magento_tax_class_id: i64,
    /// A class was chosen (class 0 "None" is a valid mapping).
    pub magento_tax_class_mapped: bool,
}

impl Tax {
    /// Decodes one row read with [`FIELDS`]; absent addon fields read as "not mapped".
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        let amount_type = match r.string("amount_type")?.as_str() {
            "percent" => AmountType::Percent,
            "fixed" => AmountType::Fixed,
            "division" => AmountType::Division,
            "group" => AmountType::Group,
            other => AmountType::Other(other.to_owned()),
        };
        Ok(Tax {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            amount: r.decimal_or_zero("amount")?,
            amount_type,
            price_include: r.bool("price_include")?,
            type_tax_use: r.string_or_empty("type_tax_use")?,
            active: r.bool("active")?,
            company: r.many2one("company_id")?,
            magento_tax_class_id: r.opt_i64("magento_tax_class_id")?.unwrap_or(0),
            magento_tax_class_mapped: r.bool("magento_tax_class_mapped")?,
        })
    }

    /// The rate in percent (hundred-based) for a percent tax; `None` for other kinds.
    pub fn percent(&self) -> Option<Decimal> {
        (self.amount_type == AmountType::Percent).then_some(self.amount)
    }
}

impl OpenErpClient {
    /// Every tax of type `sale`, archived ones included when `include_archived`.
    pub async fn sale_taxes(&self, include_archived: bool, ctx: &Context) -> Result<Vec<Tax>, Error> {
        let ctx = if include_archived { ctx.clone().with_active_test(false) } else { ctx.clone() };
        let domain = Domain::new().eq("type_tax_use", dxr::Value::String("sale".into()));
        let rows = self.search_read_all(MODEL, &domain, FIELDS, &ctx).await?;
        rows.iter().map(|m| Tax::from_map(m).map_err(|e| Error::decode(&e).with_call(MODEL, "search_read"))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;

    #[test]
    fn decodes_the_recorded_taxes() {
        let taxes: Vec<Tax> =
            recorded_rows("0160-account.tax.search_read").iter().map(|m| Tax::from_map(m).unwrap()).collect();
        assert_eq!(taxes.len(), 2);
        let sale = &taxes[0];
        assert_eq!((sale.id, sale.name.as_str(), sale.type_tax_use.as_str()), (1, "15%", "sale"));
        assert_eq!(sale.percent(), Some(Decimal::from(15)));
        assert!(!sale.price_include && sale.active);
        assert_eq!(sale.company.as_ref().map(|c| c.name.as_str()), Some("My Company (San Francisco)"));
        assert!(!sale.magento_tax_class_mapped);
        assert_eq!(taxes[1].type_tax_use, "purchase");
    }
}
