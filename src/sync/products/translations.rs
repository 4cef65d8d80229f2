//! Store-view translations of products (pure): name, description and short description in a
//! store view's language, sent at store scope.
//!
//! Sent when the translated texts differ from the default ones and changed since last sent
//! (hash per store view in the binding); a translation that went back to the default texts
//! is overwritten with the default texts once (Magento 1's API cannot reset a store value to
//! "use default"). `full` sends every translation already sent again.

use crate::magento::types::{ProductData, ProductUpdate, Scope};

use super::payload::Texts;

/// Whether to send `translated` to a store view, given the default texts and the hash last
/// sent there; returns the hash to keep once sent.
pub fn decide(default: &Texts, translated: &Texts, previous: Option<&str>, full: bool) -> Option<String> {
    let hash = translated.hash();
    let send = match previous {
        None => translated != default,
        Some(p) => full || p != hash,
    };
    send.then_some(hash)
}

/// The store-scope update of a product's texts.
pub fn update(sku: &str, store_id: i64, texts: &Texts) -> ProductUpdate {
    ProductUpdate {
        sku: sku.to_owned(),
        scope: Scope::Store(store_id),
        data: ProductData {
            name: Some(texts.name.clone()),
            description: Some(texts.description.clone()),
            short_description: Some(texts.short_description.clone()),
            ..ProductData::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_once_when_different_then_only_on_change() {
        let en = Texts::new("Mug", Some("Big mug"), Some("Mug."));
        let fr = Texts::new("Tasse", Some("Grande tasse"), Some("Tasse."));
        let h = decide(&en, &fr, None, false).unwrap();
        assert_eq!(decide(&en, &fr, Some(&h), false), None);
        assert_eq!(decide(&en, &fr, Some(&h), true), Some(h.clone()));
        assert_eq!(decide(&en, &en, None, false), None, "no translation: nothing to send");
        assert_eq!(decide(&en, &en, Some(&h), false), Some(en.hash()), "back to default: overwritten once");
        let u = update("1001", 2, &fr);
        assert_eq!(u.scope, Scope::Store(2));
        assert_eq!(u.data.name.as_deref(), Some("Tasse"));
        assert_eq!(u.data.price, None);
    }
}
