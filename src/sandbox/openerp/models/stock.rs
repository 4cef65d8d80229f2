//! Warehouses, locations, operation types, quants, transfers and moves.
//!
//! Quantities follow `product.product._compute_quantities` (Odoo 17): `qty_available` sums the
//! quants of the internal locations in scope (context `location` or `warehouse`, by id or
//! name; every warehouse otherwise), `incoming_qty`/`outgoing_qty` sum the open moves entering
//! or leaving that scope, `virtual_available` is on hand + incoming − outgoing, and `free_qty`
//! is on hand − reserved. Confirming an order creates a delivery (`WH/OUT/000NN`) whose moves
//! reserve what the stock location has (`quantity` holds the reserved, then done quantity, as
//! in 17); validating it moves stock out and can leave a backorder.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dxr::Value;
use rust_decimal::Decimal;

use super::Modules;
use crate::sandbox::openerp::error::{OResult, OdooError};
use crate::sandbox::openerp::orm::domain::Domain;
use crate::sandbox::openerp::orm::model::{ModelBuilder, ModelDef, Ret};
use crate::sandbox::openerp::orm::val::{Val, Vals};
use crate::sandbox::openerp::orm::{Ctx, Db};

/// Stock quantity fields of `product.product`.
pub const QTY_FIELDS: &[&str] = &["qty_available", "virtual_available", "free_qty", "incoming_qty", "outgoing_qty"];

/// Labels of the quantity fields.
pub fn qty_label(f: &str) -> &'static str {
    match f {
        "qty_available" => "Quantity On Hand",
        "virtual_available" => "Forecasted Quantity",
        "free_qty" => "Free To Use Quantity ",
        "incoming_qty" => "Incoming",
        "outgoing_qty" => "Outgoing",
        _ => "Quantity",
    }
}

const PICKING_STATES: &[(&str, &str)] = &[
    ("draft", "Draft"),
    ("waiting", "Waiting Another Operation"),
    ("confirmed", "Waiting"),
    ("assigned", "Ready"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
];

const MOVE_STATES: &[(&str, &str)] = &[
    ("draft", "New"),
    ("waiting", "Waiting Another Move"),
    ("confirmed", "Waiting Availability"),
    ("partially_available", "Partially Available"),
    ("assigned", "Available"),
    ("done", "Done"),
    ("cancel", "Cancelled"),
];

const OPEN_MOVE_STATES: &[&str] = &["waiting", "confirmed", "partially_available", "assigned"];

fn company(_: &Db, _: &Ctx) -> Val {
    Val::Id(1)
}

fn now(db: &Db, _: &Ctx) -> Val {
    Val::Str(db.now())
}

/// The model definitions of this module.
pub fn models(modules: Modules) -> Vec<ModelDef> {
    vec![location(), warehouse(), picking_type(), picking(modules), stock_move(), quant()]
}

fn location() -> ModelDef {
    let mut b = ModelBuilder::new("stock.location", "Inventory Locations");
    b.char("name", "Location Name").required().translate();
    b.char("complete_name", "Full Location Name").computed();
    b.m2o("location_id", "Parent Location", "stock.location").cascade();
    b.o2m("child_ids", "Contains", "stock.location", "location_id");
    b.selection(
        "usage",
        "Location Type",
        &[
            ("supplier", "Vendor Location"),
            ("view", "View"),
            ("internal", "Internal Location"),
            ("customer", "Customer Location"),
            ("inventory", "Inventory Loss"),
            ("production", "Production"),
            ("transit", "Transit Location"),
        ],
    )
    .required()
    .default(Val::str("internal"));
    b.m2o("warehouse_id", "Warehouse", "stock.warehouse");
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("company_id", "Company", "res.company");
    b.parent("location_id");
    b.order("complete_name, id");
    b.hooks().display_name = Some(location_name);
    b.hooks().compute = Some(|db, ctx, id, f| {
        Ok(if f.name == "complete_name" { Val::Str(location_name(db, ctx, id)) } else { f.empty_read() })
    });
    b.build()
}

fn location_name(db: &Db, ctx: &Ctx, id: i64) -> String {
    let mut parts = Vec::new();
    let mut cur = Some(id);
    while let Some(l) = cur {
        parts.push(db.get_str(ctx, "stock.location", l, "name").unwrap_or_default());
        let usage = db.get_str(ctx, "stock.location", l, "usage").unwrap_or_default();
        cur =
            if usage == "view" || parts.len() > 64 { None } else { db.get_id(ctx, "stock.location", l, "location_id") };
    }
    parts.reverse();
    parts.join("/")
}

fn warehouse() -> ModelDef {
    let mut b = ModelBuilder::new("stock.warehouse", "Warehouse");
    b.char("name", "Warehouse").required().index();
    b.char("code", "Short Name").required();
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("company_id", "Company", "res.company").required().default_fn(company);
    b.m2o("partner_id", "Address", "res.partner");
    b.m2o("view_location_id", "View Location", "stock.location");
    b.m2o("lot_stock_id", "Location Stock", "stock.location");
    b.m2o("in_type_id", "In Type", "stock.picking.type");
    b.m2o("out_type_id", "Out Type", "stock.picking.type");
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.order("sequence,id");
    b.build()
}

fn picking_type() -> ModelDef {
    let mut b = ModelBuilder::new("stock.picking.type", "Picking Type");
    b.char("name", "Operation Type").required().translate();
    b.selection(
        "code",
        "Type of Operation",
        &[("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")],
    )
    .required();
    b.char("sequence_code", "Sequence Prefix").required();
    b.m2o("warehouse_id", "Warehouse", "stock.warehouse");
    b.m2o("default_location_src_id", "Default Source Location", "stock.location");
    b.m2o("default_location_dest_id", "Default Destination Location", "stock.location");
    b.boolean("active", "Active").default(Val::Bool(true));
    b.m2o("company_id", "Company", "res.company").default_fn(company);
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.order("sequence, id");
    b.hooks().display_name = Some(|db, ctx, id| {
        let name = db.get_str(ctx, "stock.picking.type", id, "name").unwrap_or_default();
        match db
            .get_id(ctx, "stock.picking.type", id, "warehouse_id")
            .and_then(|w| db.get_str(ctx, "stock.warehouse", w, "name"))
        {
            Some(w) => format!("{w}: {name}"),
            None => name,
        }
    });
    b.build()
}

fn picking(modules: Modules) -> ModelDef {
    let mut b = ModelBuilder::new("stock.picking", "Transfer");
    b.char("name", "Reference").default(Val::str("/")).index();
    b.char("origin", "Source Document").index();
    b.m2o("partner_id", "Contact", "res.partner");
    b.m2o("picking_type_id", "Operation Type", "stock.picking.type").required();
    b.field("picking_type_code", "Type of Operation", crate::sandbox::openerp::orm::model::FType::Selection)
        .related("picking_type_id.code")
        .selection = vec![
        ("incoming".into(), "Receipt".into()),
        ("outgoing".into(), "Delivery".into()),
        ("internal".into(), "Internal Transfer".into()),
    ];
    b.m2o("location_id", "Source Location", "stock.location").required();
    b.m2o("location_dest_id", "Destination Location", "stock.location").required();
    b.selection("state", "Status", PICKING_STATES).default(Val::str("draft")).readonly();
    b.selection(
        "move_type",
        "Shipping Policy",
        &[("direct", "As soon as possible"), ("one", "When all products are ready")],
    )
    .required()
    .default(Val::str("direct"));
    b.datetime("scheduled_date", "Scheduled Date").default_fn(now);
    b.datetime("date_deadline", "Deadline");
    b.datetime("date_done", "Date of Transfer");
    b.m2o("sale_id", "Sales Order", "sale.order").index();
    b.o2m("move_ids", "Stock Moves", "stock.move", "picking_id");
    b.m2o("backorder_id", "Back Order of", "stock.picking");
    b.o2m("backorder_ids", "Back Orders", "stock.picking", "backorder_id");
    b.m2o("company_id", "Company", "res.company").default_fn(company);
    b.m2o("user_id", "Responsible", "res.users");
    b.html("note", "Notes");
    b.selection("priority", "Priority", &[("0", "Normal"), ("1", "Urgent")]).default(Val::str("0"));
    if modules.delivery {
        b.char("carrier_tracking_ref", "Tracking Reference");
        b.float("weight", "Weight").computed();
    }
    b.order("priority desc, scheduled_date asc, id desc");
    b.hooks().before_create = Some(|db, ctx, vals| {
        let named = vals.get("name").and_then(|v| v.text("en_US")).is_some_and(|n| n != "/" && !n.is_empty());
        if !named && let Some(t) = vals.get("picking_type_id").and_then(Val::id) {
            vals.set("name", Val::Str(next_picking_name(db, ctx, t)));
        }
        Ok(())
    });
    b.hooks().compute = Some(|db, ctx, id, f| {
        Ok(if f.name == "weight" {
            let mut w = Decimal::ZERO;
            for m in db.get_ids(ctx, "stock.picking", id, "move_ids") {
                let p = db.get_id(ctx, "stock.move", m, "product_id");
                w += p.map(|p| db.get_num(ctx, "product.product", p, "weight")).unwrap_or_default()
                    * db.get_num(ctx, "stock.move", m, "product_uom_qty");
            }
            Val::Num(w)
        } else {
            f.empty_read()
        })
    });
    b.method("action_assign", |db, ctx, ids, _| {
        for &p in ids {
            for m in db.get_ids(ctx, "stock.picking", p, "move_ids") {
                reserve(db, ctx, m)?;
            }
            recompute_picking_state(db, ctx, p)?;
        }
        Ok(Ret::Value(Value::Boolean(true)))
    });
    b.method("action_cancel", |db, ctx, ids, _| {
        for &p in ids {
            cancel_picking(db, ctx, p)?;
        }
        Ok(Ret::Value(Value::Boolean(true)))
    });
    b.build()
}

fn stock_move() -> ModelDef {
    let mut b = ModelBuilder::new("stock.move", "Stock Move");
    b.char("name", "Description").required();
    b.integer("sequence", "Sequence").default(Val::Int(10));
    b.char("reference", "Reference").computed();
    b.m2o("product_id", "Product", "product.product").required().restrict().index();
    b.float("product_uom_qty", "Demand").required();
    b.float("quantity", "Quantity");
    b.m2o("product_uom", "UoM", "uom.uom");
    b.selection("state", "Status", MOVE_STATES).default(Val::str("draft")).readonly();
    b.m2o("location_id", "Source Location", "stock.location").required();
    b.m2o("location_dest_id", "Destination Location", "stock.location").required();
    b.m2o("picking_id", "Transfer", "stock.picking").cascade().index();
    b.m2o("sale_line_id", "Sale Line", "sale.order.line").index();
    b.m2o("picking_type_id", "Operation Type", "stock.picking.type");
    b.m2o("warehouse_id", "Warehouse", "stock.warehouse");
    b.char("origin", "Source Document");
    b.datetime("date", "Date Scheduled").required().default_fn(now);
    b.m2o("company_id", "Company", "res.company").default_fn(company);
    b.boolean("picked", "Picked");
    b.order("sequence, id");
    b.hooks().compute = Some(|db, ctx, id, f| {
        Ok(if f.name == "reference" {
            let p = db.get_id(ctx, "stock.move", id, "picking_id");
            Val::opt_str(
                p.and_then(|p| db.get_str(ctx, "stock.picking", p, "name"))
                    .or_else(|| db.get_str(ctx, "stock.move", id, "name"))
                    .as_deref(),
            )
        } else {
            f.empty_read()
        })
    });
    b.build()
}

fn quant() -> ModelDef {
    let mut b = ModelBuilder::new("stock.quant", "Quants");
    b.m2o("product_id", "Product", "product.product").required().restrict().index();
    b.m2o("location_id", "Location", "stock.location").required().restrict();
    b.float("quantity", "Quantity").readonly();
    b.float("reserved_quantity", "Reserved Quantity").readonly();
    b.float("available_quantity", "Available Quantity").computed();
    b.m2o("company_id", "Company", "res.company").default_fn(company);
    b.datetime("in_date", "Incoming Date").default_fn(now);
    b.hooks().compute = Some(|db, ctx, id, f| {
        Ok(if f.name == "available_quantity" {
            Val::Num(
                db.get_num(ctx, "stock.quant", id, "quantity")
                    - db.get_num(ctx, "stock.quant", id, "reserved_quantity"),
            )
        } else {
            f.empty_read()
        })
    });
    b.build()
}

fn next_picking_name(db: &mut Db, ctx: &Ctx, picking_type: i64) -> String {
    let code = db.get_str(ctx, "stock.picking.type", picking_type, "sequence_code").unwrap_or_else(|| "OUT".into());
    let wh = db
        .get_id(ctx, "stock.picking.type", picking_type, "warehouse_id")
        .and_then(|w| db.get_str(ctx, "stock.warehouse", w, "code"))
        .unwrap_or_else(|| "WH".into());
    let n = db.next_seq(&format!("stock.picking.type/{picking_type}"));
    format!("{wh}/{code}/{n:05}")
}

/// The internal locations in the scope of the context (`location`, `warehouse`, or all
/// warehouses), computed once per database change.
pub fn context_locations(db: &Db, ctx: &Ctx) -> OResult<Arc<HashSet<i64>>> {
    let key = format!("stock.locations\u{1}{:?}\u{1}{:?}", ctx.get("location"), ctx.get("warehouse"));
    if let Some(hit) = db.memo_get(&key) {
        return Ok(hit);
    }
    let all = ctx.with_active_test(false);
    let names = |v: &Value| -> Vec<Value> {
        match v {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        }
    };
    let mut roots: Vec<i64> = Vec::new();
    if let Some(loc) = ctx.get("location").filter(|v| !matches!(v, Value::Boolean(false) | Value::Nil)) {
        for item in names(loc) {
            match item {
                Value::String(s) => roots.extend(db.search_all(
                    &all,
                    "stock.location",
                    &Domain::leaf("complete_name", "ilike", Value::String(s)),
                )?),
                other => roots.extend(crate::sandbox::openerp::orm::rpc::ids_of(&other)?),
            }
        }
    } else {
        let whs: Vec<i64> = match ctx.get("warehouse").filter(|v| !matches!(v, Value::Boolean(false) | Value::Nil)) {
            Some(w) => {
                let mut out = Vec::new();
                for item in names(w) {
                    match item {
                        Value::String(s) => out.extend(db.search_all(
                            ctx,
                            "stock.warehouse",
                            &Domain::leaf("name", "ilike", Value::String(s)),
                        )?),
                        other => out.extend(crate::sandbox::openerp::orm::rpc::ids_of(&other)?),
                    }
                }
                out
            }
            None => db.search_all(ctx, "stock.warehouse", &Domain::all())?,
        };
        roots.extend(whs.into_iter().filter_map(|w| db.get_id(&all, "stock.warehouse", w, "view_location_id")));
    }
    let set: HashSet<i64> = db
        .descendants("stock.location", "location_id", &roots)
        .into_iter()
        .filter(|l| db.get_str(&all, "stock.location", *l, "usage").as_deref() == Some("internal"))
        .collect();
    let set = Arc::new(set);
    db.memo_put(key, Arc::clone(&set));
    Ok(set)
}

/// One stock quantity field of a product in the context's scope.
pub fn product_quantity(db: &Db, ctx: &Ctx, product: i64, field: &str) -> Decimal {
    let Ok(locs) = context_locations(db, ctx) else {
        return Decimal::ZERO;
    };
    let all = ctx.with_active_test(false);
    let mut on_hand = Decimal::ZERO;
    let mut reserved = Decimal::ZERO;
    if matches!(field, "qty_available" | "virtual_available" | "free_qty") {
        for q in db.referencing("stock.quant", "product_id", product) {
            if db.get_id(&all, "stock.quant", q, "location_id").is_some_and(|l| locs.contains(&l)) {
                on_hand += db.get_num(&all, "stock.quant", q, "quantity");
                reserved += db.get_num(&all, "stock.quant", q, "reserved_quantity");
            }
        }
    }
    let (mut incoming, mut outgoing) = (Decimal::ZERO, Decimal::ZERO);
    if matches!(field, "virtual_available" | "incoming_qty" | "outgoing_qty") {
        for m in db.referencing("stock.move", "product_id", product) {
            let state = db.get_str(&all, "stock.move", m, "state").unwrap_or_default();
            if !OPEN_MOVE_STATES.contains(&state.as_str()) {
                continue;
            }
            let src = db.get_id(&all, "stock.move", m, "location_id").is_some_and(|l| locs.contains(&l));
            let dst = db.get_id(&all, "stock.move", m, "location_dest_id").is_some_and(|l| locs.contains(&l));
            let qty = db.get_num(&all, "stock.move", m, "product_uom_qty");
            if dst && !src {
                incoming += qty;
            } else if src && !dst {
                outgoing += qty;
            }
        }
    }
    match field {
        "qty_available" => on_hand,
        "free_qty" => on_hand - reserved,
        "incoming_qty" => incoming,
        "outgoing_qty" => outgoing,
        "virtual_available" => on_hand + incoming - outgoing,
        _ => Decimal::ZERO,
    }
}

/// Delivered quantity of a sales order line (done moves to customers, minus returns).
pub fn qty_delivered(db: &Db, ctx: &Ctx, line: i64) -> Decimal {
    let all = ctx.with_active_test(false);
    let mut q = Decimal::ZERO;
    for m in db.referencing("stock.move", "sale_line_id", line) {
        if db.get_str(&all, "stock.move", m, "state").as_deref() != Some("done") {
            continue;
        }
        let usage =
            |f: &str| db.get_id(&all, "stock.move", m, f).and_then(|l| db.get_str(&all, "stock.location", l, "usage"));
        let qty = db.get_num(&all, "stock.move", m, "quantity");
        if usage("location_dest_id").as_deref() == Some("customer") {
            q += qty;
        } else if usage("location_id").as_deref() == Some("customer") {
            q -= qty;
        }
    }
    q
}

fn quant_for(db: &mut Db, ctx: &Ctx, product: i64, location: i64) -> OResult<i64> {
    let all = ctx.with_active_test(false);
    if let Some(q) = db
        .referencing("stock.quant", "product_id", product)
        .into_iter()
        .find(|q| db.get_id(&all, "stock.quant", *q, "location_id") == Some(location))
    {
        return Ok(q);
    }
    db.create(
        ctx,
        "stock.quant",
        Vals::new().with("product_id", Val::Id(product)).with("location_id", Val::Id(location)),
    )
}

fn is_storable(db: &Db, ctx: &Ctx, product: i64) -> bool {
    db.get_str(&ctx.with_active_test(false), "product.product", product, "detailed_type").as_deref() == Some("product")
}

fn is_internal(db: &Db, ctx: &Ctx, location: Option<i64>) -> bool {
    location.and_then(|l| db.get_str(&ctx.with_active_test(false), "stock.location", l, "usage")).as_deref()
        == Some("internal")
}

/// Reserves what the source location has for an open move (consumables are always available).
pub fn reserve(db: &mut Db, ctx: &Ctx, mv: i64) -> OResult<()> {
    let m = "stock.move";
    let all = ctx.with_active_test(false);
    let state = db.get_str(&all, m, mv, "state").unwrap_or_default();
    if !OPEN_MOVE_STATES.contains(&state.as_str()) {
        return Ok(());
    }
    let Some(product) = db.get_id(&all, m, mv, "product_id") else {
        return Ok(());
    };
    let demand = db.get_num(&all, m, mv, "product_uom_qty");
    let mut reserved = db.get_num(&all, m, mv, "quantity");
    let src = db.get_id(&all, m, mv, "location_id");
    if !is_internal(db, ctx, src) || !is_storable(db, ctx, product) {
        db.write(ctx, m, &[mv], Vals::new().with("quantity", Val::Num(demand)).with("state", Val::str("assigned")))?;
        return Ok(());
    }
    let scope = src.map(|s| db.descendants("stock.location", "location_id", &[s])).unwrap_or_default();
    for q in db.referencing("stock.quant", "product_id", product) {
        if reserved >= demand {
            break;
        }
        if !db.get_id(&all, "stock.quant", q, "location_id").is_some_and(|l| scope.contains(&l)) {
            continue;
        }
        let qty = db.get_num(&all, "stock.quant", q, "quantity");
        let res = db.get_num(&all, "stock.quant", q, "reserved_quantity");
        let take = (qty - res).min(demand - reserved);
        if take > Decimal::ZERO {
            db.write(ctx, "stock.quant", &[q], Vals::new().with("reserved_quantity", Val::Num(res + take)))?;
            reserved += take;
        }
    }
    let state = if reserved >= demand {
        "assigned"
    } else if reserved > Decimal::ZERO {
        "partially_available"
    } else {
        "confirmed"
    };
    db.write(ctx, m, &[mv], Vals::new().with("quantity", Val::Num(reserved)).with("state", Val::str(state)))
}

fn unreserve(db: &mut Db, ctx: &Ctx, mv: i64) -> OResult<()> {
    let m = "stock.move";
    let all = ctx.with_active_test(false);
    let Some(product) = db.get_id(&all, m, mv, "product_id") else {
        return Ok(());
    };
    let src = db.get_id(&all, m, mv, "location_id");
    let mut left = db.get_num(&all, m, mv, "quantity");
    if !is_internal(db, ctx, src) || !is_storable(db, ctx, product) {
        return Ok(());
    }
    let scope = src.map(|s| db.descendants("stock.location", "location_id", &[s])).unwrap_or_default();
    for q in db.referencing("stock.quant", "product_id", product) {
        if left <= Decimal::ZERO {
            break;
        }
        if !db.get_id(&all, "stock.quant", q, "location_id").is_some_and(|l| scope.contains(&l)) {
            continue;
        }
        let res = db.get_num(&all, "stock.quant", q, "reserved_quantity");
        let give = res.min(left);
        if give > Decimal::ZERO {
            db.write(ctx, "stock.quant", &[q], Vals::new().with("reserved_quantity", Val::Num(res - give)))?;
            left -= give;
        }
    }
    Ok(())
}

/// Recomputes a transfer's state from its moves.
pub fn recompute_picking_state(db: &mut Db, ctx: &Ctx, picking: i64) -> OResult<()> {
    let all = ctx.with_active_test(false);
    let states: Vec<String> = db
        .get_ids(&all, "stock.picking", picking, "move_ids")
        .into_iter()
        .filter_map(|m| db.get_str(&all, "stock.move", m, "state"))
        .collect();
    let state = if states.is_empty() {
        "draft"
    } else if states.iter().all(|s| s == "cancel") {
        "cancel"
    } else if states.iter().all(|s| s == "done" || s == "cancel") {
        "done"
    } else if states.iter().any(|s| s == "assigned" || s == "partially_available") {
        "assigned"
    } else if states.iter().all(|s| s == "draft" || s == "cancel") {
        "draft"
    } else {
        "confirmed"
    };
    db.set_stored("stock.picking", picking, "state", Val::str(state))
}

fn customer_location(db: &Db, ctx: &Ctx) -> OResult<i64> {
    db.search_one(
        &ctx.with_active_test(false),
        "stock.location",
        &Domain::leaf("usage", "=", Value::String("customer".into())),
    )?
    .ok_or_else(|| OdooError::User("No customer location is configured.".into()))
}

/// Creates the delivery of a confirmed order (storable and consumable lines).
pub fn launch_for_order(db: &mut Db, ctx: &Ctx, order: i64) -> OResult<()> {
    let lines = db.get_ids(ctx, "sale.order", order, "order_line");
    launch_for_lines(db, ctx, order, &lines)
}

/// Creates moves (and a delivery when the order has no open one) for some lines of a
/// confirmed order.
pub fn launch_for_lines(db: &mut Db, ctx: &Ctx, order: i64, lines: &[i64]) -> OResult<()> {
    let so = "sale.order";
    let all = ctx.with_active_test(false);
    let wanted: Vec<(i64, i64, Decimal)> = lines
        .iter()
        .filter_map(|&l| {
            let p = db.get_id(&all, "sale.order.line", l, "product_id")?;
            let kind = db.get_str(&all, "product.product", p, "detailed_type")?;
            let qty = db.get_num(&all, "sale.order.line", l, "product_uom_qty");
            (kind != "service" && qty > Decimal::ZERO).then_some((l, p, qty))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let wh = db
        .get_id(ctx, so, order, "warehouse_id")
        .or_else(|| db.search_one(ctx, "stock.warehouse", &Domain::all()).ok().flatten())
        .ok_or_else(|| OdooError::User("No warehouse is configured.".into()))?;
    let out_type = db
        .get_id(&all, "stock.warehouse", wh, "out_type_id")
        .ok_or_else(|| OdooError::User("The warehouse has no delivery type.".into()))?;
    let src = db
        .get_id(&all, "stock.warehouse", wh, "lot_stock_id")
        .ok_or_else(|| OdooError::User("The warehouse has no stock location.".into()))?;
    let dest = customer_location(db, ctx)?;
    let name = db.get_str(ctx, so, order, "name").unwrap_or_default();
    let open = db.get_ids(&all, so, order, "picking_ids").into_iter().find(|p| {
        !matches!(db.get_str(&all, "stock.picking", *p, "state").as_deref(), Some("done") | Some("cancel"))
            && db.get_id(&all, "stock.picking", *p, "picking_type_id") == Some(out_type)
    });
    let picking = match open {
        Some(p) => p,
        None => {
            let scheduled = db.get_str(ctx, so, order, "commitment_date").unwrap_or_else(|| db.now());
            let mut v = Vals::new()
                .with("picking_type_id", Val::Id(out_type))
                .with("location_id", Val::Id(src))
                .with("location_dest_id", Val::Id(dest))
                .with("origin", Val::Str(name.clone()))
                .with("sale_id", Val::Id(order))
                .with("scheduled_date", Val::Str(scheduled))
                .with("move_type", Val::str("direct"));
            if let Some(p) = db.get_id(ctx, so, order, "partner_shipping_id") {
                v.set("partner_id", Val::Id(p));
            }
            db.create(ctx, "stock.picking", v)?
        }
    };
    for (line, product, qty) in wanted {
        let mv = db.create(
            ctx,
            "stock.move",
            Vals::new()
                .with(
                    "name",
                    Val::Str(db.get_str(ctx, "sale.order.line", line, "name").unwrap_or_else(|| name.clone())),
                )
                .with("product_id", Val::Id(product))
                .with("product_uom_qty", Val::Num(qty))
                .with("product_uom", Val::opt_id(db.get_id(&all, "product.product", product, "uom_id")))
                .with("location_id", Val::Id(src))
                .with("location_dest_id", Val::Id(dest))
                .with("picking_id", Val::Id(picking))
                .with("sale_line_id", Val::Id(line))
                .with("picking_type_id", Val::Id(out_type))
                .with("warehouse_id", Val::Id(wh))
                .with("origin", Val::Str(name.clone()))
                .with("state", Val::str("confirmed")),
        )?;
        reserve(db, ctx, mv)?;
    }
    recompute_picking_state(db, ctx, picking)
}

/// Changes the open demand of a confirmed line by `delta` (new move or smaller open move).
pub fn change_line_demand(db: &mut Db, ctx: &Ctx, line: i64, delta: Decimal) -> OResult<()> {
    let all = ctx.with_active_test(false);
    if delta > Decimal::ZERO {
        let order = db
            .get_id(&all, "sale.order.line", line, "order_id")
            .ok_or_else(|| OdooError::missing("sale.order.line", &[line], ctx.uid))?;
        let product = db.get_id(&all, "sale.order.line", line, "product_id");
        if product
            .is_some_and(|p| db.get_str(&all, "product.product", p, "detailed_type").as_deref() == Some("service"))
        {
            return Ok(());
        }
        let open = db.referencing("stock.move", "sale_line_id", line).into_iter().find(|m| {
            db.get_str(&all, "stock.move", *m, "state").is_some_and(|s| OPEN_MOVE_STATES.contains(&s.as_str()))
        });
        match open {
            Some(m) => {
                let q = db.get_num(&all, "stock.move", m, "product_uom_qty") + delta;
                db.write(ctx, "stock.move", &[m], Vals::new().with("product_uom_qty", Val::Num(q)))?;
                reserve(db, ctx, m)?;
                if let Some(p) = db.get_id(&all, "stock.move", m, "picking_id") {
                    recompute_picking_state(db, ctx, p)?;
                }
            }
            None => {
                let lines = [line];
                let saved = db.get_num(&all, "sale.order.line", line, "product_uom_qty");
                db.set_stored("sale.order.line", line, "product_uom_qty", Val::Num(delta))?;
                let r = launch_for_lines(db, ctx, order, &lines);
                db.set_stored("sale.order.line", line, "product_uom_qty", Val::Num(saved))?;
                r?;
            }
        }
    } else {
        let mut left = -delta;
        for m in db.referencing("stock.move", "sale_line_id", line) {
            if left <= Decimal::ZERO {
                break;
            }
            if !db.get_str(&all, "stock.move", m, "state").is_some_and(|s| OPEN_MOVE_STATES.contains(&s.as_str())) {
                continue;
            }
            let demand = db.get_num(&all, "stock.move", m, "product_uom_qty");
            let cut = demand.min(left);
            unreserve(db, ctx, m)?;
            db.write(
                ctx,
                "stock.move",
                &[m],
                Vals::new()
                    .with("product_uom_qty", Val::Num(demand - cut))
                    .with("quantity", Val::Num(Decimal::ZERO))
                    .with("state", Val::str("confirmed")),
            )?;
            if demand - cut <= Decimal::ZERO {
                db.write(ctx, "stock.move", &[m], Vals::new().with("state", Val::str("cancel")))?;
            } else {
                reserve(db, ctx, m)?;
            }
            if let Some(p) = db.get_id(&all, "stock.move", m, "picking_id") {
                recompute_picking_state(db, ctx, p)?;
            }
            left -= cut;
        }
    }
    Ok(())
}

/// Cancels a transfer that is not done (reservations released).
pub fn cancel_picking(db: &mut Db, ctx: &Ctx, picking: i64) -> OResult<()> {
    let all = ctx.with_active_test(false);
    if db.get_str(&all, "stock.picking", picking, "state").as_deref() == Some("done") {
        return Err(OdooError::User("You cannot cancel a stock move that has been set to 'Done'.".into()));
    }
    for m in db.get_ids(&all, "stock.picking", picking, "move_ids") {
        if matches!(db.get_str(&all, "stock.move", m, "state").as_deref(), Some("done") | Some("cancel")) {
            continue;
        }
        unreserve(db, ctx, m)?;
        db.write(
            ctx,
            "stock.move",
            &[m],
            Vals::new().with("state", Val::str("cancel")).with("quantity", Val::Num(Decimal::ZERO)),
        )?;
    }
    recompute_picking_state(db, ctx, picking)
}

/// Validates a transfer as a warehouse user would: `done` gives the quantity per product
/// (`None`: everything), `tracking` the carrier reference, `backorder` whether the rest waits
/// in a new transfer (else it is dropped). Returns the backorder, if one was created.
pub fn validate_picking(
    db: &mut Db,
    ctx: &Ctx,
    picking: i64,
    done: Option<&HashMap<i64, Decimal>>,
    tracking: Option<&str>,
    backorder: bool,
) -> OResult<Option<i64>> {
    let p = "stock.picking";
    let all = ctx.with_active_test(false);
    if !db.exists(p, picking) {
        return Err(OdooError::missing(p, &[picking], ctx.uid));
    }
    if matches!(db.get_str(&all, p, picking, "state").as_deref(), Some("done") | Some("cancel")) {
        return Err(OdooError::User(format!(
            "Transfer {} is already done or cancelled.",
            db.get_str(&all, p, picking, "name").unwrap_or_default()
        )));
    }
    let mut left: HashMap<i64, Decimal> = done.cloned().unwrap_or_default();
    let mut rest: Vec<(i64, Decimal)> = Vec::new();
    let now = db.now();
    for mv in db.get_ids(&all, p, picking, "move_ids") {
        if matches!(db.get_str(&all, "stock.move", mv, "state").as_deref(), Some("done") | Some("cancel")) {
            continue;
        }
        let Some(product) = db.get_id(&all, "stock.move", mv, "product_id") else {
            continue;
        };
        let demand = db.get_num(&all, "stock.move", mv, "product_uom_qty");
        let qty = match done {
            None => demand,
            Some(_) => {
                let avail = left.get(&product).copied().unwrap_or_default();
                let take = avail.min(demand).max(Decimal::ZERO);
                left.insert(product, avail - take);
                take
            }
        };
        unreserve(db, ctx, mv)?;
        if qty.is_zero() {
            if backorder {
                rest.push((mv, demand));
            } else {
                db.write(
                    ctx,
                    "stock.move",
                    &[mv],
                    Vals::new().with("state", Val::str("cancel")).with("quantity", Val::Num(Decimal::ZERO)),
                )?;
            }
            continue;
        }
        let src = db.get_id(&all, "stock.move", mv, "location_id");
        let dst = db.get_id(&all, "stock.move", mv, "location_dest_id");
        for (loc, sign) in [(src, -Decimal::ONE), (dst, Decimal::ONE)] {
            if let Some(l) = loc
                && is_internal(db, ctx, Some(l))
                && is_storable(db, ctx, product)
            {
                let q = quant_for(db, ctx, product, l)?;
                let cur = db.get_num(&all, "stock.quant", q, "quantity");
                db.write(ctx, "stock.quant", &[q], Vals::new().with("quantity", Val::Num(cur + sign * qty)))?;
            }
        }
        db.write(
            ctx,
            "stock.move",
            &[mv],
            Vals::new()
                .with("quantity", Val::Num(qty))
                .with("product_uom_qty", Val::Num(qty))
                .with("state", Val::str("done"))
                .with("picked", Val::Bool(true))
                .with("date", Val::Str(now.clone())),
        )?;
        if qty < demand && backorder {
            rest.push((mv, demand - qty));
        }
    }
    let mut vals = Vals::new().with("date_done", Val::Str(now.clone()));
    if let Some(t) = tracking
        && db.def(p)?.field("carrier_tracking_ref").is_some()
    {
        vals.set("carrier_tracking_ref", Val::str(t));
    }
    db.write(ctx, p, &[picking], vals)?;
    let mut created = None;
    if !rest.is_empty() {
        let mut v = Vals::new().with("backorder_id", Val::Id(picking));
        for f in [
            "picking_type_id",
            "location_id",
            "location_dest_id",
            "partner_id",
            "origin",
            "sale_id",
            "scheduled_date",
            "move_type",
            "company_id",
        ] {
            v.set(f, db.get(&all, p, picking, f)?);
        }
        let bo = db.create(ctx, p, v)?;
        for (mv, qty) in rest {
            let state = db.get_str(&all, "stock.move", mv, "state").unwrap_or_default();
            if state == "done" {
                let mut nv = Vals::new()
                    .with("picking_id", Val::Id(bo))
                    .with("product_uom_qty", Val::Num(qty))
                    .with("state", Val::str("confirmed"));
                for f in [
                    "name",
                    "product_id",
                    "product_uom",
                    "location_id",
                    "location_dest_id",
                    "sale_line_id",
                    "picking_type_id",
                    "warehouse_id",
                    "origin",
                ] {
                    nv.set(f, db.get(&all, "stock.move", mv, f)?);
                }
                let nm = db.create(ctx, "stock.move", nv)?;
                reserve(db, ctx, nm)?;
            } else {
                db.write(
                    ctx,
                    "stock.move",
                    &[mv],
                    Vals::new()
                        .with("picking_id", Val::Id(bo))
                        .with("quantity", Val::Num(Decimal::ZERO))
                        .with("state", Val::str("confirmed")),
                )?;
                reserve(db, ctx, mv)?;
            }
        }
        recompute_picking_state(db, ctx, bo)?;
        created = Some(bo);
    }
    recompute_picking_state(db, ctx, picking)?;
    Ok(created)
}

/// Sets the on-hand quantity of a product in a location (an inventory adjustment).
pub fn set_on_hand(db: &mut Db, ctx: &Ctx, product: i64, location: i64, qty: Decimal) -> OResult<()> {
    let q = quant_for(db, ctx, product, location)?;
    db.write(ctx, "stock.quant", &[q], Vals::new().with("quantity", Val::Num(qty)))?;
    let moves: Vec<i64> = db
        .referencing("stock.move", "product_id", product)
        .into_iter()
        .filter(|m| {
            db.get_str(&ctx.with_active_test(false), "stock.move", *m, "state")
                .is_some_and(|s| s == "confirmed" || s == "partially_available")
        })
        .collect();
    for m in moves {
        reserve(db, ctx, m)?;
        if let Some(p) = db.get_id(&ctx.with_active_test(false), "stock.move", m, "picking_id") {
            recompute_picking_state(db, ctx, p)?;
        }
    }
    Ok(())
}

/// True when the database has the `delivery` module's `stock.picking.carrier_tracking_ref`.
pub fn has_tracking_ref(db: &Db) -> bool {
    db.def("stock.picking").is_ok_and(|d| d.field("carrier_tracking_ref").is_some())
}
