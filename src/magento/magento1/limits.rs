//! Column limits of Magento 1 that its API does not enforce: Magento 1 opens its MySQL
//! connection with an empty `SQL_MODE`, so a text longer than its `varchar(255)` column is cut
//! without an error. A cut name would then differ from OpenERP's on every run (written again
//! and again) and the shop would show a text nobody wrote, so such values are refused before
//! anything is sent, with the attribute and its length named.
//!
//! Pure checks; the client turns a refusal into a [`MagentoError`](crate::magento::MagentoError)
//! of kind `Refused` for that item only.

use crate::magento::types::{AttrValue, Attributes, CategoryUpdate, NewCategory, ProductData};

/// Characters a Magento 1 `varchar` attribute keeps.
pub const VARCHAR_MAX: usize = 255;

/// Product attributes stored as `varchar(255)` in Magento 1 (EAV backend type `varchar`).
const PRODUCT_VARCHARS: [&str; 3] = ["meta_title", "meta_description", "url_key"];

/// Category attributes stored as `varchar(255)`.
const CATEGORY_VARCHARS: [&str; 2] = ["meta_title", "url_key"];

fn text(attribute: &str, value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n > VARCHAR_MAX {
        return Err(format!(
            "the {attribute} is {n} characters long; Magento keeps at most {VARCHAR_MAX} and would cut it silently"
        ));
    }
    Ok(())
}

fn attributes(attrs: &Attributes, codes: &[&str]) -> Result<(), String> {
    for code in codes {
        if let Some(AttrValue::Text(v)) = attrs.get(*code) {
            text(code, v)?;
        }
    }
    Ok(())
}

/// Checks the texts of a product payload (create or update, any scope).
pub fn product(data: &ProductData) -> Result<(), String> {
    if let Some(name) = &data.name {
        text("name", name)?;
    }
    if let Some(key) = &data.url_key {
        text("url_key", key)?;
    }
    attributes(&data.attributes, &PRODUCT_VARCHARS)
}

/// Checks a new category.
pub fn new_category(c: &NewCategory) -> Result<(), String> {
    if c.name.trim().is_empty() {
        return Err("a category needs a name".into());
    }
    text("name", &c.name)?;
    attributes(&c.attributes, &CATEGORY_VARCHARS)
}

/// Checks a category update.
pub fn category_update(u: &CategoryUpdate) -> Result<(), String> {
    if let Some(name) = &u.name {
        text("name", name)?;
    }
    attributes(&u.attributes, &CATEGORY_VARCHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_up_to_255_characters_pass_and_longer_ones_are_named() {
        let ok = "é".repeat(255);
        let mut data = ProductData { name: Some(ok.clone()), ..ProductData::default() };
        assert_eq!(product(&data), Ok(()));
        data.name = Some(format!("{ok}x"));
        let e = product(&data).unwrap_err();
        assert!(e.contains("name is 256 characters") && e.contains("255"), "{e}");
        data.name = None;
        data.attributes.insert("meta_title".into(), AttrValue::Text("t".repeat(300)));
        assert!(product(&data).unwrap_err().contains("meta_title is 300"));
        data.attributes.insert("meta_title".into(), AttrValue::Text("t".into()));
        data.attributes.insert("meta_keyword".into(), AttrValue::Text("k".repeat(5000)));
        assert_eq!(product(&data), Ok(()), "meta_keyword is a text column");
    }

    #[test]
    fn category_names_are_checked_on_create_and_update() {
        assert!(new_category(&NewCategory::new("  ")).unwrap_err().contains("needs a name"));
        assert!(new_category(&NewCategory::new("c".repeat(256))).unwrap_err().contains("256"));
        assert_eq!(new_category(&NewCategory::new("Lamps")), Ok(()));
        let u = CategoryUpdate { name: Some("c".repeat(400)), ..CategoryUpdate::default() };
        assert!(category_update(&u).unwrap_err().contains("400"));
        assert_eq!(category_update(&CategoryUpdate::default()), Ok(()));
    }
}
