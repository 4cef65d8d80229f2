//! Field profiles: which models and fields each OpenERP/Odoo version uses for the same idea.
//!
//! The sync code asks the [`Profile`] for "the sale-line tax field" or "how to read the product
//! type" and never tests a version number itself. A profile is chosen from the server's
//! `version()` answer ([`ServerVersion`]). Facts come from protocols.md C.9:
//!
//! | topic | 13 | 14 | 15–16 | 17 | 18 | 19 |
//! |---|---|---|---|---|---|---|
//! | product type | `type` | `type` | `detailed_type` | `detailed_type` | `type` + `is_storable` | same as 18 |
//! | image | `image_1920` | ← | ← | ← | ← | ← |
//! | invoice type field (`account.move`) | `type` | `move_type` | ← | ← | ← | ← |
//! | sale line taxes / UoM | `tax_id` / `product_uom` | ← | ← | ← | ← | `tax_ids` / `product_uom_id` |
//! | sale order `done` state | yes | yes | yes | no (`locked`) | no | no |
//! | stock move done quantity | `quantity_done` | ← | ← | `quantity` | ← | ← |
//! | partner type `private` | yes | yes | yes | no | no | no |
//!
//! All of 13+ share `customer_rank`, `free_qty`, `barcode`, `uom.uom`, `payment_term_id` and
//! hundred-based percent taxes. Odoo 17 is verified against recordings of a real server; the
//! others are defined from the documented differences. OpenERP 7 to Odoo 12 (`account.invoice`,
//! `image`, boolean `customer`, no `free_qty`, …) and SaaS releases are refused with a clear
//! error. This module is pure: no I/O.

use dxr::Value;

use super::error::{Error, ErrorKind};
use crate::rpc::value::{self, DecodeError, Record};

/// Oldest major version with a profile.
pub const OLDEST_SUPPORTED: u32 = 13;
/// Newest major version with a profile.
pub const NEWEST_SUPPORTED: u32 = 19;

/// The server's `common.version()` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    /// `server_version`, e.g. `17.0-20240709` or `saas~17.2+e`.
    pub server_version: String,
    /// Major version (17 for `17.0` and `saas~17.2`).
    pub major: u32,
    /// Minor version (0 for `17.0`, 2 for `saas~17.2`).
    pub minor: u32,
    /// True for Odoo Online SaaS releases (`saas~NN.M`).
    pub saas: bool,
    /// Release level (`final`, `alpha`, `beta`, `candidate`), when given.
    pub release_level: String,
}

impl ServerVersion {
    /// Reads `version()`'s struct: `server_version_info` first (`[17, 0, 0, 'final', 0, '']`,
    /// or `['saas~17', 2, …]`), else `server_serie` / `server_version` text.
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        let rec = Record::from_value(v, "version")?;
        let server_version = rec.opt_string("server_version")?.unwrap_or_default();
        let info = rec.array("server_version_info")?;
        if let Some(first) = info.first() {
            let (major, saas) = match first {
                Value::String(s) => (
                    parse_major(s)
                        .ok_or_else(|| DecodeError::new("server_version_info[0]", "a major version", first))?,
                    s.contains("saas"),
                ),
                other => (
                    u32::try_from(value::to_i64("server_version_info[0]", other)?)
                        .map_err(|_| DecodeError::new("server_version_info[0]", "a major version", other))?,
                    false,
                ),
            };
            let minor = match info.get(1) {
                Some(m) => u32::try_from(value::to_i64("server_version_info[1]", m)?).unwrap_or(0),
                None => 0,
            };
            let release_level = match info.get(3) {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            };
            return Ok(ServerVersion {
                server_version,
                major,
                minor,
                saas: saas || (minor > 0 && major >= 10),
                release_level,
            });
        }
        let text = rec.opt_string("server_serie")?.filter(|s| !s.is_empty()).unwrap_or_else(|| server_version.clone());
        let (major, minor) =
            parse_major_minor(&text).ok_or_else(|| DecodeError::new("server_version", "a version such as 17.0", v))?;
        Ok(ServerVersion {
            saas: text.contains("saas") || (minor > 0 && major >= 10),
            server_version,
            major,
            minor,
            release_level: String::new(),
        })
    }

    /// `17.0`, or `saas~17.2`.
    pub fn label(&self) -> String {
        if self.saas { format!("saas~{}.{}", self.major, self.minor) } else { format!("{}.{}", self.major, self.minor) }
    }
}

fn parse_major(s: &str) -> Option<u32> {
    let digits: String = s.trim_start_matches("saas~").chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn parse_major_minor(s: &str) -> Option<(u32, u32)> {
    let t = s.trim().trim_start_matches("saas~");
    let mut parts = t.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// How sure we are of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Checked against recordings of a real server (Odoo 17).
    Verified,
    /// Defined from documented differences; not yet run against a real server.
    Documented,
}

/// How a version says what kind of product a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductTypeScheme {
    /// 13–14: `type` ∈ `consu` / `service` / `product` (storable).
    Type,
    /// 15–17: `detailed_type` ∈ `consu` / `service` / `product` (+ module types), `type` derived.
    DetailedType,
    /// 18+: `type` ∈ `consu` / `service` / `combo`, storability is the boolean `is_storable`.
    TypeAndIsStorable,
}

/// What kind of product a record is, whatever the version calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductKind {
    /// Stock is tracked (`product` ≤17, `consu` + `is_storable` 18+).
    Storable,
    /// Consumable, stock not tracked.
    Consumable,
    /// Service.
    Service,
    /// Combo product (18+).
    Combo,
    /// A type added by another module (`event`, `course`, …).
    Other(String),
}

/// Which `account.move.line` records are an invoice's product lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceLineFilter {
    /// 16+: `display_type = 'product'` (from the Odoo 16 source; not in protocols.md).
    DisplayTypeProduct,
    /// 13–15: `exclude_from_invoice_tab = False` (from the Odoo 13–15 source).
    NotExcludedFromInvoiceTab,
}

/// Models and fields of one Odoo version, by logical name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Major version this profile describes.
    pub major: u32,
    /// How sure we are of it.
    pub support: Support,
    /// How the product type is read and written.
    pub product_type: ProductTypeScheme,
    /// Main image field of `product.product` (variant image, falling back to the template's).
    pub image_field: &'static str,
    /// Barcode field.
    pub barcode_field: &'static str,
    /// Taxes of a `sale.order.line` (`tax_id` ≤18, `tax_ids` 19).
    pub sale_line_tax_field: &'static str,
    /// UoM of a `sale.order.line` (`product_uom` ≤18, `product_uom_id` 19).
    pub sale_line_uom_field: &'static str,
    /// Invoice model (`account.move` 13+).
    pub invoice_model: &'static str,
    /// Field holding `out_invoice` on invoices (`type` 13, `move_type` 14+).
    pub invoice_type_field: &'static str,
    /// State of a posted invoice.
    pub invoice_posted_state: &'static str,
    /// How product lines of an invoice are told apart from tax and receivable lines.
    pub invoice_product_lines: InvoiceLineFilter,
    /// Integer customer flag of `res.partner` (`customer_rank` 13+; > 0 means customer).
    pub customer_rank_field: &'static str,
    /// `product.product.free_qty` exists (13+).
    pub has_free_qty: bool,
    /// Sale orders have a `done` state (≤16; 17 replaced it by the `locked` flag).
    pub sale_state_done: bool,
    /// Done quantity of a `stock.move` (`quantity_done` ≤16, `quantity` 17+).
    pub move_quantity_field: &'static str,
    /// Partner type `private` exists (≤16).
    pub partner_private_type: bool,
    /// UoM model.
    pub uom_model: &'static str,
    /// Payment term field of `sale.order`.
    pub payment_term_field: &'static str,
    /// Percent taxes are hundred-based (`21.0` for 21 %) since 9.0.
    pub percent_tax_hundred_based: bool,
    /// `account.tax.price_include` is computed from `price_include_override` (19).
    pub price_include_computed: bool,
}

impl Profile {
    /// The profile of a server, or an "unsupported OpenERP version" error.
    pub fn for_version(v: &ServerVersion) -> Result<Profile, Error> {
        if v.saas {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "unsupported OpenERP version {} ({}): SaaS releases rename fields between majors; \
                     supported are the on-premise releases {OLDEST_SUPPORTED}.0 to {NEWEST_SUPPORTED}.0",
                    v.label(),
                    v.server_version
                ),
            ));
        }
        Profile::odoo(v.major)
    }

    /// The profile of on-premise major version `major`.
    pub fn odoo(major: u32) -> Result<Profile, Error> {
        if major < OLDEST_SUPPORTED {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "unsupported OpenERP version {major}.0: this connector supports Odoo {OLDEST_SUPPORTED}.0 to \
                     {NEWEST_SUPPORTED}.0 (OpenERP 7 to Odoo 12 use account.invoice, boolean customer flags and \
                     other field names that are not mapped yet)"
                ),
            ));
        }
        if major > NEWEST_SUPPORTED {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "unsupported OpenERP version {major}.0: newer than this connector knows \
                     (Odoo {OLDEST_SUPPORTED}.0 to {NEWEST_SUPPORTED}.0)"
                ),
            ));
        }
        Ok(Profile {
            major,
            support: if major == 17 { Support::Verified } else { Support::Documented },
            product_type: match major {
                13 | 14 => ProductTypeScheme::Type,
                15..=17 => ProductTypeScheme::DetailedType,
                _ => ProductTypeScheme::TypeAndIsStorable,
            },
            image_field: "image_1920",
            barcode_field: "barcode",
            sale_line_tax_field: if major >= 19 { "tax_ids" } else { "tax_id" },
            sale_line_uom_field: if major >= 19 { "product_uom_id" } else { "product_uom" },
            invoice_model: "account.move",
            invoice_type_field: if major == 13 { "type" } else { "move_type" },
            invoice_posted_state: "posted",
            invoice_product_lines: if major >= 16 {
                InvoiceLineFilter::DisplayTypeProduct
            } else {
                InvoiceLineFilter::NotExcludedFromInvoiceTab
            },
            customer_rank_field: "customer_rank",
            has_free_qty: true,
            sale_state_done: major <= 16,
            move_quantity_field: if major >= 17 { "quantity" } else { "quantity_done" },
            partner_private_type: major <= 16,
            uom_model: "uom.uom",
            payment_term_field: "payment_term_id",
            percent_tax_hundred_based: true,
            price_include_computed: major >= 19,
        })
    }

    /// Fields to read for [`Profile::decode_product_kind`].
    pub fn product_type_fields(&self) -> &'static [&'static str] {
        match self.product_type {
            ProductTypeScheme::Type => &["type"],
            ProductTypeScheme::DetailedType => &["detailed_type"],
            ProductTypeScheme::TypeAndIsStorable => &["type", "is_storable"],
        }
    }

    /// Reads the product kind from a record that holds [`Profile::product_type_fields`].
    pub fn decode_product_kind(&self, rec: &Record<'_>) -> Result<ProductKind, DecodeError> {
        match self.product_type {
            ProductTypeScheme::Type => Ok(kind_from_legacy(&rec.string("type")?)),
            ProductTypeScheme::DetailedType => Ok(kind_from_legacy(&rec.string("detailed_type")?)),
            ProductTypeScheme::TypeAndIsStorable => {
                let t = rec.string("type")?;
                Ok(match t.as_str() {
                    "consu" if rec.bool("is_storable")? => ProductKind::Storable,
                    "consu" => ProductKind::Consumable,
                    "service" => ProductKind::Service,
                    "combo" => ProductKind::Combo,
                    _ => ProductKind::Other(t),
                })
            }
        }
    }

    /// Values that set a product's kind on `create`/`write`.
    pub fn product_kind_vals(&self, kind: &ProductKind) -> Result<Vec<(&'static str, Value)>, Error> {
        let s = |t: &str| Value::String(t.to_owned());
        let legacy = match kind {
            ProductKind::Storable => "product",
            ProductKind::Consumable => "consu",
            ProductKind::Service => "service",
            ProductKind::Combo | ProductKind::Other(_) => "",
        };
        match self.product_type {
            ProductTypeScheme::Type | ProductTypeScheme::DetailedType if !legacy.is_empty() => {
                let field = if self.product_type == ProductTypeScheme::Type { "type" } else { "detailed_type" };
                Ok(vec![(field, s(legacy))])
            }
            ProductTypeScheme::TypeAndIsStorable => Ok(match kind {
                ProductKind::Storable => {
                    vec![("type", s("consu")), ("is_storable", Value::Boolean(true))]
                }
                ProductKind::Consumable => {
                    vec![("type", s("consu")), ("is_storable", Value::Boolean(false))]
                }
                ProductKind::Service => vec![("type", s("service"))],
                ProductKind::Combo => vec![("type", s("combo"))],
                ProductKind::Other(t) => vec![("type", s(t))],
            }),
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!("product kind {kind:?} does not exist in OpenERP {}.0", self.major),
            )),
        }
    }

    /// Sale order states that mean "confirmed" (`sale`, plus `done` before 17).
    pub fn confirmed_sale_states(&self) -> &'static [&'static str] {
        if self.sale_state_done { &["sale", "done"] } else { &["sale"] }
    }

    /// Partner `type` values this version accepts.
    pub fn partner_types(&self) -> &'static [&'static str] {
        if self.partner_private_type {
            &["contact", "invoice", "delivery", "other", "private"]
        } else {
            &["contact", "invoice", "delivery", "other"]
        }
    }
}

fn kind_from_legacy(t: &str) -> ProductKind {
    match t {
        "product" => ProductKind::Storable,
        "consu" => ProductKind::Consumable,
        "service" => ProductKind::Service,
        other => ProductKind::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recording;
    use crate::rpc::value::{array, int, string, structure};

    fn version(info: Value) -> Value {
        structure([("server_version", string("x")), ("server_version_info", info), ("protocol_version", int(1))])
    }

    #[test]
    fn detects_odoo_17_from_the_recorded_version_reply() {
        let v = ServerVersion::from_value(&recording("0010-common.version")).unwrap();
        assert_eq!((v.major, v.minor, v.saas), (17, 0, false));
        assert_eq!(v.server_version, "17.0-20240709");
        assert_eq!(v.release_level, "final");
        let p = Profile::for_version(&v).unwrap();
        assert_eq!(p.support, Support::Verified);
        assert_eq!(p.product_type, ProductTypeScheme::DetailedType);
        assert_eq!(p.sale_line_tax_field, "tax_id");
        assert_eq!(p.sale_line_uom_field, "product_uom");
        assert_eq!(p.move_quantity_field, "quantity");
        assert_eq!(p.invoice_type_field, "move_type");
        assert_eq!(p.confirmed_sale_states(), &["sale"]);
        assert!(!p.partner_types().contains(&"private"));
    }

    #[test]
    fn synthetic_16_18_19() {
        let v16 =
            ServerVersion::from_value(&version(array([int(16), int(0), int(0), string("final"), int(0), string("")])))
                .unwrap();
        let p16 = Profile::for_version(&v16).unwrap();
        assert_eq!((p16.major, p16.support), (16, Support::Documented));
        assert_eq!(p16.move_quantity_field, "quantity_done");
        assert_eq!(p16.confirmed_sale_states(), &["sale", "done"]);
        assert!(p16.partner_types().contains(&"private"));

        let v18 =
            ServerVersion::from_value(&version(array([int(18), int(0), int(0), string("final"), int(0), string("")])))
                .unwrap();
        let p18 = Profile::for_version(&v18).unwrap();
        assert_eq!(p18.product_type, ProductTypeScheme::TypeAndIsStorable);
        assert_eq!(p18.product_type_fields(), &["type", "is_storable"]);
        assert_eq!(p18.sale_line_tax_field, "tax_id");

        let v19 =
            ServerVersion::from_value(&version(array([int(19), int(0), int(0), string("final"), int(0), string("")])))
                .unwrap();
        let p19 = Profile::for_version(&v19).unwrap();
        assert_eq!((p19.sale_line_tax_field, p19.sale_line_uom_field), ("tax_ids", "product_uom_id"));
        assert!(p19.price_include_computed);
    }

    #[test]
    fn old_new_and_saas_versions_are_refused_clearly() {
        let v7 = ServerVersion::from_value(&version(array([int(7), int(0), int(0), string("final"), int(0)]))).unwrap();
        let e = Profile::for_version(&v7).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.message().starts_with("unsupported OpenERP version 7.0"), "{}", e.message());
        let v20 =
            ServerVersion::from_value(&version(array([int(20), int(0), int(0), string("alpha"), int(1)]))).unwrap();
        assert!(Profile::for_version(&v20).unwrap_err().message().contains("newer"));
        let saas =
            ServerVersion::from_value(&version(array([string("saas~17"), int(2), int(0), string("final"), int(0)])))
                .unwrap();
        assert_eq!(saas.label(), "saas~17.2");
        assert!(Profile::for_version(&saas).unwrap_err().message().contains("SaaS"));
        let text_only = structure([("server_version", string("12.0")), ("server_serie", string("12.0"))]);
        let v12 = ServerVersion::from_value(&text_only).unwrap();
        assert_eq!((v12.major, v12.minor), (12, 0));
        assert!(Profile::for_version(&v12).is_err());
        assert!(ServerVersion::from_value(&structure([("server_version", string("banana"))])).is_err());
    }

    #[test]
    fn product_kind_reads_and_writes_per_scheme() {
        let p17 = Profile::odoo(17).unwrap();
        let m = structure([("detailed_type", string("product"))]);
        assert_eq!(p17.decode_product_kind(&Record::from_value(&m, "p").unwrap()).unwrap(), ProductKind::Storable);
        assert_eq!(p17.product_kind_vals(&ProductKind::Service).unwrap(), vec![("detailed_type", string("service"))]);
        assert!(p17.product_kind_vals(&ProductKind::Combo).is_err());

        let p18 = Profile::odoo(18).unwrap();
        let m = structure([("type", string("consu")), ("is_storable", Value::Boolean(true))]);
        assert_eq!(p18.decode_product_kind(&Record::from_value(&m, "p").unwrap()).unwrap(), ProductKind::Storable);
        let m = structure([("type", string("consu")), ("is_storable", Value::Boolean(false))]);
        assert_eq!(p18.decode_product_kind(&Record::from_value(&m, "p").unwrap()).unwrap(), ProductKind::Consumable);
        assert_eq!(
            p18.product_kind_vals(&ProductKind::Storable).unwrap(),
            vec![("type", string("consu")), ("is_storable", Value::Boolean(true))]
        );

        let p14 = Profile::odoo(14).unwrap();
        assert_eq!(p14.product_kind_vals(&ProductKind::Storable).unwrap(), vec![("type", string("product"))]);
        assert_eq!(Profile::odoo(13).unwrap().invoice_type_field, "type");
    }
}
