//! The main image of a product in Magento's media gallery (pure decisions).
//!
//! The OpenERP main image (`image_1920` via the profile) goes to the gallery as base image,
//! small image and thumbnail, under the file name `oe-<product id>-<12 hex of its SHA-256>`
//! (Magento adds the extension and a dispersion path, and may add a suffix). The binding keeps
//! the image hash and the stored file; when the binding lost it, the gallery is listed and a
//! file with that name is adopted. A changed image is added first, then the previous file is
//! removed; a removed image is removed. Only files the connector created are ever removed:
//! the one recorded in the binding, or files named `oe-<this product id>-…`.

use serde::{Deserialize, Serialize};

use crate::magento::types::{ImageMime, ImageRole, NewImage, ProductImage};

/// The image the binding says is in Magento.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageState {
    /// SHA-256 of the image bytes, hex.
    pub sha: String,
    /// File path Magento stored it under.
    pub file: String,
}

/// The image OpenERP has for a product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// SHA-256, hex.
    pub sha: String,
    /// Format Magento accepts, or the MIME type it would refuse.
    pub mime: Result<ImageMime, String>,
}

/// What to do with a product's gallery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    Keep,
    /// Add the new image, then remove `remove`.
    Add {
        /// File name to send (without extension).
        stem: String,
        /// Files of ours to remove once the new one is in.
        remove: Vec<String>,
    },
    /// The gallery already has our file for this image: record it, remove the others of ours.
    Adopt {
        /// The file found.
        file: String,
        /// Other files of ours.
        remove: Vec<String>,
    },
    /// Remove these files of ours (OpenERP has no image any more).
    Remove(Vec<String>),
    /// The image cannot go to Magento.
    Refuse(String),
}

/// Name stem of the file for `product_id`'s image with hash `sha`.
pub fn stem(product_id: i64, sha: &str) -> String {
    format!("oe-{product_id}-{}", &sha[..sha.len().min(12)])
}

fn base_name(file: &str) -> String {
    file.rsplit('/').next().unwrap_or(file).to_lowercase()
}

/// True when `file` was created by the connector for `product_id`.
pub fn is_ours(file: &str, product_id: i64) -> bool {
    base_name(file).starts_with(&format!("oe-{product_id}-"))
}

/// Decides what to do. `gallery` is Magento's gallery when it was listed (when the binding
/// has no record of our image, or in a full run); `have` is what the binding recorded.
pub fn decide(
    product_id: i64,
    want: Option<&Wanted>,
    have: Option<&ImageState>,
    gallery: Option<&[ProductImage]>,
) -> Action {
    let ours: Vec<String> = match gallery {
        Some(g) => g.iter().filter(|i| is_ours(&i.file, product_id)).map(|i| i.file.clone()).collect(),
        None => have.map(|h| vec![h.file.clone()]).unwrap_or_default(),
    };
    match want {
        None => {
            if ours.is_empty() {
                Action::Keep
            } else {
                Action::Remove(ours)
            }
        }
        Some(w) => {
            if let Err(m) = &w.mime {
                return Action::Refuse(format!("the image ({m}) is not a format Magento 1 accepts (JPEG, PNG or GIF)"));
            }
            let stem = stem(product_id, &w.sha);
            let recorded_ok = have.is_some_and(|h| h.sha == w.sha);
            let present = |f: &str| base_name(f).starts_with(&stem.to_lowercase());
            match gallery {
                None if recorded_ok => Action::Keep,
                None => Action::Add { stem, remove: ours },
                Some(_) => match ours.iter().find(|f| present(f)) {
                    Some(found) => {
                        let remove: Vec<String> = ours.iter().filter(|f| *f != found).cloned().collect();
                        if recorded_ok && have.is_some_and(|h| &h.file == found) && remove.is_empty() {
                            Action::Keep
                        } else {
                            Action::Adopt { file: found.clone(), remove }
                        }
                    }
                    None => Action::Add { stem, remove: ours },
                },
            }
        }
    }
}

/// The image to add.
pub fn new_image(content: Vec<u8>, mime: ImageMime, stem: &str, label: &str) -> NewImage {
    NewImage {
        content,
        mime,
        name: stem.to_owned(),
        label: Some(label.to_owned()).filter(|l| !l.is_empty()),
        position: Some(1),
        roles: vec![ImageRole::Base, ImageRole::Small, ImageRole::Thumbnail],
        disabled: false,
    }
}

/// The format of a MIME type Magento 1 accepts.
pub fn accepted_mime(mime: Option<&str>) -> Result<ImageMime, String> {
    match mime {
        Some("image/jpeg") => Ok(ImageMime::Jpeg),
        Some("image/png") => Ok(ImageMime::Png),
        Some("image/gif") => Ok(ImageMime::Gif),
        Some(other) => Err(other.to_owned()),
        None => Err("an unknown format".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(file: &str) -> ProductImage {
        ProductImage { file: file.into(), label: None, position: None, disabled: false, url: None, roles: vec![] }
    }

    fn want(sha: &str) -> Wanted {
        Wanted { sha: sha.into(), mime: Ok(ImageMime::Png) }
    }

    const SHA_A: &str = "aaaaaaaaaaaaaaaa";
    const SHA_B: &str = "bbbbbbbbbbbbbbbb";

    #[test]
    fn add_keep_replace_remove() {
        assert_eq!(stem(5, SHA_A), "oe-5-aaaaaaaaaaaa");
        assert_eq!(decide(5, Some(&want(SHA_A)), None, None), Action::Add { stem: stem(5, SHA_A), remove: vec![] });
        let have = ImageState { sha: SHA_A.into(), file: "/o/e/oe-5-aaaaaaaaaaaa.png".into() };
        assert_eq!(decide(5, Some(&want(SHA_A)), Some(&have), None), Action::Keep);
        assert_eq!(
            decide(5, Some(&want(SHA_B)), Some(&have), None),
            Action::Add { stem: stem(5, SHA_B), remove: vec![have.file.clone()] }
        );
        assert_eq!(decide(5, None, Some(&have), None), Action::Remove(vec![have.file.clone()]));
        assert_eq!(decide(5, None, None, None), Action::Keep);
        let gif = Wanted { sha: SHA_A.into(), mime: Err("image/webp".into()) };
        assert!(matches!(decide(5, Some(&gif), None, None), Action::Refuse(m) if m.contains("image/webp")));
    }

    #[test]
    fn a_lost_binding_adopts_our_file_and_never_touches_others() {
        let gallery = vec![img("/b/r/brass-lamp.png"), img("/o/e/oe-5-aaaaaaaaaaaa_1.png"), img("/o/e/oe-51-zzz.png")];
        assert_eq!(
            decide(5, Some(&want(SHA_A)), None, Some(&gallery)),
            Action::Adopt { file: "/o/e/oe-5-aaaaaaaaaaaa_1.png".into(), remove: vec![] }
        );
        assert_eq!(
            decide(5, Some(&want(SHA_B)), None, Some(&gallery)),
            Action::Add { stem: stem(5, SHA_B), remove: vec!["/o/e/oe-5-aaaaaaaaaaaa_1.png".into()] }
        );
        assert_eq!(decide(5, None, None, Some(&gallery)), Action::Remove(vec!["/o/e/oe-5-aaaaaaaaaaaa_1.png".into()]));
        assert!(!is_ours("/b/r/brass-lamp.png", 5) && !is_ours("/o/e/oe-51-zzz.png", 5));
        let have = ImageState { sha: SHA_A.into(), file: "/o/e/oe-5-aaaaaaaaaaaa_1.png".into() };
        assert_eq!(decide(5, Some(&want(SHA_A)), Some(&have), Some(&gallery)), Action::Keep);
        let deleted_by_hand = vec![img("/b/r/brass-lamp.png")];
        assert_eq!(
            decide(5, Some(&want(SHA_A)), Some(&have), Some(&deleted_by_hand)),
            Action::Add { stem: stem(5, SHA_A), remove: vec![] }
        );
    }
}
