//! The order builder: places an order in the sandbox the way Magento's checkout totals would
//! compute it, so tests and benchmarks can add realistic orders.
//!
//! The maths, per currency (base USD, then the order currency at `base_to_order_rate`):
//! * unit price = catalog final price (+ the configurable's option price), converted and
//!   rounded to cents; `row_total = price × qty`;
//! * percent discounts take `p %` of each row, rounded with the running delta Magento carries
//!   from row to row (149.99, 23.85, 39.90 at 10 % give 15.00, 2.38, 3.99); cart-fixed
//!   discounts spread the amount over the rows in proportion, with the same delta rounding;
//! * tax per row after discount, rounded per row: `round((row_total − discount) × rate)`;
//!   `row_total_incl_tax = round(row_total × (1 + rate))`, `price_incl_tax =
//!   round(row_total_incl_tax / qty)`;
//! * flat-rate shipping per shippable unit, optionally taxed at the shipping address rate;
//! * `grand_total = subtotal + discount + shipping + tax + hidden tax` (discount negative),
//!   exactly.
//!
//! Two of Magento's tax settings can be chosen per order ([`OrderSpec::tax_calculation`],
//! [`OrderSpec::prices_include_tax`]): the "Unit Price" algorithm rounds the tax of one unit
//! (after its share of the discount) and multiplies it by the quantity; the "Total" algorithm
//! rounds each row with the delta carried from the previous rows of the same rate. With
//! catalog prices including tax (row-based), the catalog price is `price_incl_tax`,
//! `row_total = row_total_incl_tax − round(row_total_incl_tax × rate / (100 + rate))`, the
//! discount is taken from the prices including tax, and the tax inside the discount is the
//! row's `hidden_tax_amount`.
//!
//! A configurable line gives two items, as in Magento: the parent (money, the child's SKU) and
//! the child (price, tax and discount 0).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::directory;
use super::model::catalog::Product;
use super::model::sales::{Amounts, AppliedRule, ItemAmounts, ItemInvoiced, Order, OrderAddress, OrderItem};
use super::model::{CouponRule, DiscountAction, Shop};
use super::php::{self, Ser, SerKey};

/// Who places the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerSpec {
    /// A registered customer by Magento id.
    Registered(i64),
    /// A guest.
    Guest {
        /// Email.
        email: String,
        /// First name.
        firstname: String,
        /// Last name.
        lastname: String,
    },
}

/// A new address typed at checkout (not from the address book).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    /// First name.
    pub firstname: String,
    /// Last name.
    pub lastname: String,
    /// Company.
    pub company: Option<String>,
    /// Street lines.
    pub street: Vec<String>,
    /// City.
    pub city: String,
    /// Region id (`directory_region`), e.g. 12 California, 43 New York.
    pub region_id: Option<i64>,
    /// Region name when there is no region id.
    pub region: Option<String>,
    /// Postcode.
    pub postcode: String,
    /// Country (ISO 3166-1 alpha-2).
    pub country_id: String,
    /// Phone.
    pub telephone: String,
}

impl NewAddress {
    /// Builds an address from a seed address.
    pub fn from_seed(a: &crate::sandbox::seed::SeedAddress) -> Self {
        NewAddress {
            firstname: a.firstname.into(),
            lastname: a.lastname.into(),
            company: a.company.map(str::to_owned),
            street: a.street.iter().map(|s| (*s).to_owned()).collect(),
            city: a.city.into(),
            region_id: a.region_id,
            region: a.region.map(str::to_owned),
            postcode: a.postcode.into(),
            country_id: a.country.into(),
            telephone: a.telephone.into(),
        }
    }
}

/// Where an order address comes from.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressSpec {
    /// An address-book entry of the customer (by address id).
    Book(i64),
    /// A new address.
    New(NewAddress),
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSpec {
    /// SKU of the simple/virtual product (the variant for configurable lines).
    pub sku: String,
    /// Quantity.
    pub qty: Decimal,
    /// SKU of the configurable parent, for a configurable line.
    pub parent_sku: Option<String>,
    /// `info_buyRequest` names the product by id (as `cart_product.add` with `product_id`
    /// does) instead of by SKU.
    pub by_product_id: bool,
}

impl LineSpec {
    /// A simple or virtual product line.
    pub fn new(sku: &str, qty: u32) -> Self {
        LineSpec { sku: sku.to_owned(), qty: Decimal::from(qty), parent_sku: None, by_product_id: false }
    }

    /// A configurable line: `parent` (e.g. `CLO-TSHIRT`) in its `variant` (e.g. `CLO-TSHIRT-BLUE-L`).
    pub fn configurable(parent: &str, variant: &str, qty: u32) -> Self {
        LineSpec {
            sku: variant.to_owned(),
            qty: Decimal::from(qty),
            parent_sku: Some(parent.to_owned()),
            by_product_id: false,
        }
    }

    /// The same line, added by product id rather than SKU (changes `product_options` only).
    pub fn by_id(mut self) -> Self {
        self.by_product_id = true;
        self
    }
}

/// Magento's tax calculation method ("Tax Calculation Method Based On").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaxCalculation {
    /// "Row Total": each row's tax rounded on its own (Magento's default).
    #[default]
    RowTotal,
    /// "Unit Price": the tax of one unit rounded, times the quantity.
    UnitPrice,
    /// "Total": unrounded row taxes, rounded with the delta carried from row to row.
    Total,
}

/// Everything needed to place an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSpec {
    /// Store view (1 default/USD, 2 fr/EUR, 3 wholesale/USD).
    pub store_id: i64,
    /// Customer.
    pub customer: CustomerSpec,
    /// Billing address.
    pub billing: AddressSpec,
    /// Shipping address; `None` = same as billing.
    pub shipping: Option<AddressSpec>,
    /// Lines.
    pub lines: Vec<LineSpec>,
    /// Coupon code of a known rule (`CONNECTOR10`: 10 %, `SAVE5`: 5.00 off the cart).
    pub coupon: Option<String>,
    /// Flat rate per shippable unit, base currency.
    pub shipping_per_item: Decimal,
    /// Tax shipping at the shipping address rate.
    pub tax_shipping: bool,
    /// Creation time (`None`: now).
    pub created_at: Option<DateTime<Utc>>,
    /// Payment method code (default `checkmo`).
    pub payment_method: String,
    /// Catalog prices include tax (the catalog price is `price_incl_tax`; row-based tax).
    pub prices_include_tax: bool,
    /// Tax calculation method (prices excluding tax only).
    pub tax_calculation: TaxCalculation,
}

impl OrderSpec {
    /// An order in `store_id` for `customer` with billing = shipping = `address`, 5.00 flat
    /// rate per item, no coupon, untaxed shipping.
    pub fn new(store_id: i64, customer: CustomerSpec, address: AddressSpec, lines: Vec<LineSpec>) -> Self {
        OrderSpec {
            store_id,
            customer,
            billing: address,
            shipping: None,
            lines,
            coupon: None,
            shipping_per_item: Decimal::new(5, 0),
            tax_shipping: false,
            created_at: None,
            payment_method: "checkmo".into(),
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        }
    }
}

/// Why an order could not be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderBuildError {
    /// No such store view.
    #[error("store view {0} does not exist")]
    UnknownStore(i64),
    /// No such customer.
    #[error("customer {0} does not exist")]
    UnknownCustomer(i64),
    /// Address id not in the customer's address book.
    #[error("address {0} is not in the customer's address book")]
    UnknownAddress(i64),
    /// No such SKU.
    #[error("product {0:?} does not exist")]
    UnknownSku(String),
    /// The variant is not a child of the configurable.
    #[error("{variant:?} is not a variant of the configurable {parent:?}")]
    NotAVariant {
        /// Parent SKU.
        parent: String,
        /// Variant SKU.
        variant: String,
    },
    /// Quantity must be positive.
    #[error("line {0}: quantity must be positive")]
    BadQty(usize),
    /// Unknown coupon.
    #[error("coupon {0:?} is not valid")]
    UnknownCoupon(String),
    /// No lines.
    #[error("an order needs at least one line")]
    NoLines,
    /// Guest orders cannot use the address book.
    #[error("a guest order cannot use address-book entries")]
    GuestAddressBook,
}

/// A priced line, ready for the totals.
#[derive(Debug, Clone)]
struct PricedLine {
    product: Product,
    child: Option<Product>,
    qty: Decimal,
    base_price: Decimal,
    base_original: Decimal,
    tax_percent: Decimal,
    options: String,
    child_options: Option<String>,
}

/// Totals of an order in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CurrencyTotals {
    /// Per line.
    pub lines: Vec<ItemAmounts>,
    /// Order totals.
    pub totals: Amounts,
}

/// Input of the pure totals computation.
#[derive(Debug, Clone)]
pub(crate) struct TotalsInput {
    /// `(unit price, original price, qty, tax percent, shippable)` per line, base currency.
    pub lines: Vec<(Decimal, Decimal, Decimal, Decimal, bool)>,
    /// Discount rule.
    pub discount: Option<DiscountAction>,
    /// Flat rate per shippable unit (base).
    pub shipping_per_item: Decimal,
    /// Shipping tax percent (`None`: untaxed).
    pub shipping_tax_percent: Option<Decimal>,
    /// Line prices include tax.
    pub prices_include_tax: bool,
    /// Tax calculation method (prices excluding tax).
    pub tax_calculation: TaxCalculation,
}

/// Computes line and order totals in the currency reached with `rate` from the base currency
/// (pass 1 for the base currency itself).
pub(crate) fn compute_totals(input: &TotalsInput, rate: Decimal) -> CurrencyTotals {
    let conv = |d: Decimal| {
        if rate == Decimal::ONE { d } else { php::cents(d * rate) }
    };
    let hundred = Decimal::ONE_HUNDRED;
    let included = input.prices_include_tax;
    let mut lines: Vec<ItemAmounts> = input
        .lines
        .iter()
        .map(|(price, original, qty, pct, _)| {
            let price = conv(*price);
            if included {
                // The catalog price includes the tax: the row excluding tax is what is left.
                let row_incl = php::cents(price * qty);
                let row_tax = php::cents(row_incl * pct / (hundred + pct));
                let row_total = row_incl - row_tax;
                ItemAmounts {
                    price: if qty.is_zero() { row_total } else { php::cents(row_total / qty) },
                    original_price: conv(*original),
                    row_total,
                    price_incl_tax: price,
                    row_total_incl_tax: row_incl,
                    ..Default::default()
                }
            } else {
                ItemAmounts {
                    price,
                    original_price: conv(*original),
                    row_total: php::cents(price * qty),
                    ..Default::default()
                }
            }
        })
        .collect();
    let subtotal: Decimal = lines.iter().map(|l| l.row_total).sum();
    // Discounts with delta rounding, on the prices including tax when the catalog has them.
    let base_of = |l: &ItemAmounts| if included { l.row_total_incl_tax } else { l.row_total };
    let discount_base: Decimal = lines.iter().map(base_of).sum();
    let mut delta = Decimal::ZERO;
    match input.discount {
        Some(DiscountAction::Percent(p)) => {
            for l in &mut lines {
                let raw = base_of(l) * p / hundred + delta;
                let d = php::cents(raw).min(base_of(l));
                delta = raw - d;
                l.discount = d;
            }
        }
        Some(DiscountAction::CartFixed(amount)) => {
            let total = conv(amount).min(discount_base);
            if discount_base > Decimal::ZERO {
                for l in &mut lines {
                    let raw = total * base_of(l) / discount_base + delta;
                    let d = php::cents(raw).min(base_of(l));
                    delta = raw - d;
                    l.discount = d;
                }
            }
        }
        None => {}
    }
    let mut row_tax = Decimal::ZERO;
    let mut hidden = Decimal::ZERO;
    let mut deltas: Vec<(Decimal, Decimal)> = Vec::new();
    for (l, (_, _, qty, pct, _)) in lines.iter_mut().zip(&input.lines) {
        if included {
            l.tax = php::cents((l.row_total_incl_tax - l.discount) * pct / (hundred + pct));
            l.hidden_tax = php::cents(l.discount * pct / (hundred + pct));
        } else {
            l.tax = match input.tax_calculation {
                TaxCalculation::RowTotal => php::cents((l.row_total - l.discount) * pct / hundred),
                TaxCalculation::UnitPrice if qty.is_zero() => Decimal::ZERO,
                TaxCalculation::UnitPrice => php::cents((l.price - l.discount / qty) * pct / hundred) * qty,
                TaxCalculation::Total => {
                    let carried = deltas.iter().find(|(r, _)| r == pct).map_or(Decimal::ZERO, |(_, d)| *d);
                    let raw = (l.row_total - l.discount) * pct / hundred + carried;
                    let t = php::cents(raw);
                    match deltas.iter_mut().find(|(r, _)| r == pct) {
                        Some(entry) => entry.1 = raw - t,
                        None => deltas.push((*pct, raw - t)),
                    }
                    t
                }
            };
            l.row_total_incl_tax = php::cents(l.row_total * (hundred + pct) / hundred);
            l.price_incl_tax = if qty.is_zero() { l.price } else { php::cents(l.row_total_incl_tax / qty) };
        }
        row_tax += l.tax;
        hidden += l.hidden_tax;
    }
    let units: Decimal = input.lines.iter().filter(|l| l.4).map(|l| l.2).sum();
    let shipping = conv(input.shipping_per_item * units);
    let shipping_tax = input.shipping_tax_percent.map_or(Decimal::ZERO, |p| php::cents(shipping * p / hundred));
    let discount = -lines.iter().map(|l| l.discount).sum::<Decimal>();
    let tax = row_tax + shipping_tax;
    let totals = Amounts {
        subtotal,
        discount,
        shipping,
        shipping_tax,
        tax,
        hidden_tax: hidden,
        grand_total: subtotal + discount + shipping + tax + hidden,
        subtotal_incl_tax: lines.iter().map(|l| l.row_total_incl_tax).sum(),
        shipping_incl_tax: shipping + shipping_tax,
    };
    CurrencyTotals { lines, totals }
}

fn buy_request(line: &LineSpec, product_id: i64, super_attr: Option<&[(i64, i64)]>) -> Ser {
    let product = if line.by_product_id {
        (SerKey::Str("product_id".into()), Ser::Int(product_id))
    } else {
        (SerKey::Str("sku".into()), Ser::str(line.parent_sku.clone().unwrap_or_else(|| line.sku.clone())))
    };
    let mut req = vec![product, (SerKey::Str("qty".into()), php::qty_ser(line.qty))];
    if let Some(attrs) = super_attr {
        req.push((
            SerKey::Str("super_attribute".into()),
            Ser::Arr(attrs.iter().map(|(a, v)| (SerKey::Int(*a), Ser::Int(*v))).collect()),
        ));
    }
    Ser::Arr(req)
}

fn order_address(
    shop: &Shop,
    spec: &AddressSpec,
    id: i64,
    kind: &'static str,
    customer_id: Option<i64>,
    email: &str,
) -> Result<OrderAddress, OrderBuildError> {
    match spec {
        AddressSpec::Book(aid) => {
            let a = shop
                .customers
                .address(*aid)
                .filter(|a| Some(a.customer_id) == customer_id)
                .ok_or(OrderBuildError::UnknownAddress(*aid))?;
            let t = |k: &str| a.text(k).unwrap_or_default();
            Ok(OrderAddress {
                id,
                address_type: kind,
                customer_address_id: Some(*aid),
                customer_id,
                email: email.to_owned(),
                firstname: t("firstname"),
                lastname: t("lastname"),
                company: a.text("company"),
                street: t("street"),
                city: t("city"),
                region: a.text("region"),
                region_id: a.values.get("region_id").map(php::to_int_lenient),
                postcode: t("postcode"),
                country_id: t("country_id"),
                telephone: t("telephone"),
            })
        }
        AddressSpec::New(n) => Ok(OrderAddress {
            id,
            address_type: kind,
            customer_address_id: None,
            customer_id,
            email: email.to_owned(),
            firstname: n.firstname.clone(),
            lastname: n.lastname.clone(),
            company: n.company.clone().filter(|c| !c.is_empty()),
            street: n.street.join("\n"),
            city: n.city.clone(),
            region: n.region_id.and_then(directory::region).map(|r| r.2.to_owned()).or_else(|| n.region.clone()),
            region_id: n.region_id,
            postcode: n.postcode.clone(),
            country_id: n.country_id.clone(),
            telephone: n.telephone.clone(),
        }),
    }
}

fn price_lines(
    shop: &Shop,
    spec: &OrderSpec,
    tax_country: &str,
    tax_region: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Vec<PricedLine>, OrderBuildError> {
    let mut out = Vec::with_capacity(spec.lines.len());
    for (i, line) in spec.lines.iter().enumerate() {
        if line.qty <= Decimal::ZERO {
            return Err(OrderBuildError::BadQty(i));
        }
        let id = shop.catalog.id_by_sku(&line.sku).ok_or_else(|| OrderBuildError::UnknownSku(line.sku.clone()))?;
        let product = shop.catalog.product(id).ok_or_else(|| OrderBuildError::UnknownSku(line.sku.clone()))?.clone();
        let store = spec.store_id;
        match &line.parent_sku {
            None => {
                let tax = shop.tax_rate(product.int("tax_class_id", store).unwrap_or(0), tax_country, tax_region);
                let options = Ser::map([("info_buyRequest", buy_request(line, product.id, None))]).serialize();
                out.push(PricedLine {
                    base_price: product.final_price(store, now),
                    base_original: product.decimal("price", store).unwrap_or_default(),
                    tax_percent: tax,
                    product,
                    child: None,
                    qty: line.qty,
                    options,
                    child_options: None,
                });
            }
            Some(parent_sku) => {
                let pid = shop
                    .catalog
                    .id_by_sku(parent_sku)
                    .ok_or_else(|| OrderBuildError::UnknownSku(parent_sku.clone()))?;
                let parent =
                    shop.catalog.product(pid).ok_or_else(|| OrderBuildError::UnknownSku(parent_sku.clone()))?.clone();
                if !parent.children.contains(&product.id) {
                    return Err(OrderBuildError::NotAVariant { parent: parent_sku.clone(), variant: line.sku.clone() });
                }
                let mut super_values = Vec::new();
                let mut delta = Decimal::ZERO;
                let mut info = Vec::new();
                for sa in &parent.super_attributes {
                    let value = product.int(sa.code, 0).unwrap_or(0);
                    super_values.push((sa.attribute_id, value));
                    delta += sa.pricing.iter().find(|(v, _)| *v == value).map_or(Decimal::ZERO, |(_, d)| *d);
                    let label = super::model::attributes::option_label(sa.code, value).unwrap_or("");
                    info.push(Ser::map([("label", Ser::str(sa.label)), ("value", Ser::str(label))]));
                }
                let request = buy_request(line, parent.id, Some(&super_values));
                let options = Ser::map([
                    ("info_buyRequest", request.clone()),
                    (
                        "attributes_info",
                        Ser::Arr(info.into_iter().enumerate().map(|(i, v)| (SerKey::Int(i as i64), v)).collect()),
                    ),
                    ("simple_name", Ser::str(product.text("name", store).unwrap_or_default())),
                    ("simple_sku", Ser::str(product.sku.clone())),
                    ("product_calculations", Ser::Int(1)),
                    ("shipment_type", Ser::Int(0)),
                ])
                .serialize();
                let child_options = Ser::map([("info_buyRequest", request)]).serialize();
                let tax = shop.tax_rate(parent.int("tax_class_id", store).unwrap_or(0), tax_country, tax_region);
                out.push(PricedLine {
                    base_price: parent.final_price(store, now) + delta,
                    base_original: parent.decimal("price", store).unwrap_or_default() + delta,
                    tax_percent: tax,
                    product: parent,
                    child: Some(product),
                    qty: line.qty,
                    options,
                    child_options: Some(child_options),
                });
            }
        }
    }
    Ok(out)
}

/// Places an order built from `spec` and returns its increment id. Stock of the ordered
/// simple products goes down by the ordered quantity, as checkout does.
pub(crate) fn place_order(shop: &mut Shop, spec: &OrderSpec, now: DateTime<Utc>) -> Result<String, OrderBuildError> {
    let store = shop.store(spec.store_id).cloned().ok_or(OrderBuildError::UnknownStore(spec.store_id))?;
    if spec.lines.is_empty() {
        return Err(OrderBuildError::NoLines);
    }
    let created = spec.created_at.unwrap_or(now);
    // Customer.
    let (customer_id, group, email, first, last, dob, gender, taxvat) = match &spec.customer {
        CustomerSpec::Registered(id) => {
            let c = shop.customers.customer(*id).ok_or(OrderBuildError::UnknownCustomer(*id))?;
            (
                Some(*id),
                c.int("group_id").unwrap_or(1),
                c.text("email").unwrap_or_default(),
                c.text("firstname").unwrap_or_default(),
                c.text("lastname").unwrap_or_default(),
                c.text("dob"),
                c.int("gender"),
                c.text("taxvat"),
            )
        }
        CustomerSpec::Guest { email, firstname, lastname } => {
            if matches!(spec.billing, AddressSpec::Book(_)) || matches!(spec.shipping, Some(AddressSpec::Book(_))) {
                return Err(OrderBuildError::GuestAddressBook);
            }
            (None, 0, email.clone(), firstname.clone(), lastname.clone(), None, None, None)
        }
    };
    let rule: Option<CouponRule> = match &spec.coupon {
        None => None,
        Some(code) => Some(
            shop.coupons
                .iter()
                .find(|r| r.code.eq_ignore_ascii_case(code))
                .cloned()
                .ok_or_else(|| OrderBuildError::UnknownCoupon(code.clone()))?,
        ),
    };
    // Addresses (validated before anything is allocated).
    let billing_probe = order_address(shop, &spec.billing, 0, "billing", customer_id, &email)?;
    let shipping_probe = match &spec.shipping {
        Some(s) => order_address(shop, s, 0, "shipping", customer_id, &email)?,
        None => OrderAddress { address_type: "shipping", ..billing_probe.clone() },
    };
    let lines = price_lines(shop, spec, &shipping_probe.country_id, shipping_probe.region_id, created)?;
    let all_virtual = lines.iter().all(|l| l.product.is_virtual());
    let tax_address = if all_virtual { &billing_probe } else { &shipping_probe };
    let input = TotalsInput {
        lines: lines
            .iter()
            .map(|l| (l.base_price, l.base_original, l.qty, l.tax_percent, !l.product.is_virtual()))
            .collect(),
        discount: rule.as_ref().map(|r| r.action),
        shipping_per_item: if all_virtual { Decimal::ZERO } else { spec.shipping_per_item },
        shipping_tax_percent: spec
            .tax_shipping
            .then(|| shop.tax_rate(2, &tax_address.country_id, tax_address.region_id)),
        prices_include_tax: spec.prices_include_tax,
        tax_calculation: spec.tax_calculation,
    };
    let rate: Decimal = store.base_to_order_rate.parse().unwrap_or(Decimal::ONE);
    let base = compute_totals(&input, Decimal::ONE);
    let conv = compute_totals(&input, rate);

    // Allocate ids and build the rows.
    let order_id = shop.sales.ids.next("order");
    let quote_id = shop.sales.ids.next("quote");
    let increment_id = shop.sales.next_increment("order", spec.store_id);
    let billing = OrderAddress { id: shop.sales.ids.next("order_address"), ..billing_probe };
    let shipping = if all_virtual {
        None
    } else {
        Some(OrderAddress { id: shop.sales.ids.next("order_address"), ..shipping_probe })
    };
    let rule_ids = rule.as_ref().map(|r| r.rule_id.to_string());
    let mut items = Vec::new();
    let mut weight = Decimal::ZERO;
    for (i, l) in lines.iter().enumerate() {
        let id = shop.sales.ids.next("order_item");
        let store_id = spec.store_id;
        let unit_weight = if l.product.is_virtual() {
            None
        } else {
            l.child.as_ref().unwrap_or(&l.product).decimal("weight", store_id)
        };
        let row_weight = unit_weight.unwrap_or_default() * l.qty;
        weight += row_weight;
        let discount_percent = match rule.as_ref().map(|r| r.action) {
            Some(DiscountAction::Percent(p)) => p,
            _ => Decimal::ZERO,
        };
        items.push(OrderItem {
            id,
            parent_item_id: None,
            quote_item_id: id,
            product_id: l.product.id,
            product_type: l.product.type_id.clone(),
            sku: l.child.as_ref().map_or_else(|| l.product.sku.clone(), |c| c.sku.clone()),
            name: l.product.text("name", store_id).unwrap_or_default(),
            product_options: l.options.clone(),
            weight: unit_weight,
            is_virtual: l.product.is_virtual(),
            qty_ordered: l.qty,
            qty_invoiced: Decimal::ZERO,
            qty_shipped: Decimal::ZERO,
            qty_canceled: Decimal::ZERO,
            tax_percent: l.tax_percent,
            discount_percent,
            base: base.lines[i],
            amounts: conv.lines[i],
            base_invoiced: ItemInvoiced::default(),
            invoiced: ItemInvoiced::default(),
            any_invoiced: false,
            tax_canceled: None,
            applied_rule_ids: rule_ids.clone(),
            dummy: false,
            has_children: l.child.is_some(),
            created_at: created,
            updated_at: created,
        });
        if let Some(child) = &l.child {
            let cid = shop.sales.ids.next("order_item");
            items.push(OrderItem {
                id: cid,
                parent_item_id: Some(id),
                quote_item_id: cid,
                product_id: child.id,
                product_type: child.type_id.clone(),
                sku: child.sku.clone(),
                name: child.text("name", store_id).unwrap_or_default(),
                product_options: l.child_options.clone().unwrap_or_default(),
                weight: child.decimal("weight", store_id),
                is_virtual: false,
                qty_ordered: l.qty,
                qty_invoiced: Decimal::ZERO,
                qty_shipped: Decimal::ZERO,
                qty_canceled: Decimal::ZERO,
                tax_percent: Decimal::ZERO,
                discount_percent: Decimal::ZERO,
                base: ItemAmounts::default(),
                amounts: ItemAmounts::default(),
                base_invoiced: ItemInvoiced::default(),
                invoiced: ItemInvoiced::default(),
                any_invoiced: false,
                tax_canceled: None,
                applied_rule_ids: rule_ids.clone(),
                dummy: true,
                has_children: false,
                created_at: created,
                updated_at: created,
            });
        }
    }
    let protect_code = shop.hex(6);
    let payment_id = shop.sales.ids.next("order_payment");
    let history_id = shop.sales.ids.next("order_status_history");
    let mut order = Order {
        id: order_id,
        increment_id: increment_id.clone(),
        store_id: spec.store_id,
        store_name: shop.store_name(spec.store_id),
        quote_id,
        protect_code,
        state: "new".into(),
        status: "pending".into(),
        hold_before: None,
        customer_id,
        customer_group_id: group,
        customer_email: email,
        customer_firstname: first,
        customer_lastname: last,
        customer_dob: dob,
        customer_gender: gender,
        customer_taxvat: taxvat,
        base_currency: "USD".into(),
        order_currency: store.currency.into(),
        rate,
        rule: rule.map(|r| AppliedRule { rule_id: r.rule_id, coupon_code: r.code, rule_name: r.name, label: r.label }),
        shipping_method: "flatrate_flatrate".into(),
        shipping_description: "Flat Rate - Fixed".into(),
        total_qty_ordered: lines.iter().map(|l| l.qty).sum(),
        total_item_count: lines.len() as i64,
        items,
        billing,
        shipping,
        base: base.totals,
        amounts: conv.totals,
        base_invoiced: None,
        invoiced: None,
        base_canceled: None,
        canceled: None,
        weight,
        is_virtual: all_virtual,
        payment_id,
        payment_method: spec.payment_method.clone(),
        history: Vec::new(),
        created_at: created,
        updated_at: created,
        invoices: Vec::new(),
        shipments: Vec::new(),
    };
    order.add_history(history_id, "pending", None, 1, "order", created);
    // Checkout decrements the stock of what was bought.
    for l in &lines {
        let target = l.child.as_ref().map_or(l.product.id, |c| c.id);
        if let Some(p) = shop.catalog.product_mut(target)
            && p.stock.manages()
        {
            p.stock.qty -= l.qty;
            let qty_type = p.is_qty_type();
            p.stock.verify(qty_type);
        }
    }
    shop.sales.put_order(order);
    Ok(increment_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn recorded_order_100000001_totals_are_reproduced() {
        // Nokia 149.99 ×1, mug 7.95 ×3, book 39.90 ×1 (tax class None), CONNECTOR10, CA 8.25 %.
        let input = TotalsInput {
            lines: vec![
                (d("149.99"), d("149.99"), d("1"), d("8.25"), true),
                (d("7.95"), d("7.95"), d("3"), d("8.25"), true),
                (d("39.90"), d("39.90"), d("1"), d("0"), true),
            ],
            discount: Some(DiscountAction::Percent(d("10"))),
            shipping_per_item: d("5"),
            shipping_tax_percent: None,
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        };
        let t = compute_totals(&input, Decimal::ONE);
        let discounts: Vec<Decimal> = t.lines.iter().map(|l| l.discount).collect();
        assert_eq!(discounts, [d("15.00"), d("2.38"), d("3.99")]);
        let taxes: Vec<Decimal> = t.lines.iter().map(|l| l.tax).collect();
        assert_eq!(taxes, [d("11.14"), d("1.77"), d("0")]);
        assert_eq!(t.lines[0].price_incl_tax, d("162.36"));
        assert_eq!(t.lines[1].price_incl_tax, d("8.61"));
        assert_eq!(t.lines[1].row_total_incl_tax, d("25.82"));
        assert_eq!(t.totals.subtotal, d("213.74"));
        assert_eq!(t.totals.discount, d("-21.37"));
        assert_eq!(t.totals.shipping, d("25"));
        assert_eq!(t.totals.tax, d("12.91"));
        assert_eq!(t.totals.grand_total, d("230.28"));
        assert_eq!(t.totals.subtotal_incl_tax, d("228.08"));
    }

    #[test]
    fn recorded_eur_order_200000001_totals_are_reproduced() {
        // Lamp 44.90 ×2 and T-shirt 19.90 ×1 shipped to CA, store fr at 0.9.
        let input = TotalsInput {
            lines: vec![
                (d("44.90"), d("44.90"), d("2"), d("8.25"), true),
                (d("19.90"), d("19.90"), d("1"), d("8.25"), true),
            ],
            discount: None,
            shipping_per_item: d("5"),
            shipping_tax_percent: None,
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        };
        let base = compute_totals(&input, Decimal::ONE);
        let eur = compute_totals(&input, d("0.9"));
        assert_eq!(base.totals.grand_total, d("133.75"));
        assert_eq!(base.totals.tax, d("9.05"));
        assert_eq!(eur.totals.subtotal, d("98.73"));
        assert_eq!(eur.totals.shipping, d("13.50"));
        assert_eq!(eur.totals.tax, d("8.15"));
        assert_eq!(eur.totals.grand_total, d("120.38"));
        assert_eq!(eur.lines[0].price_incl_tax, d("43.75"));
        assert_eq!(base.lines[0].price_incl_tax, d("48.61"));
        assert_eq!(eur.totals.subtotal_incl_tax, d("106.88"));
    }

    #[test]
    fn recorded_guest_order_100000002_totals_are_reproduced() {
        // Configurable 21.90 ×2, mouse 24.50, warranty 19.99 (virtual), NY 8.375 %.
        let input = TotalsInput {
            lines: vec![
                (d("21.90"), d("21.90"), d("2"), d("8.375"), true),
                (d("24.50"), d("24.50"), d("1"), d("8.375"), true),
                (d("19.99"), d("19.99"), d("1"), d("8.375"), false),
            ],
            discount: None,
            shipping_per_item: d("5"),
            shipping_tax_percent: None,
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        };
        let t = compute_totals(&input, Decimal::ONE);
        assert_eq!(t.lines[0].price_incl_tax, d("23.74"));
        assert_eq!(t.totals.shipping, d("15"));
        assert_eq!(t.totals.tax, d("7.39"));
        assert_eq!(t.totals.grand_total, d("110.68"));
        assert_eq!(t.totals.subtotal_incl_tax, d("95.68"));
    }

    fn one_rate(lines: &[(&str, u32)], pct: &str) -> Vec<(Decimal, Decimal, Decimal, Decimal, bool)> {
        lines.iter().map(|(p, q)| (d(p), d(p), Decimal::from(*q), d(pct), true)).collect()
    }

    #[test]
    fn unit_price_and_total_algorithms_round_differently_from_rows() {
        let base = TotalsInput {
            lines: one_rate(&[("9.99", 10)], "8.375"),
            discount: None,
            shipping_per_item: Decimal::ZERO,
            shipping_tax_percent: None,
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        };
        assert_eq!(compute_totals(&base, Decimal::ONE).totals.tax, d("8.37"));
        let unit = TotalsInput { tax_calculation: TaxCalculation::UnitPrice, ..base.clone() };
        let t = compute_totals(&unit, Decimal::ONE);
        assert_eq!(t.lines[0].tax, d("8.40"), "0.84 per unit × 10");
        assert_eq!(t.totals.grand_total, d("108.30"));
        let rows = TotalsInput { lines: one_rate(&[("9.99", 1), ("19.99", 1), ("29.00", 1)], "8.25"), ..base };
        let by_row: Vec<Decimal> = compute_totals(&rows, Decimal::ONE).lines.iter().map(|l| l.tax).collect();
        assert_eq!(by_row, [d("0.82"), d("1.65"), d("2.39")]);
        let total = TotalsInput { tax_calculation: TaxCalculation::Total, ..rows };
        let t = compute_totals(&total, Decimal::ONE);
        let by_total: Vec<Decimal> = t.lines.iter().map(|l| l.tax).collect();
        assert_eq!(by_total, [d("0.82"), d("1.65"), d("2.40")], "the carried delta moves a cent");
        assert_eq!(t.totals.subtotal + t.totals.tax, t.totals.grand_total);
    }

    #[test]
    fn prices_including_tax_put_the_discount_tax_in_hidden_tax() {
        let input = TotalsInput {
            lines: one_rate(&[("19.99", 3), ("24.00", 1)], "8.25"),
            discount: Some(DiscountAction::Percent(d("10"))),
            shipping_per_item: d("5"),
            shipping_tax_percent: None,
            prices_include_tax: true,
            tax_calculation: TaxCalculation::RowTotal,
        };
        let t = compute_totals(&input, Decimal::ONE);
        let l = &t.lines[0];
        assert_eq!((l.price_incl_tax, l.row_total_incl_tax), (d("19.99"), d("59.97")));
        assert_eq!(l.row_total, d("55.40"), "59.97 − 4.57 tax inside");
        assert_eq!(l.price, d("18.47"));
        assert_eq!(l.discount, d("6.00"), "10 % of the price including tax");
        assert_eq!(l.tax, d("4.11"));
        assert_eq!(l.hidden_tax, d("0.46"));
        let paid: Decimal = t.lines.iter().map(|l| l.row_total_incl_tax - l.discount).sum();
        assert_eq!(t.totals.grand_total, paid + t.totals.shipping);
        assert_eq!(
            t.totals.subtotal + t.totals.discount + t.totals.shipping + t.totals.tax + t.totals.hidden_tax,
            t.totals.grand_total
        );
    }

    #[test]
    fn cart_fixed_discount_and_taxed_shipping_reconcile() {
        let input = TotalsInput {
            lines: vec![
                (d("14.50"), d("14.50"), d("2"), d("8.25"), true),
                (d("45.00"), d("45.00"), d("1"), d("8.25"), true),
            ],
            discount: Some(DiscountAction::CartFixed(d("5"))),
            shipping_per_item: d("5"),
            shipping_tax_percent: Some(d("8.25")),
            prices_include_tax: false,
            tax_calculation: TaxCalculation::RowTotal,
        };
        for rate in [Decimal::ONE, d("0.9")] {
            let t = compute_totals(&input, rate);
            let discount: Decimal = t.lines.iter().map(|l| l.discount).sum();
            assert_eq!(-discount, t.totals.discount);
            assert_eq!(t.totals.discount, if rate == Decimal::ONE { d("-5") } else { d("-4.50") });
            assert!(t.totals.shipping_tax > Decimal::ZERO);
            assert_eq!(t.totals.subtotal + t.totals.discount + t.totals.shipping + t.totals.tax, t.totals.grand_total);
        }
    }
}
