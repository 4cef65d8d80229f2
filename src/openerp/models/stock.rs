//! Stock quantities of many products at once, per warehouse or location (`context`).

use rust_decimal::Decimal;

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::Error;
use crate::openerp::profile::Profile;
use crate::openerp::wire::Context;
use crate::rpc::value::{DecodeError, Map, Record};

/// Model read.
pub const MODEL: &str = "product.product";

/// Where quantities are counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StockScope {
    /// Warehouse id (`context.warehouse`).
    pub warehouse: Option<i64>,
    /// Location id (`context.location`), wins over the warehouse in Odoo.
    pub location: Option<i64>,
}

/// Quantities of one product in a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockLevel {
    /// Product id.
    pub product_id: i64,
    /// On hand.
    pub qty_available: Decimal,
    /// Forecast (on hand + incoming − outgoing).
    pub virtual_available: Decimal,
    /// On hand − reserved (13+; `None` where the version has no `free_qty`).
    pub free_qty: Option<Decimal>,
}

impl StockLevel {
    /// Fields to read for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = vec!["qty_available", "virtual_available"];
        if profile.has_free_qty {
            f.push("free_qty");
        }
        f
    }

    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(StockLevel {
            product_id: r.i64("id")?,
            qty_available: r.decimal_or_zero("qty_available")?,
            virtual_available: r.decimal_or_zero("virtual_available")?,
            free_qty: r.opt_decimal("free_qty")?,
        })
    }
}

impl OpenErpClient {
    /// Quantities of `ids` in `scope` (chunked reads; archived products included).
    pub async fn stock_levels(&self, ids: &[i64], scope: StockScope, ctx: &Context) -> Result<Vec<StockLevel>, Error> {
        let profile = self.profile().await?;
        let ctx = ctx.clone().with_warehouse(scope.warehouse).with_location(scope.location).with_active_test(false);
        let rows = self.read(MODEL, ids, &StockLevel::fields(profile), &ctx).await?;
        rows.iter().map(|m| StockLevel::from_map(m).map_err(|e| Error::decode(&e).with_call(MODEL, "read"))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;

    #[test]
    fn decodes_the_recorded_quantities() {
        let levels: Vec<StockLevel> = recorded_rows("0380-product.product.read-stock-after-confirm")
            .iter()
            .map(|m| StockLevel::from_map(m).unwrap())
            .collect();
        assert_eq!(levels[0].product_id, 5);
        assert_eq!(levels[0].qty_available, Decimal::ZERO);
        assert_eq!(levels[0].virtual_available, Decimal::from(258));
        assert_eq!(levels[1].virtual_available, Decimal::from(-35));
        assert_eq!(levels[0].free_qty, None, "not requested in the recording");
        assert!(StockLevel::fields(&Profile::odoo(17).unwrap()).contains(&"free_qty"));
    }
}
