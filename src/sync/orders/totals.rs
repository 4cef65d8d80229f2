//! The money check of the order import, pure: OpenERP's line computation simulated in
//! `Decimal`, and the reconciliation of an order's computed totals with Magento's.
//!
//! OpenERP (Odoo 17, "round per line") computes a sale line as `compute_all(price_unit × (1 −
//! discount / 100), quantity)`: the base `round(price × quantity)`, then per tax either
//! `round(base × rate)` (tax excluded) or `base − round(base / (1 + rate))` (tax included), all
//! rounded half away from zero to the currency step like Odoo's `float_round`. The order's
//! untaxed amount and tax are the sums of its lines'. [`simulate_line`] reproduces that, so the
//! mapping can choose, before anything is written, the representation that gives exactly
//! Magento's amounts.
//!
//! [`reconcile`] is the explicit rounding rule: equal to the cent is accepted as it is; a
//! difference of at most the tolerance (on the total and on the tax) is absorbed by an untaxed
//! adjustment line and reported with both figures; anything larger is a mismatch.
//! [`check_created`] compares what OpenERP really computed after the create with what was
//! planned. This module does no I/O and must not know Magento's or OpenERP's wire formats.

use rust_decimal::Decimal;

use crate::openerp::models::pricelist::round_to_step;

/// OpenERP's precision of the line discount (the `Discount` decimal precision: 2 digits).
pub const DISCOUNT_DIGITS: u32 = 2;

/// A tax as OpenERP applies it to a line: a percentage, included in the price or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimTax {
    /// Rate in percent (`8.25`).
    pub rate: Decimal,
    /// The price includes the tax.
    pub included: bool,
}

/// The untaxed amount and the tax of one line (or of an order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    /// Untaxed.
    pub untaxed: Decimal,
    /// Tax.
    pub tax: Decimal,
}

impl Amounts {
    /// Untaxed plus tax.
    pub fn total(&self) -> Decimal {
        self.untaxed + self.tax
    }

    /// Component-wise sum.
    pub fn plus(self, o: Amounts) -> Amounts {
        Amounts { untaxed: self.untaxed + o.untaxed, tax: self.tax + o.tax }
    }
}

/// Rounds half away from zero to a multiple of `step` (Odoo's `float_round` on the currency).
pub fn round(x: Decimal, step: Decimal) -> Decimal {
    round_to_step(x, step)
}

/// The amounts OpenERP computes for a line with this unit price, quantity, discount (percent)
/// and tax, in a currency rounded to `step`.
pub fn simulate_line(
    price_unit: Decimal,
    quantity: Decimal,
    discount: Decimal,
    tax: Option<SimTax>,
    step: Decimal,
) -> Amounts {
    let reduced = price_unit * (Decimal::ONE - discount / Decimal::ONE_HUNDRED);
    let base = round(reduced * quantity, step);
    match tax {
        None => Amounts { untaxed: base, tax: Decimal::ZERO },
        Some(t) if t.rate.is_zero() => Amounts { untaxed: base, tax: Decimal::ZERO },
        Some(t) if t.included => {
            let untaxed = round(base / (Decimal::ONE + t.rate / Decimal::ONE_HUNDRED), step);
            Amounts { untaxed, tax: base - untaxed }
        }
        Some(t) => Amounts { untaxed: base, tax: round(base * t.rate / Decimal::ONE_HUNDRED, step) },
    }
}

/// Discounts (percent, [`DISCOUNT_DIGITS`] places, 0–100) worth trying to turn `gross` into
/// `target`: `preferred` first (e.g. the percentage Magento shows), then the exact ratio
/// rounded, truncated and raised, and their neighbours one step away.
pub fn discount_candidates(gross: Decimal, target: Decimal, preferred: Option<Decimal>) -> Vec<Decimal> {
    let mut out: Vec<Decimal> = Vec::new();
    let mut push = |d: Decimal| {
        let d = d.round_dp(DISCOUNT_DIGITS).normalize();
        if d >= Decimal::ZERO && d <= Decimal::ONE_HUNDRED && !out.contains(&d) {
            out.push(d);
        }
    };
    if let Some(p) = preferred.filter(|p| !p.is_zero()) {
        push(p);
    }
    if gross.is_zero() {
        return out;
    }
    let exact = Decimal::ONE_HUNDRED * (Decimal::ONE - target / gross);
    let step = Decimal::new(1, DISCOUNT_DIGITS);
    let rounded = exact.round_dp(DISCOUNT_DIGITS);
    for d in [rounded, exact.trunc_with_scale(DISCOUNT_DIGITS), rounded - step, rounded + step] {
        push(d);
    }
    let floor = exact.trunc_with_scale(DISCOUNT_DIGITS);
    push(floor + step);
    out
}

/// Magento's figures of one order in the order currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figures {
    /// Grand total.
    pub total: Decimal,
    /// Tax.
    pub tax: Decimal,
}

impl Figures {
    /// Total minus tax.
    pub fn untaxed(&self) -> Decimal {
        self.total - self.tax
    }

    /// The figures of computed amounts.
    pub fn of(a: Amounts) -> Figures {
        Figures { total: a.total(), tax: a.tax }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "total {} (tax {})", self.total.normalize(), self.tax.normalize())
    }
}

/// Outcome of [`reconcile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciliation {
    /// Equal to the cent.
    Exact,
    /// Within the tolerance: an untaxed adjustment line of `amount` (possibly zero when only
    /// the split between untaxed and tax differs) makes the totals equal.
    Adjusted {
        /// Amount of the adjustment line (Magento's total minus the computed total).
        amount: Decimal,
    },
    /// Beyond the tolerance.
    Mismatch,
}

/// The rounding rule: compares the order as OpenERP will compute it with Magento's figures.
pub fn reconcile(magento: Figures, computed: Amounts, tolerance: Decimal) -> Reconciliation {
    let total_diff = magento.total - computed.total();
    let tax_diff = magento.tax - computed.tax;
    if total_diff.is_zero() && tax_diff.is_zero() {
        Reconciliation::Exact
    } else if total_diff.abs() <= tolerance && tax_diff.abs() <= tolerance {
        Reconciliation::Adjusted { amount: total_diff }
    } else {
        Reconciliation::Mismatch
    }
}

/// What the created order must show, decided when it was planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation {
    /// Magento's figures.
    pub magento: Figures,
    /// A rounding adjustment was planned (the tax may then differ from Magento's by at most
    /// the tolerance).
    pub adjusted: bool,
    /// The tolerance.
    pub tolerance: Decimal,
}

/// Checks the amounts OpenERP computed for a created order: the total must equal Magento's
/// grand total to the cent, the tax must equal Magento's (or be within the tolerance when an
/// adjustment was planned), and untaxed + tax must make the total. The error says both figures.
pub fn check_created(expected: &Expectation, untaxed: Decimal, tax: Decimal, total: Decimal) -> Result<(), String> {
    let m = expected.magento;
    let tax_ok = if expected.adjusted { (m.tax - tax).abs() <= expected.tolerance } else { m.tax == tax };
    if total == m.total && tax_ok && untaxed + tax == total {
        return Ok(());
    }
    Err(format!(
        "Magento charged {m}; OpenERP computes total {} (untaxed {}, tax {})",
        total.normalize(),
        untaxed.normalize(),
        tax.normalize()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    const CENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn excl(rate: &str) -> Option<SimTax> {
        Some(SimTax { rate: d(rate), included: false })
    }

    fn incl(rate: &str) -> Option<SimTax> {
        Some(SimTax { rate: d(rate), included: true })
    }

    #[test]
    fn lines_round_like_odoo() {
        // Recorded order 100000001: 10 % off, tax after discount at 8.25 %.
        let a = simulate_line(d("149.99"), d("1"), d("10"), excl("8.25"), CENT);
        assert_eq!((a.untaxed, a.tax), (d("134.99"), d("11.14")));
        let a = simulate_line(d("7.95"), d("3"), d("10"), excl("8.25"), CENT);
        assert_eq!((a.untaxed, a.tax), (d("21.47"), d("1.77")), "21.465 rounds half up");
        // Tax included: base 59.97, untaxed 55.40 (49.975 style halves go up).
        let a = simulate_line(d("19.99"), d("3"), Decimal::ZERO, incl("8.25"), CENT);
        assert_eq!((a.untaxed, a.tax), (d("55.40"), d("4.57")));
        let a = simulate_line(d("19.99"), d("3"), Decimal::ZERO, incl("20"), CENT);
        assert_eq!((a.untaxed, a.tax), (d("49.98"), d("9.99")));
        // Negative lines (discount lines) round away from zero too.
        let a = simulate_line(d("-2.38"), d("1"), Decimal::ZERO, excl("8.25"), CENT);
        assert_eq!((a.untaxed, a.tax), (d("-2.38"), d("-0.20")));
        let a = simulate_line(d("5"), d("2"), Decimal::ZERO, None, CENT);
        assert_eq!((a.untaxed, a.tax), (d("10"), Decimal::ZERO));
    }

    #[test]
    fn discount_candidates_cover_the_exact_ratio() {
        // SAVE5 on 29.00: 1.96 off.
        let c = discount_candidates(d("29.00"), d("27.04"), None);
        assert_eq!(c[0], d("6.76"));
        assert!(c.iter().all(|x| x.scale() <= DISCOUNT_DIGITS));
        let c = discount_candidates(d("149.99"), d("134.99"), Some(d("10.0000")));
        assert_eq!(c[0], d("10"), "the preferred percentage comes first");
        assert!(discount_candidates(Decimal::ZERO, Decimal::ZERO, None).is_empty());
        // A discount the 2-digit percentage cannot express on a large row.
        let gross = d("5000.00");
        let target = d("4987.66");
        let hits = discount_candidates(gross, target, None)
            .into_iter()
            .filter(|x| simulate_line(gross, Decimal::ONE, *x, None, CENT).untaxed == target)
            .count();
        assert_eq!(hits, 0);
    }

    #[test]
    fn the_rounding_rule() {
        let m = Figures { total: d("100.00"), tax: d("8.00") };
        assert_eq!(reconcile(m, Amounts { untaxed: d("92.00"), tax: d("8.00") }, d("0.02")), Reconciliation::Exact);
        assert_eq!(
            reconcile(m, Amounts { untaxed: d("92.00"), tax: d("7.99") }, d("0.02")),
            Reconciliation::Adjusted { amount: d("0.01") }
        );
        assert_eq!(
            reconcile(m, Amounts { untaxed: d("92.01"), tax: d("7.99") }, d("0.02")),
            Reconciliation::Adjusted { amount: Decimal::ZERO },
            "only the split differs"
        );
        assert_eq!(reconcile(m, Amounts { untaxed: d("92.00"), tax: d("7.97") }, d("0.02")), Reconciliation::Mismatch);
        assert_eq!(
            reconcile(m, Amounts { untaxed: d("92.00"), tax: d("7.99") }, Decimal::ZERO),
            Reconciliation::Mismatch
        );
    }

    #[test]
    fn created_orders_are_checked_to_the_cent() {
        let e = Expectation {
            magento: Figures { total: d("230.28"), tax: d("12.91") },
            adjusted: false,
            tolerance: d("0.02"),
        };
        assert!(check_created(&e, d("217.37"), d("12.91"), d("230.28")).is_ok());
        let err = check_created(&e, d("217.38"), d("12.91"), d("230.29")).unwrap_err();
        assert!(err.contains("230.28") && err.contains("230.29"), "{err}");
        assert!(
            check_created(&e, d("217.38"), d("12.90"), d("230.28")).is_err(),
            "tax must be exact without adjustment"
        );
        let adjusted = Expectation { adjusted: true, ..e };
        assert!(check_created(&adjusted, d("217.38"), d("12.90"), d("230.28")).is_ok());
        assert!(check_created(&adjusted, d("217.38"), d("12.90"), d("230.27")).is_err(), "the total never moves");
    }
}
