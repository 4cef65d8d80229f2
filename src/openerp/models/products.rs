//! `product.product` (with its template's fields): catalogue pages, lookups by SKU, images on
//! demand, and translated texts.
//!
//! Images are never part of a catalogue read (one `image_1920` is 27 KB of XML for one demo
//! product): [`OpenErpClient::product_images`] finds which products have one (sizes only), reads
//! those a few at a time and hashes them so the export can skip unchanged images.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::{Error, ErrorKind};
use crate::openerp::orm::{Pages, SearchOpts, row_or_reason};
use crate::openerp::profile::{ProductKind, Profile};
use crate::openerp::wire::{Context, Domain};
use crate::rpc::value::{self, DecodeError, Many2one, Map, Record};

/// Model of product variants.
pub const MODEL: &str = "product.product";

/// Fields read for every product, besides the version's type fields.
pub const FIELDS: &[&str] = &[
    "default_code",
    "name",
    "description",
    "description_sale",
    "list_price",
    "lst_price",
    "weight",
    "categ_id",
    "taxes_id",
    "active",
    "sale_ok",
    "barcode",
    "write_date",
    "product_tmpl_id",
    ADDON_FIELD,
];

/// The addon's flag (related to the template's) saying whether the product goes to Magento.
pub const ADDON_FIELD: &str = "magento_exportable";

/// Texts that are translated per language.
pub const TEXT_FIELDS: &[&str] = &["name", "description", "description_sale"];

/// Images read per call (each can be megabytes of base64).
pub const IMAGES_PER_CALL: usize = 4;

/// A product variant with the template fields the export needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// `product.product` id.
    pub id: i64,
    /// Internal reference = Magento SKU; `None` when empty (Odoo sends `False`).
    pub default_code: Option<String>,
    /// Name (in the context's language).
    pub name: String,
    /// Long description (HTML in recent versions).
    pub description: Option<String>,
    /// Sales description.
    pub description_sale: Option<String>,
    /// Template sales price.
    pub list_price: Decimal,
    /// Variant price (list price + attribute extras).
    pub lst_price: Decimal,
    /// Weight.
    pub weight: Decimal,
    /// Category `[id, complete name]`.
    pub category: Option<Many2one>,
    /// Customer taxes (`taxes_id`).
    pub tax_ids: Vec<i64>,
    /// Not archived.
    pub active: bool,
    /// Can be sold.
    pub sale_ok: bool,
    /// Barcode.
    pub barcode: Option<String>,
    /// Storable, consumable, service, …
    pub kind: ProductKind,
    /// Last change (UTC).
    pub write_date: Option<DateTime<Utc>>,
    /// Template `[id, name]`.
    pub template: Option<Many2one>,
    /// Addon flag; `true` (the addon's default) when the server did not send it.
    pub magento_exportable: bool,
}

impl Product {
    /// All fields to request for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = FIELDS.to_vec();
        f.extend_from_slice(profile.product_type_fields());
        f
    }

    /// Decodes one row of a `read`/`search_read` made with [`Product::fields`].
    pub fn from_map(m: &Map, profile: &Profile) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(Product {
            id: r.i64("id")?,
            default_code: r.opt_string("default_code")?.filter(|s| !s.is_empty()),
            name: r.string_or_empty("name")?,
            description: r.opt_string("description")?,
            description_sale: r.opt_string("description_sale")?,
            list_price: r.decimal_or_zero("list_price")?,
            lst_price: r.decimal_or_zero("lst_price")?,
            weight: r.decimal_or_zero("weight")?,
            category: r.many2one("categ_id")?,
            tax_ids: r.ids("taxes_id")?,
            active: r.bool("active")?,
            sale_ok: r.bool("sale_ok")?,
            barcode: r.opt_string(profile.barcode_field)?,
            kind: profile.decode_product_kind(&r)?,
            write_date: r.opt_datetime("write_date")?,
            template: r.many2one("product_tmpl_id")?,
            magento_exportable: r.get(ADDON_FIELD).map_or(Ok(true), |v| value::to_bool(ADDON_FIELD, v))?,
        })
    }
}

/// A product image as stored in OpenERP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductImage {
    /// Product id.
    pub product_id: i64,
    /// Base64 text exactly as OpenERP sent it (Magento takes base64 too).
    pub base64: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// SHA-256 of the decoded bytes, lowercase hex (to skip unchanged images).
    pub sha256: String,
    /// MIME type guessed from the first bytes (`image/jpeg`, `image/png`, `image/gif`,
    /// `image/webp`), if recognised.
    pub mime: Option<&'static str>,
}

impl ProductImage {
    /// Decodes the image of one row (`None` when the product has no image: `False`).
    pub fn from_map(m: &Map, field: &str) -> Result<Option<Self>, DecodeError> {
        use base64::Engine as _;
        let r = Record::new(m, MODEL);
        let id = r.i64("id")?;
        let Some(text) = r.opt_string(field)? else {
            return Ok(None);
        };
        let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| {
            DecodeError::new(format!("{MODEL}.{field}"), "base64 text", &dxr::Value::String(text.clone()))
        })?;
        let sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(ProductImage { product_id: id, size: bytes.len(), sha256, mime: sniff_mime(&bytes), base64: text }))
    }
}

/// MIME type from magic bytes.
pub fn sniff_mime(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Name and descriptions of a product in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductText {
    /// Product id.
    pub product_id: i64,
    /// Language read (`fr_FR`).
    pub lang: String,
    /// Name.
    pub name: String,
    /// Long description.
    pub description: Option<String>,
    /// Sales description.
    pub description_sale: Option<String>,
}

impl ProductText {
    /// Decodes a row read with [`TEXT_FIELDS`] in `lang`.
    pub fn from_map(m: &Map, lang: &str) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(ProductText {
            product_id: r.i64("id")?,
            lang: lang.to_owned(),
            name: r.string_or_empty("name")?,
            description: r.opt_string("description")?,
            description_sale: r.opt_string("description_sale")?,
        })
    }
}

impl OpenErpClient {
    /// Walks the products matching `domain` page by page (images excluded).
    pub async fn product_pages(&self, domain: &Domain, ctx: &Context) -> Result<Pages<Product>, Error> {
        let profile = self.profile().await?.clone();
        let fields = Product::fields(&profile);
        let decode = Arc::new(move |m: &Map| Product::from_map(m, &profile).map_err(|e| Error::decode(&e)));
        Ok(self.pages_as(MODEL, domain, &fields, ctx, decode))
    }

    /// Reads products by id (missing ids are left out).
    pub async fn read_products(&self, ids: &[i64], ctx: &Context) -> Result<Vec<Product>, Error> {
        let profile = self.profile().await?;
        let rows = self.read(MODEL, ids, &Product::fields(profile), ctx).await?;
        rows.iter()
            .map(|m| Product::from_map(m, profile).map_err(|e| Error::decode(&e).with_call(MODEL, "read")))
            .collect()
    }

    /// Reads products by id like [`OpenErpClient::read_products`], decoding each row on its
    /// own: a row whose values cannot be used (a mistyped field) comes back as its id and the
    /// reason, naming the field, instead of failing the whole read. Missing ids are left out.
    pub async fn read_products_each(
        &self,
        ids: &[i64],
        ctx: &Context,
    ) -> Result<(Vec<Product>, Vec<(i64, String)>), Error> {
        let profile = self.profile().await?;
        let rows = self.read(MODEL, ids, &Product::fields(profile), ctx).await?;
        let mut good = Vec::with_capacity(rows.len());
        let mut bad = Vec::new();
        for m in &rows {
            match row_or_reason(m, MODEL, Product::from_map(m, profile))? {
                Ok(p) => good.push(p),
                Err(reason) => bad.push(reason),
            }
        }
        Ok((good, bad))
    }

    /// Products whose internal reference (SKU) is one of `codes` (exact, case-sensitive as in
    /// Odoo), archived ones included.
    pub async fn products_by_code(&self, codes: &[&str], ctx: &Context) -> Result<Vec<Product>, Error> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let profile = self.profile().await?;
        let all = ctx.clone().with_active_test(false);
        let mut out = Vec::new();
        for chunk in codes.chunks(self.page_size()) {
            let list = dxr::Value::Array(chunk.iter().map(|c| dxr::Value::String((*c).to_owned())).collect());
            let domain = Domain::new().term("default_code", "in", list);
            for m in self.search_read(MODEL, &domain, &Product::fields(profile), &SearchOpts::default(), &all).await? {
                out.push(
                    Product::from_map(&m, profile).map_err(|e| Error::decode(&e).with_call(MODEL, "search_read"))?,
                );
            }
        }
        Ok(out)
    }

    /// Images of `ids`, [`IMAGES_PER_CALL`] per call; products without an image are left out.
    ///
    /// More ids than one call takes are first narrowed to the products that have an image
    /// ([`OpenErpClient::products_with_image`]), so a catalog without images costs one read per
    /// page instead of one per [`IMAGES_PER_CALL`] products.
    pub async fn product_images(&self, ids: &[i64], ctx: &Context) -> Result<Vec<ProductImage>, Error> {
        let field = self.profile().await?.image_field;
        let with_image: Vec<i64>;
        let ids = if ids.len() > IMAGES_PER_CALL {
            let present = self.products_with_image(ids, ctx).await?;
            with_image = ids.iter().copied().filter(|id| present.contains(id)).collect();
            &with_image[..]
        } else {
            ids
        };
        let mut out = Vec::new();
        for chunk in ids.chunks(IMAGES_PER_CALL) {
            for m in self.read(MODEL, chunk, &[field], ctx).await? {
                if let Some(img) =
                    ProductImage::from_map(&m, field).map_err(|e| Error::decode(&e).with_call(MODEL, "read"))?
                {
                    out.push(img);
                }
            }
        }
        Ok(out)
    }

    /// Which of `ids` have an image, without transferring any: the image field is read with
    /// `bin_size` in the context, so Odoo (13 and later, also for the variant's computed
    /// `image_1920`) answers each image's size (`"27.12 Kb"`) or `False`. A server that ignored
    /// `bin_size` would send the images themselves: still read right, only slower.
    pub async fn products_with_image(&self, ids: &[i64], ctx: &Context) -> Result<BTreeSet<i64>, Error> {
        let field = self.profile().await?.image_field;
        let ctx = ctx.clone().with("bin_size", dxr::Value::Boolean(true));
        let mut out = BTreeSet::new();
        for m in self.read(MODEL, ids, &[field], &ctx).await? {
            let r = Record::new(&m, MODEL);
            let has = match m.get(field) {
                None | Some(dxr::Value::Boolean(false)) => false,
                Some(dxr::Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            };
            if has {
                out.insert(r.i64("id").map_err(|e| Error::decode(&e).with_call(MODEL, "read"))?);
            }
        }
        Ok(out)
    }

    /// Name and descriptions of `ids` in `lang` (read with `context.lang`).
    pub async fn product_texts(&self, ids: &[i64], lang: &str, ctx: &Context) -> Result<Vec<ProductText>, Error> {
        if lang.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "product_texts: empty language code"));
        }
        let ctx = ctx.clone().with_lang(lang);
        let rows = self.read(MODEL, ids, TEXT_FIELDS, &ctx).await?;
        rows.iter()
            .map(|m| ProductText::from_map(m, lang).map_err(|e| Error::decode(&e).with_call(MODEL, "read")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn decodes_the_recorded_catalogue_page() {
        let p17 = Profile::odoo(17).unwrap();
        let rows = recorded_rows("0090-product.product.search_read");
        let products: Vec<Product> = rows.iter().map(|m| Product::from_map(m, &p17).unwrap()).collect();
        assert_eq!(products.len(), 5);
        let chair = &products[0];
        assert_eq!(chair.id, 5);
        assert_eq!(chair.default_code.as_deref(), Some("FURN_7777"));
        assert_eq!(chair.name, "Office Chair");
        assert_eq!(chair.list_price, dec("70"));
        assert_eq!(chair.weight, dec("0.01"));
        assert_eq!(chair.category, Some(Many2one { id: 8, name: "All / Saleable / Office Furniture".into() }));
        assert_eq!(chair.tax_ids, vec![1]);
        assert_eq!(chair.kind, ProductKind::Storable);
        assert_eq!(chair.barcode, None, "False for an empty barcode reads as None");
        assert_eq!(chair.description_sale, None);
        assert!(chair.active && chair.sale_ok);
        assert_eq!(chair.template.as_ref().map(|t| t.id), Some(5));
        assert_eq!(chair.write_date.map(|d| value::format_datetime(&d)).as_deref(), Some("2026-11-27 02:39:39"));
        assert!(chair.magento_exportable, "absent addon field reads as the addon default");
        assert_eq!(
            products[3].description_sale.as_deref(),
            Some("Desk combination, black-brown: chair + desk + drawer.")
        );
    }

    #[test]
    fn variants_carry_template_and_price_extra() {
        let rows = recorded_rows("0130-product.product.search_read-variants");
        let r = Record::new(&rows[2], MODEL);
        assert_eq!(r.decimal("lst_price").unwrap(), dec("800.4"));
        assert_eq!(
            r.many2one("product_tmpl_id").unwrap().unwrap(),
            Many2one { id: 9, name: "Customizable Desk".into() }
        );
        assert_eq!(r.ids("product_template_attribute_value_ids").unwrap(), vec![2, 3]);
    }

    #[test]
    fn recorded_images_decode_and_hash() {
        let rows = recorded_rows("0100-product.product.read-image_1920");
        let img = ProductImage::from_map(&rows[0], "image_1920").unwrap().unwrap();
        assert_eq!(img.product_id, 5);
        assert_eq!(img.base64.len(), 22_548);
        assert_eq!(img.size, 16_910);
        assert_eq!(img.mime, Some("image/jpeg"));
        assert_eq!(img.sha256.len(), 64);
        let back = recorded_rows("0490-product.product.read-image-back");
        let png = ProductImage::from_map(&back[0], "image_1920").unwrap().unwrap();
        assert_eq!(png.mime, Some("image/png"));
        let mut none = Map::new();
        none.insert("id".into(), value::int(3));
        none.insert("image_1920".into(), dxr::Value::Boolean(false));
        assert_eq!(ProductImage::from_map(&none, "image_1920").unwrap(), None);
        none.insert("image_1920".into(), value::string("not base64!"));
        assert!(ProductImage::from_map(&none, "image_1920").is_err());
    }

    #[test]
    fn fields_follow_the_profile() {
        assert!(Product::fields(&Profile::odoo(17).unwrap()).contains(&"detailed_type"));
        let f18 = Product::fields(&Profile::odoo(18).unwrap());
        assert!(f18.contains(&"is_storable") && !f18.contains(&"detailed_type"));
    }
}
