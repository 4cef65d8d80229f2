//! [`MagentoApi`] for [`Magento1Client`]: each operation is an argument list from
//! [`encode`], a call or batch from `calls`, and a decoder from [`parse`].

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use dxr::Value;

use super::calls::{BatchItem, Retry};
use super::parse::{self, catalog, customer, sales};
use super::{Magento1Client, encode, limits};
use crate::magento::MagentoApi;
use crate::magento::error::{ErrorKind, MagentoError, MagentoResult};
use crate::magento::types::*;
use crate::rpc::value::DecodeError;

/// Decodes each batch result with `parse`, keeping per-item errors (with the item key).
fn decode_each<T>(
    results: Vec<MagentoResult<Value>>,
    keys: impl IntoIterator<Item = String>,
    path: &str,
    parse: impl Fn(&Value) -> Result<T, DecodeError>,
) -> Vec<MagentoResult<T>> {
    results
        .into_iter()
        .zip(keys)
        .map(|(r, key)| {
            r.and_then(|v| parse(&v).map_err(|e| MagentoError::protocol(path, e.to_string()).with_key(key)))
        })
        .collect()
}

/// An error for bad input detected before anything is sent.
fn refused_locally(method: &str, key: &str, message: &str) -> MagentoError {
    MagentoError::new(ErrorKind::Refused, method, message).with_key(key)
}

impl Magento1Client {
    /// Sends the items that passed their local check as one batch (`once`: in order and never
    /// sent twice, see `batch_in_order_once`) and puts the refusals back in their places.
    async fn checked_batch(
        &self,
        path: &str,
        items: Vec<Result<BatchItem, MagentoError>>,
        once: bool,
    ) -> Vec<MagentoResult<Value>> {
        let mut slots = Vec::with_capacity(items.len());
        let mut send = Vec::new();
        let mut positions = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Ok(b) => {
                    slots.push(None);
                    positions.push(i);
                    send.push(b);
                }
                Err(e) => slots.push(Some(Err(e))),
            }
        }
        let results = if once { self.batch_in_order_once(send).await } else { self.batch(send).await };
        for (i, r) in positions.into_iter().zip(results) {
            slots[i] = Some(r);
        }
        slots.into_iter().map(|s| s.unwrap_or_else(|| Err(MagentoError::protocol(path, "no result")))).collect()
    }

    /// Root category of each store group: one `catalog_category.level(website)` per website;
    /// only a website whose groups use different roots needs one `tree(null, store)` per group.
    async fn group_roots(&self, rows: &[catalog::StoreRow]) -> MagentoResult<BTreeMap<i64, i64>> {
        let mut roots = BTreeMap::new();
        let websites: BTreeSet<i64> = rows.iter().map(|r| r.website_id).collect();
        for website in websites {
            let level = self
                .call_parsed(
                    "catalog_category.level",
                    &encode::category_level_of_website(website),
                    Retry::Transient,
                    None,
                    catalog::category_level,
                )
                .await?;
            let ids: BTreeSet<i64> = level.iter().map(|n| n.id).collect();
            let mut groups: BTreeMap<i64, i64> = BTreeMap::new();
            for r in rows.iter().filter(|r| r.website_id == website) {
                groups.entry(r.group_id).or_insert(r.id);
            }
            if ids.len() == 1 {
                let root = *ids.iter().next().unwrap_or(&0);
                roots.extend(groups.keys().map(|g| (*g, root)));
                continue;
            }
            for (group, store) in groups {
                let tree = self
                    .call_parsed(
                        "catalog_category.tree",
                        &encode::category_tree_of_store(store),
                        Retry::Transient,
                        None,
                        catalog::category_tree,
                    )
                    .await
                    .map_err(|e| MagentoError {
                        message: format!(
                            "{} (needed to find the root category of store group {group}: website {website} uses several roots)",
                            e.message
                        ),
                        ..e
                    })?;
                roots.insert(group, tree.id);
            }
        }
        Ok(roots)
    }
}

#[async_trait]
impl MagentoApi for Magento1Client {
    async fn probe(&self) -> MagentoResult<ProbeReport> {
        let version = self.version().await?;
        let batch = self.probe_multicall().await?;
        Ok(ProbeReport { version, batch })
    }

    async fn version(&self) -> MagentoResult<VersionInfo> {
        self.call_parsed("magento.info", &[], Retry::Transient, None, catalog::version).await
    }

    async fn stores(&self) -> MagentoResult<Vec<StoreView>> {
        let rows = self.call_parsed("store.list", &[], Retry::Transient, None, catalog::store_list).await?;
        let roots = self.group_roots(&rows).await?;
        rows.into_iter()
            .map(|r| {
                let root = roots.get(&r.group_id).copied().ok_or_else(|| {
                    MagentoError::protocol(
                        "catalog_category.level",
                        format!("no root category found for store group {}", r.group_id),
                    )
                })?;
                Ok(StoreView {
                    id: r.id,
                    code: r.code,
                    name: r.name,
                    website_id: r.website_id,
                    group_id: r.group_id,
                    root_category_id: root,
                    is_active: r.is_active,
                    sort_order: r.sort_order,
                })
            })
            .collect()
    }

    async fn close(&self) -> MagentoResult<()> {
        self.end_session().await
    }

    async fn category_tree(&self, root_id: Option<i64>, scope: Scope) -> MagentoResult<CategoryNode> {
        let key = root_id.map(|r| r.to_string());
        self.call_parsed(
            "catalog_category.tree",
            &encode::category_tree(root_id, scope),
            Retry::Transient,
            key.as_deref(),
            catalog::category_tree,
        )
        .await
    }

    async fn category(&self, id: i64, scope: Scope) -> MagentoResult<CategoryInfo> {
        let key = id.to_string();
        self.call_parsed(
            "catalog_category.info",
            &encode::category_info(id, scope),
            Retry::Transient,
            Some(&key),
            catalog::category_info,
        )
        .await
    }

    async fn create_category(&self, parent_id: i64, category: &NewCategory) -> MagentoResult<i64> {
        if let Err(why) = limits::new_category(category) {
            return Err(refused_locally("catalog_category.create", &parent_id.to_string(), &why));
        }
        self.call_parsed(
            "catalog_category.create",
            &encode::category_create(parent_id, category),
            Retry::DeadlockOnly,
            Some(&category.name),
            parse::created_id,
        )
        .await
    }

    async fn update_category(&self, id: i64, update: &CategoryUpdate, scope: Scope) -> MagentoResult<()> {
        let key = id.to_string();
        if let Err(why) = limits::category_update(update) {
            return Err(refused_locally("catalog_category.update", &key, &why));
        }
        self.call("catalog_category.update", &encode::category_update(id, update, scope), Retry::Transient, Some(&key))
            .await
            .map(drop)
    }

    async fn move_category(&self, id: i64, parent_id: i64, after_id: Option<i64>) -> MagentoResult<()> {
        let key = id.to_string();
        self.call(
            "catalog_category.move",
            &encode::category_move(id, parent_id, after_id),
            Retry::Transient,
            Some(&key),
        )
        .await
        .map(drop)
    }

    async fn create_categories(&self, categories: &[(i64, NewCategory)]) -> Vec<MagentoResult<i64>> {
        const PATH: &str = "catalog_category.create";
        let items = categories
            .iter()
            .map(|(parent, c)| match limits::new_category(c) {
                Err(why) => Err(refused_locally(PATH, &parent.to_string(), &why)),
                Ok(()) => Ok(BatchItem {
                    path: PATH,
                    args: encode::category_create(*parent, c),
                    key: c.name.clone(),
                    create_sku: None,
                }),
            })
            .collect();
        let keys = categories.iter().map(|(_, c)| c.name.clone());
        decode_each(self.checked_batch(PATH, items, true).await, keys, PATH, parse::created_id)
    }

    async fn update_categories(&self, updates: &[(i64, CategoryUpdate, Scope)]) -> Vec<MagentoResult<()>> {
        const PATH: &str = "catalog_category.update";
        let items = updates
            .iter()
            .map(|(id, u, scope)| match limits::category_update(u) {
                Err(why) => Err(refused_locally(PATH, &id.to_string(), &why)),
                Ok(()) => Ok(BatchItem {
                    path: PATH,
                    args: encode::category_update(*id, u, *scope),
                    key: id.to_string(),
                    create_sku: None,
                }),
            })
            .collect();
        self.checked_batch(PATH, items, false).await.into_iter().map(|r| r.map(drop)).collect()
    }

    async fn list_products(&self, filter: &ProductFilter) -> MagentoResult<Vec<ProductSummary>> {
        let mut out = Vec::new();
        for args in encode::product_list(filter) {
            out.extend(
                self.call_parsed("catalog_product.list", &args, Retry::Transient, None, catalog::product_list).await?,
            );
        }
        Ok(out)
    }

    async fn product(&self, sku: &str, scope: Scope) -> MagentoResult<Option<Product>> {
        match self
            .call_parsed(
                "catalog_product.info",
                &encode::product_info(sku, scope),
                Retry::Transient,
                Some(sku),
                catalog::product,
            )
            .await
        {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_product(&self, product: &NewProduct) -> MagentoResult<i64> {
        let mut results = self.create_products(std::slice::from_ref(product)).await;
        results.pop().unwrap_or_else(|| Err(MagentoError::protocol("catalog_product.create", "no result")))
    }

    async fn update_product(&self, update: &ProductUpdate) -> MagentoResult<()> {
        if let Err(why) = limits::product(&update.data) {
            return Err(refused_locally("catalog_product.update", &update.sku, &why));
        }
        self.call("catalog_product.update", &encode::product_update(update), Retry::Transient, Some(&update.sku))
            .await
            .map(drop)
    }

    async fn disable_product(&self, sku: &str) -> MagentoResult<()> {
        self.call("catalog_product.update", &encode::product_disable(sku), Retry::Transient, Some(sku)).await.map(drop)
    }

    async fn create_products(&self, products: &[NewProduct]) -> Vec<MagentoResult<i64>> {
        const PATH: &str = "catalog_product.create";
        let items = products
            .iter()
            .map(|p| {
                let check = if p.sku.trim().is_empty() {
                    Err("a product needs a SKU".into())
                } else {
                    limits::product(&p.data)
                };
                match check {
                    Err(why) => Err(refused_locally(PATH, &p.sku, &why)),
                    Ok(()) => Ok(BatchItem {
                        path: PATH,
                        args: encode::product_create(p),
                        key: p.sku.clone(),
                        create_sku: Some(p.sku.clone()),
                    }),
                }
            })
            .collect();
        let keys = products.iter().map(|p| p.sku.clone());
        decode_each(self.checked_batch(PATH, items, false).await, keys, PATH, parse::created_id)
    }

    async fn update_products(&self, updates: &[ProductUpdate]) -> Vec<MagentoResult<()>> {
        const PATH: &str = "catalog_product.update";
        let items = updates
            .iter()
            .map(|u| match limits::product(&u.data) {
                Err(why) => Err(refused_locally(PATH, &u.sku, &why)),
                Ok(()) => {
                    Ok(BatchItem { path: PATH, args: encode::product_update(u), key: u.sku.clone(), create_sku: None })
                }
            })
            .collect();
        self.checked_batch(PATH, items, false).await.into_iter().map(|r| r.map(drop)).collect()
    }

    async fn images(&self, sku: &str) -> MagentoResult<Vec<ProductImage>> {
        self.call_parsed(
            "catalog_product_attribute_media.list",
            &encode::media_list(sku),
            Retry::Transient,
            Some(sku),
            catalog::media_list,
        )
        .await
    }

    async fn add_image(&self, sku: &str, image: &NewImage) -> MagentoResult<String> {
        if image.content.is_empty() {
            return Err(refused_locally("catalog_product_attribute_media.create", sku, "the image is empty"));
        }
        self.call_parsed(
            "catalog_product_attribute_media.create",
            &encode::media_create(sku, image),
            Retry::DeadlockOnly,
            Some(sku),
            |v| parse::text(v, "stored file"),
        )
        .await
    }

    async fn remove_image(&self, sku: &str, file: &str) -> MagentoResult<()> {
        self.call(
            "catalog_product_attribute_media.remove",
            &encode::media_remove(sku, file),
            Retry::Transient,
            Some(sku),
        )
        .await
        .map(drop)
    }

    async fn stock(&self, skus: &[String]) -> MagentoResult<Vec<StockItem>> {
        let mut out = Vec::new();
        for chunk in skus.chunks(encode::SKUS_PER_LIST) {
            out.extend(
                self.call_parsed(
                    "cataloginventory_stock_item.list",
                    &encode::stock_list(chunk),
                    Retry::Transient,
                    None,
                    catalog::stock_list,
                )
                .await?,
            );
        }
        Ok(out)
    }

    async fn update_stock(&self, updates: &[StockUpdate]) -> Vec<MagentoResult<()>> {
        let items: Vec<BatchItem> = updates
            .iter()
            .map(|u| BatchItem {
                path: "cataloginventory_stock_item.update",
                args: encode::stock_update(u),
                key: u.sku.clone(),
                create_sku: None,
            })
            .collect();
        self.batch(items).await.into_iter().map(|r| r.map(drop)).collect()
    }

    async fn tax_classes(&self) -> MagentoResult<Vec<TaxClass>> {
        let args = [crate::rpc::value::string("tax_class_id")];
        self.call_parsed("catalog_product_attribute.options", &args, Retry::Transient, None, catalog::tax_classes).await
    }

    async fn customer(&self, id: i64) -> MagentoResult<Customer> {
        let key = id.to_string();
        let args = [crate::rpc::value::id(id)];
        self.call_parsed("customer.info", &args, Retry::Transient, Some(&key), customer::customer).await
    }

    async fn customer_addresses(&self, customer_id: i64) -> MagentoResult<Vec<CustomerAddress>> {
        let key = customer_id.to_string();
        let args = [crate::rpc::value::id(customer_id)];
        self.call_parsed("customer_address.list", &args, Retry::Transient, Some(&key), customer::addresses).await
    }

    async fn list_orders(&self, filter: &OrderFilter) -> MagentoResult<Vec<OrderSummary>> {
        self.call_parsed("sales_order.list", &encode::order_list(filter), Retry::Transient, None, sales::order_list)
            .await
    }

    async fn order(&self, increment_id: &str) -> MagentoResult<Order> {
        let args = [crate::rpc::value::string(increment_id)];
        self.call_parsed("sales_order.info", &args, Retry::Transient, Some(increment_id), sales::order).await
    }

    async fn orders(&self, increment_ids: &[String]) -> Vec<MagentoResult<Order>> {
        let items: Vec<BatchItem> = increment_ids
            .iter()
            .map(|inc| BatchItem {
                path: "sales_order.info",
                args: vec![crate::rpc::value::string(inc.clone())],
                key: inc.clone(),
                create_sku: None,
            })
            .collect();
        decode_each(self.batch(items).await, increment_ids.iter().cloned(), "sales_order.info", sales::order)
    }

    async fn add_order_comment(&self, increment_id: &str, comment: &OrderComment) -> MagentoResult<()> {
        self.call(
            "sales_order.addComment",
            &encode::order_comment(increment_id, comment),
            // Magento may raise a deadlock after saving the comment: never re-sent blindly
            // (the follow-up looks for it in the order's history first).
            Retry::Never,
            Some(increment_id),
        )
        .await
        .map(drop)
    }

    async fn cancel_order(&self, increment_id: &str) -> MagentoResult<()> {
        let args = [crate::rpc::value::string(increment_id)];
        self.call("sales_order.cancel", &args, Retry::Never, Some(increment_id)).await.map(drop)
    }

    async fn hold_order(&self, increment_id: &str) -> MagentoResult<()> {
        let args = [crate::rpc::value::string(increment_id)];
        self.call("sales_order.hold", &args, Retry::DeadlockOnly, Some(increment_id)).await.map(drop)
    }

    async fn unhold_order(&self, increment_id: &str) -> MagentoResult<()> {
        let args = [crate::rpc::value::string(increment_id)];
        self.call("sales_order.unhold", &args, Retry::DeadlockOnly, Some(increment_id)).await.map(drop)
    }

    async fn create_invoice(&self, increment_id: &str, invoice: &InvoiceRequest) -> MagentoResult<String> {
        self.call_parsed(
            "sales_order_invoice.create",
            &encode::invoice_create(increment_id, invoice),
            Retry::Never,
            Some(increment_id),
            |v| parse::text(v, "invoice increment id"),
        )
        .await
    }

    async fn create_shipment(&self, increment_id: &str, shipment: &ShipmentRequest) -> MagentoResult<String> {
        self.call_parsed(
            "sales_order_shipment.create",
            &encode::shipment_create(increment_id, shipment),
            Retry::Never,
            Some(increment_id),
            |v| parse::text(v, "shipment increment id"),
        )
        .await
    }

    async fn order_shipments(&self, increment_id: &str) -> MagentoResult<Vec<ShipmentInfo>> {
        let order = self.order(increment_id).await?;
        let incs = self
            .call_parsed(
                "sales_order_shipment.list",
                &encode::shipment_list_of_order(order.entity_id),
                Retry::Transient,
                Some(increment_id),
                sales::shipment_list,
            )
            .await?;
        let items: Vec<BatchItem> = incs
            .iter()
            .map(|s| BatchItem {
                path: "sales_order_shipment.info",
                args: vec![crate::rpc::value::string(s.clone())],
                key: s.clone(),
                create_sku: None,
            })
            .collect();
        decode_each(self.batch(items).await, incs.iter().cloned(), "sales_order_shipment.info", sales::shipment_info)
            .into_iter()
            .collect()
    }

    async fn add_track(&self, shipment_increment_id: &str, track: &Track) -> MagentoResult<i64> {
        self.call_parsed(
            "sales_order_shipment.addTrack",
            &encode::add_track(shipment_increment_id, track),
            Retry::Never,
            Some(shipment_increment_id),
            parse::created_id,
        )
        .await
    }
}
