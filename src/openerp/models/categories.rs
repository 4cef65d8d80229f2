//! `product.category`: the category tree, its addon flag, and `child_of` helpers.

use chrono::{DateTime, Utc};

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::Error;
use crate::openerp::orm::SearchOpts;
use crate::openerp::wire::{Context, Domain};
use crate::rpc::value::{DecodeError, Many2one, Map, Record, to_bool};

/// Model of categories.
pub const MODEL: &str = "product.category";

/// The addon's flag saying whether the category goes to Magento.
pub const ADDON_FIELD: &str = "magento_exportable";

/// Fields read for every category.
pub const FIELDS: &[&str] = &["name", "parent_id", "complete_name", "child_id", "write_date", ADDON_FIELD];

/// One product category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Own name (`Office Furniture`).
    pub name: String,
    /// Parent `[id, complete name]`; `None` for a root.
    pub parent: Option<Many2one>,
    /// Full path (`All / Saleable / Office Furniture`).
    pub complete_name: String,
    /// Direct children ids.
    pub child_ids: Vec<i64>,
    /// Last change (UTC).
    pub write_date: Option<DateTime<Utc>>,
    /// Addon flag; `true` (the addon's default) when the server did not send it.
    pub magento_exportable: bool,
}

impl Category {
    /// Decodes one row read with [`FIELDS`].
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(Category {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            parent: r.many2one("parent_id")?,
            complete_name: r.string_or_empty("complete_name")?,
            child_ids: r.ids("child_id")?,
            write_date: r.opt_datetime("write_date")?,
            magento_exportable: r.get(ADDON_FIELD).map_or(Ok(true), |v| to_bool(ADDON_FIELD, v))?,
        })
    }
}

/// `root` and every category below it, parents before children (from an already read list).
/// A cycle in bad data cannot loop: each category is visited once.
pub fn descendants(categories: &[Category], root: i64) -> Vec<i64> {
    let mut out = Vec::new();
    if !categories.iter().any(|c| c.id == root) {
        return out;
    }
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(id) = queue.pop_front() {
        if out.contains(&id) {
            continue;
        }
        out.push(id);
        for c in categories.iter().filter(|c| c.parent.as_ref().is_some_and(|p| p.id == id)) {
            queue.push_back(c.id);
        }
    }
    out
}

/// `id` and its ancestors, nearest first (`[8, 2, 1]` for `All / Saleable / Office Furniture`).
pub fn ancestry(categories: &[Category], id: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut current = Some(id);
    while let Some(c) = current {
        if out.contains(&c) {
            break;
        }
        out.push(c);
        current = categories.iter().find(|x| x.id == c).and_then(|x| x.parent.as_ref().map(|p| p.id));
    }
    out
}

impl OpenErpClient {
    /// Every category (a few hundred at most), ordered by id.
    pub async fn categories(&self, ctx: &Context) -> Result<Vec<Category>, Error> {
        let rows = self.search_read_all(MODEL, &Domain::new(), FIELDS, ctx).await?;
        rows.iter()
            .map(|m| Category::from_map(m).map_err(|e| Error::decode(&e).with_call(MODEL, "search_read")))
            .collect()
    }

    /// Ids of `root` and all categories below it (`child_of`, evaluated by the server).
    pub async fn category_subtree(&self, root: i64, ctx: &Context) -> Result<Vec<i64>, Error> {
        self.search(MODEL, &Domain::new().child_of("id", root), &SearchOpts::default(), ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;

    #[test]
    fn decodes_the_recorded_tree() {
        let cats: Vec<Category> =
            recorded_rows("0150-product.category.search_read").iter().map(|m| Category::from_map(m).unwrap()).collect();
        assert_eq!(cats.len(), 9);
        assert_eq!(cats[0].parent, None, "parent_id False reads as None");
        assert_eq!(cats[0].child_ids, vec![9, 3, 4, 2]);
        let office = cats.iter().find(|c| c.id == 8).unwrap();
        assert_eq!(office.complete_name, "All / Saleable / Office Furniture");
        assert_eq!(office.parent, Some(Many2one { id: 2, name: "All / Saleable".into() }));
        assert_eq!(ancestry(&cats, 8), vec![8, 2, 1]);
        let mut under_saleable = descendants(&cats, 2);
        under_saleable.sort_unstable();
        assert_eq!(under_saleable, vec![2, 5, 6, 7, 8]);
        assert!(descendants(&cats, 999).is_empty());
    }
}
