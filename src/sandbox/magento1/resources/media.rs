//! `catalog_product_attribute_media.*` (`Mage_Catalog_Model_Product_Attribute_Media_Api`):
//! base64 content in a `<string>`, mime check, dispersed file paths renamed when taken, image
//! roles (`image`, `small_image`, `thumbnail`).

use base64::Engine as _;
use chrono::{DateTime, Utc};
use dxr::Value;

use super::super::args::{Args, list_of};
use super::super::faults::{ApiError, ApiResult};
use super::super::model::Shop;
use super::super::model::catalog::{MediaImage, Product};
use super::super::php;
use super::product::{ATTRIBUTE_SETS, resolve_product};
use crate::rpc::value::{Map, array, string, structure};

/// Image roles.
pub(crate) const TYPES: &[&str] = &["image", "small_image", "thumbnail"];

/// Mime types OpenMage 19.4 accepts, with the extension they give.
const MIME_TYPES: &[(&str, &str)] = &[("image/jpeg", "jpg"), ("image/gif", "gif"), ("image/png", "png")];

fn init(shop: &Shop, product: Option<&Value>, store: Option<&Value>, identifier: Option<String>) -> ApiResult<i64> {
    shop.resolve_store(store).map_err(|_| ApiError::api("store_not_exists"))?;
    resolve_product(shop, product, identifier.as_deref()).ok_or_else(|| ApiError::api("product_not_exists"))
}

fn types_of(p: &Product, file: &str) -> Vec<Value> {
    TYPES.iter().filter(|t| p.values.get(**t) == Some(&string(file))).map(|t| string(*t)).collect()
}

fn image_row(shop: &Shop, p: &Product, m: &MediaImage) -> Value {
    structure([
        ("file", string(m.file.clone())),
        ("label", php::opt_str(m.label.as_deref())),
        ("position", php::int(m.position)),
        ("exclude", php::int(i64::from(m.exclude))),
        ("url", string(format!("{}/media/catalog/product{}", shop.base_url, m.file))),
        ("types", Value::Array(types_of(p, &m.file))),
    ])
}

/// `catalog_product_attribute_media.list(product, store, identifierType)`.
pub(crate) fn list(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let id = init(shop, args.get(0), args.get(1), args.string(2))?;
    let p = shop.catalog.product(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    Ok(array(p.media.iter().map(|m| image_row(shop, p, m))))
}

/// `catalog_product_attribute_media.info(product, file, store, identifierType)`.
pub(crate) fn info(shop: &Shop, args: Args) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0), args.get(2), args.string(3))?;
    let p = shop.catalog.product(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    let file = args.string(1).unwrap_or_default();
    let m = p.media.iter().find(|m| m.file == file).ok_or_else(|| ApiError::api("not_exists"))?;
    Ok(image_row(shop, p, m))
}

/// `catalog_product_attribute_media.types(setId)`.
pub(crate) fn types(args: Args) -> ApiResult<Value> {
    args.require(1)?;
    let set = args.get(0).map_or(0, php::to_int_lenient);
    if !ATTRIBUTE_SETS.iter().any(|(s, _)| *s == set) {
        return Ok(Value::Array(Vec::new()));
    }
    Ok(array(TYPES.iter().map(|t| structure([("code", string(*t)), ("scope", string("store"))]))))
}

/// Decoded content and extension of a `file` struct, with the API's checks and messages.
fn decode_file(file: &Map) -> ApiResult<(Vec<u8>, String, &'static str)> {
    let (Some(mime), Some(content)) = (file.get("mime"), file.get("content")) else {
        return Err(ApiError::api_msg("data_invalid", "The image is not specified."));
    };
    let mime = php::to_php_string(mime);
    let ext = MIME_TYPES
        .iter()
        .find(|(m, _)| *m == mime)
        .map(|(_, e)| *e)
        .ok_or_else(|| ApiError::api_msg("data_invalid", "Invalid image type."))?;
    let text: String = match content {
        Value::String(s) => s.chars().filter(|c| !c.is_ascii_whitespace()).collect(),
        _ => String::new(),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .ok()
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::api_msg("data_invalid", "The image contents is not valid base64 data."))?;
    let signature_ok = match ext {
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "jpg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        _ => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
    };
    if !signature_ok {
        return Err(ApiError::api_msg("not_created", "Disallowed file type."));
    }
    Ok((bytes, mime, ext))
}

/// Applies label/position/exclude/types of `data` to an image.
fn apply(p: &mut Product, file: &str, data: &Map) {
    if let Some(m) = p.media.iter_mut().find(|m| m.file == file) {
        if let Some(v) = data.get("label").filter(|v| !matches!(v, Value::Nil)) {
            m.label = Some(php::to_php_string(v)).filter(|s| !s.is_empty());
        }
        if let Some(v) = data.get("position").filter(|v| !matches!(v, Value::Nil)) {
            m.position = php::to_int_lenient(v);
        }
        if let Some(v) = data.get("exclude").filter(|v| !matches!(v, Value::Nil)) {
            m.exclude = php::truthy(v);
        }
    }
    if let Some(types) = data.get("types").filter(|v| !matches!(v, Value::Nil)) {
        let wanted: Vec<String> = list_of(Some(types)).iter().map(php::to_php_string).collect();
        for t in TYPES {
            let is_mine = p.values.get(*t) == Some(&string(file));
            if wanted.iter().any(|w| w == t) {
                p.values.insert((*t).into(), string(file));
            } else if is_mine {
                p.values.insert((*t).into(), string("no_selection"));
            }
        }
    }
}

/// `catalog_product_attribute_media.create(product, data, store, identifierType)`.
pub(crate) fn create(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0), args.get(2), args.string(3))?;
    let data = args.map(1).unwrap_or_default();
    let file = match data.get("file") {
        Some(Value::Struct(f)) => f.clone(),
        _ => {
            return Err(ApiError::api_msg("data_invalid", "The image is not specified."));
        }
    };
    let (bytes, mime, ext) = decode_file(&file)?;
    let base = file.get("name").map(php::to_php_string).filter(|n| !n.is_empty()).unwrap_or_else(|| "image".into());
    let corrected: String = format!("{base}.{ext}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' { c } else { '_' })
        .collect();
    let path = shop.catalog.reserve_media_path(&corrected);
    let p = shop.catalog.product_mut(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    let position = p.media.iter().map(|m| m.position).max().unwrap_or(0) + 1;
    p.media.push(MediaImage { file: path.clone(), label: None, position, exclude: false, content: bytes, mime });
    apply(p, &path, &data);
    p.updated_at = now;
    Ok(string(path))
}

/// `catalog_product_attribute_media.update(product, file, data, store, identifierType)`.
pub(crate) fn update(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(3)?;
    let id = init(shop, args.get(0), args.get(3), args.string(4))?;
    let file = args.string(1).unwrap_or_default();
    let data = args.map(2).unwrap_or_default();
    let replacement = match data.get("file") {
        Some(Value::Struct(f)) if f.contains_key("content") => Some(decode_file(f)?),
        _ => None,
    };
    let p = shop.catalog.product_mut(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    let m = p.media.iter_mut().find(|m| m.file == file).ok_or_else(|| ApiError::api("not_exists"))?;
    if let Some((bytes, mime, _)) = replacement {
        m.content = bytes;
        m.mime = mime;
    }
    apply(p, &file, &data);
    p.updated_at = now;
    Ok(Value::Boolean(true))
}

/// `catalog_product_attribute_media.remove(product, file, identifierType)`.
pub(crate) fn remove(shop: &mut Shop, args: Args, now: DateTime<Utc>) -> ApiResult<Value> {
    args.require(2)?;
    let id = init(shop, args.get(0), None, args.string(2))?;
    let file = args.string(1).unwrap_or_default();
    let p = shop.catalog.product_mut(id).ok_or_else(|| ApiError::api("product_not_exists"))?;
    let before = p.media.len();
    p.media.retain(|m| m.file != file);
    if p.media.len() == before {
        return Err(ApiError::api("not_exists"));
    }
    for t in TYPES {
        if p.values.get(*t) == Some(&string(&file)) {
            p.values.insert((*t).into(), string("no_selection"));
        }
    }
    p.updated_at = now;
    shop.catalog.release_media_path(&file);
    Ok(Value::Boolean(true))
}
