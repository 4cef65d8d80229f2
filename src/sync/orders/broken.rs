//! Why an order cannot be imported, in plain words, with what to fix: one constructor per
//! reason, so every broken order of the queue reads the same way. Pure; writing the queue
//! (`store.broken()`) is the driver's job.

use rust_decimal::Decimal;

use crate::store::{BrokenCode, BrokenUpsert};

/// An order that cannot be imported as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// Reason code.
    pub code: BrokenCode,
    /// What is wrong.
    pub reason: String,
    /// What to fix before re-importing.
    pub hint: String,
}

const REIMPORT: &str = "then run the broken-order re-import";

fn pct(rate: Decimal) -> String {
    format!("{} %", rate.normalize())
}

impl Broken {
    /// A reason with its hint.
    pub fn new(code: BrokenCode, reason: impl Into<String>, hint: impl Into<String>) -> Broken {
        Broken { code, reason: reason.into(), hint: hint.into() }
    }

    /// Lines whose SKU no OpenERP product has; `missing` = `(sku, Magento name)`.
    pub fn unknown_skus(missing: &[(String, String)]) -> Broken {
        let list: Vec<String> = missing.iter().map(|(sku, name)| format!("{sku} ({name})")).collect();
        let skus: Vec<&str> = missing.iter().map(|(s, _)| s.as_str()).collect();
        let (noun, verb) = if missing.len() == 1 { ("SKU", "is") } else { ("SKUs", "are") };
        Broken::new(
            BrokenCode::UnknownSku,
            format!("{noun} {} {verb} not the internal reference of any OpenERP product", list.join(", ")),
            format!(
                "create the product(s) in OpenERP with Internal Reference {} (or correct the reference of an \
                 existing product), {REIMPORT}",
                skus.join(", ")
            ),
        )
    }

    /// No OpenERP sale tax of this rate (and price-included kind, when `included` says which).
    pub fn unmapped_tax(rate: Decimal, included: Option<bool>, what: &str) -> Broken {
        let kind = match included {
            Some(true) => " included in the price",
            Some(false) => " not included in the price",
            None => "",
        };
        Broken::new(
            BrokenCode::UnmappedTax,
            format!("{what} is taxed at {} and OpenERP has no active sale tax of {}{kind}", pct(rate), pct(rate)),
            format!(
                "create (or unarchive) a percent sale tax of {}{kind} in OpenERP for the backend's company, {REIMPORT}",
                pct(rate)
            ),
        )
    }

    /// The shipping tax matches no OpenERP tax rate.
    pub fn unmapped_shipping_tax(tax: Decimal, base: Decimal) -> Broken {
        Broken::new(
            BrokenCode::UnmappedTax,
            format!(
                "no OpenERP sale tax reproduces Magento's shipping tax {} on shipping {}",
                tax.normalize(),
                base.normalize()
            ),
            format!("create the sale tax Magento applies to shipping in OpenERP, {REIMPORT}"),
        )
    }

    /// The payment method has no line in the backend's payment methods.
    pub fn unknown_payment(code: &str) -> Broken {
        Broken::new(
            BrokenCode::UnknownPayment,
            format!("payment method {code:?} is not configured on the Magento backend"),
            format!(
                "add payment method {code:?} (with its payment term) under Payment Methods of the Magento backend in \
                 OpenERP, {REIMPORT}"
            ),
        )
    }

    /// Computed totals differ from Magento's beyond the tolerance.
    pub fn totals_mismatch(detail: impl Into<String>, hint: impl Into<String>) -> Broken {
        Broken::new(BrokenCode::TotalsMismatch, detail, hint)
    }

    /// A backend setting the order needs is empty.
    pub fn missing_setting(what: &str, setting: &str) -> Broken {
        Broken::new(
            BrokenCode::TotalsMismatch,
            format!("{what}, but the Magento backend has no {setting}"),
            format!("set the {setting} on the Magento backend in OpenERP (a service product), {REIMPORT}"),
        )
    }

    /// A billing or shipping address cannot be used.
    pub fn invalid_address(which: &str, why: &str) -> Broken {
        Broken::new(
            BrokenCode::InvalidAddress,
            format!("the {which} address {why}"),
            format!("correct the order's {which} address in Magento (or the country list in OpenERP), {REIMPORT}"),
        )
    }

    /// OpenERP refused a write of this order.
    pub fn openerp_refused(step: &str, message: &str) -> Broken {
        Broken::new(
            BrokenCode::OpenerpRefused,
            format!("OpenERP refused {step}: {message}"),
            format!("fix what OpenERP complains about (nothing of this order was kept in OpenERP), {REIMPORT}"),
        )
    }

    /// Magento sent data that cannot be used.
    pub fn magento_data(message: &str) -> Broken {
        Broken::new(
            BrokenCode::MagentoData,
            format!("Magento's order data cannot be used: {message}"),
            format!("check the order in the Magento admin (and the connector's log), {REIMPORT}"),
        )
    }

    /// The queue entry of this order.
    pub fn upsert(
        &self,
        backend: &str,
        store_id: i64,
        increment_id: &str,
        payload: Option<serde_json::Value>,
    ) -> BrokenUpsert {
        BrokenUpsert {
            backend: backend.to_owned(),
            store_id,
            increment_id: increment_id.to_owned(),
            code: self.code,
            reason: self.reason.clone(),
            hint: self.hint.clone(),
            payload,
        }
    }

    /// One line for the run report.
    pub fn message(&self) -> String {
        format!("broken ({}): {}; to fix: {}", self.code, self.reason, self.hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_to_fix() {
        let b = Broken::unknown_skus(&[("ELEC-HDPH-001".into(), "Noise Cancelling Headphones".into())]);
        assert_eq!(b.code, BrokenCode::UnknownSku);
        assert!(b.reason.contains("ELEC-HDPH-001 (Noise Cancelling Headphones) is not"), "{}", b.reason);
        assert!(b.hint.contains("Internal Reference ELEC-HDPH-001"), "{}", b.hint);
        let b = Broken::unmapped_tax("8.2500".parse().unwrap(), Some(true), "line Mug");
        assert!(b.reason.contains("8.25 %") && b.reason.contains("included in the price"), "{}", b.reason);
        let b = Broken::unknown_payment("paypal_express");
        assert_eq!(b.code, BrokenCode::UnknownPayment);
        assert!(b.hint.contains("\"paypal_express\""));
        let u = b.upsert("shop", 1, "100000009", None);
        assert_eq!((u.code, u.increment_id.as_str(), u.store_id), (BrokenCode::UnknownPayment, "100000009", 1));
        assert!(b.message().starts_with("broken (unknown_payment): payment method"));
    }
}
