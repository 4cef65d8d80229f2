//! The customer of an order and its billing and shipping addresses as OpenERP partners.
//!
//! Matching, for a batch of orders in a few calls:
//! * the customer: its partner binding (Magento customer id, or `guest:<email>`), else a
//!   top-level partner whose reference is the one the import gives the customers it creates
//!   (`magento:<backend>:<customer id>`), else a top-level partner with the same email
//!   (case-insensitive, `=ilike`: Odoo's `=` is case-sensitive), else a new partner. Guests
//!   are matched by email too, else get a partner of their own.
//! * each address: its address binding, else a child of the partner equal to it after
//!   normalisation (name, company, street lines, city, zip, country, state **within** the
//!   country, phone; the child of the right type first, then the partner itself), else a new
//!   child of type `invoice` (billing) or `delivery` (shipping). An existing child is never
//!   changed: a changed address is a new child, so past orders keep theirs.
//!
//! Creating what is new takes two calls per batch (partners, then children); a batch the
//! server refuses is retried one record at a time, looking for the record first so nothing is
//! created twice. This module decides and writes partners only; orders are the driver's.

use std::collections::{BTreeMap, HashMap};

use dxr::Value;

use super::broken::Broken;
use super::lookup::RunData;
use crate::magento::types::{Order, OrderAddress};
use crate::openerp::models::partners::{NewPartner, PartnerType};
use crate::openerp::wire::{Context, Domain, escape_like};
use crate::openerp::{Error, ErrorKind, OpenErpClient, SearchOpts};
use crate::rpc::value::{Map, Record};
use crate::store::{BindingKind, Store, StoreError};

/// Partner fields read for matching.
pub const PARTNER_FIELDS: &[&str] = &[
    "name",
    "email",
    "ref",
    "parent_id",
    "active",
    "type",
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "country_id",
    "phone",
    "company_name",
];

/// Lowercase, trimmed, inner whitespace collapsed.
pub fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
}

fn clean(s: Option<&str>) -> Option<String> {
    s.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|t| !t.is_empty())
}

/// A postal address as OpenERP stores it on a partner.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddressData {
    /// Contact name.
    pub name: String,
    /// Company.
    pub company: Option<String>,
    /// First street line.
    pub street: Option<String>,
    /// Further street lines, joined with `, `.
    pub street2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postcode.
    pub zip: Option<String>,
    /// State id (within the country).
    pub state_id: Option<i64>,
    /// Country id.
    pub country_id: Option<i64>,
    /// Phone.
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
}

impl AddressData {
    /// The normalised key two equal addresses share (email left out: it is the customer's).
    pub fn key(&self) -> String {
        let n = |s: &Option<String>| s.as_deref().map(normalize).unwrap_or_default();
        let id = |i: Option<i64>| i.map(|i| i.to_string()).unwrap_or_default();
        [
            normalize(&self.name),
            n(&self.company),
            n(&self.street),
            n(&self.street2),
            n(&self.city),
            n(&self.zip).to_uppercase(),
            id(self.country_id),
            id(self.state_id),
            self.phone.as_deref().map(digits).unwrap_or_default(),
        ]
        .join("|")
    }

    /// The address of a Magento order, with its country and state resolved. `Err` says why it
    /// cannot be used.
    pub fn from_magento(a: &OrderAddress, data: &RunData) -> Result<AddressData, String> {
        let name = [&a.prefix, &a.firstname, &a.middlename, &a.lastname, &a.suffix]
            .iter()
            .filter_map(|p| clean(p.as_deref()))
            .collect::<Vec<_>>()
            .join(" ");
        let code = a.country_id.as_deref().map(str::trim).filter(|c| !c.is_empty()).ok_or("has no country")?;
        let country = data.country(code).ok_or_else(|| format!("has country {code:?}, which OpenERP does not know"))?;
        let state = a.region.as_deref().and_then(|r| data.state(country, r));
        let lines: Vec<String> = a.street.iter().filter_map(|l| clean(Some(l))).collect();
        if lines.is_empty() && clean(a.city.as_deref()).is_none() {
            return Err("has neither street nor city".into());
        }
        Ok(AddressData {
            name,
            company: clean(a.company.as_deref()),
            street: lines.first().cloned(),
            street2: (lines.len() > 1).then(|| lines[1..].join(", ")),
            city: clean(a.city.as_deref()),
            zip: clean(a.postcode.as_deref()),
            state_id: state,
            country_id: Some(country),
            phone: clean(a.telephone.as_deref()),
            email: clean(a.email.as_deref()),
        })
    }

    fn from_row(r: &Record<'_>) -> Result<AddressData, crate::rpc::value::DecodeError> {
        Ok(AddressData {
            name: r.string_or_empty("name")?,
            company: clean(r.opt_string("company_name")?.as_deref()),
            street: clean(r.opt_string("street")?.as_deref()),
            street2: clean(r.opt_string("street2")?.as_deref()),
            city: clean(r.opt_string("city")?.as_deref()),
            zip: clean(r.opt_string("zip")?.as_deref()),
            state_id: r.many2one("state_id")?.map(|m| m.id),
            country_id: r.many2one("country_id")?.map(|m| m.id),
            phone: clean(r.opt_string("phone")?.as_deref()),
            email: clean(r.opt_string("email")?.as_deref()),
        })
    }
}

/// A partner row read for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRow {
    /// Id.
    pub id: i64,
    /// Parent.
    pub parent_id: Option<i64>,
    /// Not archived.
    pub active: bool,
    /// `contact`, `invoice`, `delivery`, `other`.
    pub kind: String,
    /// Email.
    pub email: Option<String>,
    /// Reference.
    pub reference: Option<String>,
    /// Its address.
    pub address: AddressData,
}

impl PartnerRow {
    fn from_map(m: &Map) -> Result<PartnerRow, Error> {
        let r = Record::new(m, "res.partner");
        let dec = |e: crate::rpc::value::DecodeError| Error::decode(&e).with_call("res.partner", "read");
        Ok(PartnerRow {
            id: r.i64("id").map_err(dec)?,
            parent_id: r.many2one("parent_id").map_err(dec)?.map(|p| p.id),
            active: r.get("active").is_none() || r.bool("active").map_err(dec)?,
            kind: r.opt_string("type").map_err(dec)?.unwrap_or_else(|| "contact".into()),
            email: r.opt_string("email").map_err(dec)?,
            reference: r.opt_string("ref").map_err(dec)?,
            address: AddressData::from_row(&r).map_err(dec)?,
        })
    }
}

/// Who bought: the key of the partner binding and the data of a new partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    /// Magento customer id (`None`: guest).
    pub customer_id: Option<i64>,
    /// Lowercased email.
    pub email: Option<String>,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
}

impl Buyer {
    /// The buyer of an order.
    pub fn of(order: &Order) -> Buyer {
        let c = &order.customer;
        let billing = order.billing_address.as_ref();
        let email = clean(c.email.as_deref())
            .or_else(|| billing.and_then(|b| clean(b.email.as_deref())))
            .map(|e| e.to_lowercase());
        let mut name = [&c.prefix, &c.firstname, &c.middlename, &c.lastname, &c.suffix]
            .iter()
            .filter_map(|p| clean(p.as_deref()))
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            name = billing
                .map(|b| {
                    [&b.firstname, &b.lastname].iter().filter_map(|p| clean(p.as_deref())).collect::<Vec<_>>().join(" ")
                })
                .unwrap_or_default();
        }
        if name.is_empty() {
            name = email.clone().unwrap_or_else(|| format!("Magento order {}", order.increment_id));
        }
        Buyer {
            customer_id: c.id.filter(|_| !c.is_guest),
            email,
            name,
            phone: billing.and_then(|b| clean(b.telephone.as_deref())),
        }
    }

    /// Magento id of the partner binding (`<customer id>` or `guest:<email>`).
    pub fn binding_id(&self) -> Option<String> {
        match (self.customer_id, &self.email) {
            (Some(id), _) => Some(id.to_string()),
            (None, Some(e)) => Some(format!("guest:{e}")),
            (None, None) => None,
        }
    }

    /// Reference given to a partner the import creates for a registered customer.
    pub fn reference(&self, backend: &str) -> Option<String> {
        self.customer_id.map(|id| format!("magento:{backend}:{id}"))
    }

    fn dedupe_key(&self, increment_id: &str) -> String {
        match (&self.email, self.customer_id) {
            (Some(e), _) => format!("email:{e}"),
            (None, Some(id)) => format!("customer:{id}"),
            (None, None) => format!("order:{increment_id}"),
        }
    }
}

/// A partner of the plan: found, or the n-th new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// An existing `res.partner` id.
    Existing(i64),
    /// Index into [`Resolution::new_partners`] / [`Resolution::new_children`].
    New(usize),
}

/// The partners of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPlan {
    /// The buyer.
    pub buyer: Buyer,
    /// The customer.
    pub partner: Who,
    /// How the customer was found (`binding`, `reference`, `email`, `new`).
    pub matched_by: &'static str,
    /// Invoice address (`Existing(partner)` when it is the partner itself).
    pub invoice: Who,
    /// Delivery address.
    pub shipping: Who,
    /// Normalised keys of the billing and shipping addresses.
    pub keys: (String, String),
}

/// A partner to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// Values.
    pub partner: NewPartner,
    /// The buyer (for the binding and the search after an uncertain create).
    pub buyer: Buyer,
    /// Orders (batch indexes) that use it.
    pub orders: Vec<usize>,
}

/// An address to create under a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChild {
    /// Parent.
    pub parent: Who,
    /// Invoice or delivery.
    pub kind: PartnerType,
    /// The address.
    pub address: AddressData,
    /// Orders (batch indexes) that use it.
    pub orders: Vec<usize>,
}

/// The partners of a batch of orders: what each order uses and what must be created.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Per order (batch index): its partners, or why its addresses cannot be used.
    pub orders: BTreeMap<usize, Result<CustomerPlan, Broken>>,
    /// Partners to create.
    pub new_partners: Vec<NewCustomer>,
    /// Addresses to create.
    pub new_children: Vec<NewChild>,
}

/// One order whose addresses are usable: index, order, buyer, billing, shipping, language.
type Wanted<'a> = (usize, &'a Order, Buyer, AddressData, AddressData, Option<String>);

/// Address binding id: the parent partner and the normalised address.
pub fn address_binding_id(parent: i64, key: &str) -> String {
    format!("{parent}|{key}")
}

/// Reads what the orders need and decides, without writing, who each order's partners are.
/// `orders` are `(batch index, order, store language)`.
pub async fn resolve(
    client: &OpenErpClient,
    store: &Store,
    backend: &str,
    data: &mut RunData,
    orders: &[(usize, &Order, Option<String>)],
) -> Result<Resolution, ResolveError> {
    let codes: Vec<String> = orders
        .iter()
        .flat_map(|(_, o, _)| [o.billing_address.as_ref(), o.shipping_address.as_ref()])
        .flatten()
        .filter_map(|a| a.country_id.clone())
        .collect();
    data.ensure_countries(client, &codes).await?;
    let ctx = Context::default();
    let mut res = Resolution::default();
    // Addresses first: an unusable address breaks its order before any lookup.
    let mut wanted: Vec<Wanted<'_>> = Vec::new();
    for (idx, order, lang) in orders {
        let Some(billing) = order.billing_address.as_ref().or(order.shipping_address.as_ref()) else {
            res.orders.insert(*idx, Err(Broken::invalid_address("billing", "is missing")));
            continue;
        };
        let bill = match AddressData::from_magento(billing, data) {
            Ok(a) => a,
            Err(why) => {
                res.orders.insert(*idx, Err(Broken::invalid_address("billing", &why)));
                continue;
            }
        };
        let ship = match order.shipping_address.as_ref() {
            None => bill.clone(),
            Some(s) => match AddressData::from_magento(s, data) {
                Ok(a) => a,
                Err(why) => {
                    res.orders.insert(*idx, Err(Broken::invalid_address("shipping", &why)));
                    continue;
                }
            },
        };
        wanted.push((*idx, *order, Buyer::of(order), bill, ship, lang.clone()));
    }
    // Customers: bindings, then reference and email in one search.
    let mut found: HashMap<usize, (i64, &'static str)> = HashMap::new();
    let mut bound: Vec<(usize, i64, String)> = Vec::new();
    for (idx, _, buyer, ..) in &wanted {
        if let Some(mid) = buyer.binding_id()
            && let Some(b) = store.bindings().find_by_magento(backend, BindingKind::Partner, &mid, 0).await?
        {
            bound.push((*idx, b.openerp_id, mid));
        }
    }
    if !bound.is_empty() {
        let ids: Vec<i64> = bound.iter().map(|(_, id, _)| *id).collect();
        let rows = client.read("res.partner", &ids, PARTNER_FIELDS, &ctx).await?;
        let live: HashMap<i64, PartnerRow> = rows
            .iter()
            .map(PartnerRow::from_map)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|p| p.active && p.parent_id.is_none())
            .map(|p| (p.id, p))
            .collect();
        for (idx, id, mid) in bound {
            if live.contains_key(&id) {
                found.insert(idx, (id, "binding"));
            } else {
                // The partner was deleted, archived or made a child: the binding is stale.
                store.bindings().delete(backend, BindingKind::Partner, id, 0).await?;
                tracing::info!(backend, partner = id, magento = %mid, "stale partner binding removed");
            }
        }
    }
    let open: Vec<&Wanted<'_>> = wanted.iter().filter(|w| !found.contains_key(&w.0)).collect();
    if !open.is_empty() {
        let refs: Vec<String> = open.iter().filter_map(|w| w.2.reference(backend)).collect();
        let emails: Vec<String> = open.iter().filter_map(|w| w.2.email.clone()).collect();
        let candidates = search_top_level(client, &refs, &emails).await?;
        for (idx, _, buyer, ..) in open {
            let by_ref = buyer
                .reference(backend)
                .and_then(|r| candidates.iter().find(|p| p.reference.as_deref() == Some(r.as_str())));
            let by_email = buyer.email.as_ref().and_then(|e| {
                candidates.iter().find(|p| p.email.as_deref().is_some_and(|pe| pe.trim().eq_ignore_ascii_case(e)))
            });
            if let Some(p) = by_ref {
                found.insert(*idx, (p.id, "reference"));
            } else if let Some(p) = by_email {
                found.insert(*idx, (p.id, "email"));
            }
        }
    }
    // Children of every partner found, in one search.
    let parents: Vec<i64> =
        found.values().map(|(id, _)| *id).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut kin: HashMap<i64, Vec<PartnerRow>> = HashMap::new();
    if !parents.is_empty() {
        let rows = client
            .search_read_all("res.partner", &Domain::new().in_ids("parent_id", &parents), PARTNER_FIELDS, &ctx)
            .await?;
        for p in rows.iter().map(PartnerRow::from_map).collect::<Result<Vec<_>, _>>()? {
            if let Some(parent) = p.parent_id {
                kin.entry(parent).or_default().push(p);
            }
        }
        let rows = client.read("res.partner", &parents, PARTNER_FIELDS, &ctx).await?;
        for p in rows.iter().map(PartnerRow::from_map).collect::<Result<Vec<_>, _>>()? {
            kin.entry(p.id).or_default().insert(0, p);
        }
    }
    // Address bindings of the partners found.
    let mut address_bindings: HashMap<String, i64> = HashMap::new();
    for (idx, _, _, bill, ship, _) in &wanted {
        if let Some((pid, _)) = found.get(idx) {
            for a in [bill, ship] {
                let mid = address_binding_id(*pid, &a.key());
                if address_bindings.contains_key(&mid) {
                    continue;
                }
                if let Some(b) = store.bindings().find_by_magento(backend, BindingKind::Address, &mid, 0).await? {
                    address_bindings.insert(mid, b.openerp_id);
                }
            }
        }
    }
    // Decide per order.
    let mut new_partner_index: HashMap<String, usize> = HashMap::new();
    let mut new_child_index: HashMap<(Who, String), usize> = HashMap::new();
    for (idx, order, buyer, bill, ship, lang) in wanted {
        let (partner, matched_by) = match found.get(&idx) {
            Some((id, how)) => (Who::Existing(*id), *how),
            None => {
                let key = buyer.dedupe_key(&order.increment_id);
                let n = *new_partner_index.entry(key).or_insert_with(|| {
                    res.new_partners.push(NewCustomer {
                        partner: NewPartner {
                            name: buyer.name.clone(),
                            email: buyer.email.clone(),
                            phone: buyer.phone.clone(),
                            reference: buyer.reference(backend),
                            lang: lang.clone(),
                            customer: true,
                            ..NewPartner::default()
                        },
                        buyer: buyer.clone(),
                        orders: Vec::new(),
                    });
                    res.new_partners.len() - 1
                });
                res.new_partners[n].orders.push(idx);
                (Who::New(n), "new")
            }
        };
        let mut pick = |addr: &AddressData, kind: PartnerType| -> Who {
            let key = addr.key();
            if let Who::Existing(pid) = partner {
                let family = kin.get(&pid).map(Vec::as_slice).unwrap_or(&[]);
                // A bound child (possibly corrected by hand in OpenERP since) wins while alive.
                let bound = address_bindings.get(&address_binding_id(pid, &key));
                if let Some(id) = bound.filter(|id| family.iter().any(|p| p.id == **id && p.active)) {
                    return Who::Existing(*id);
                }
                let same: Vec<&PartnerRow> =
                    family.iter().filter(|p| p.active && p.parent_id == Some(pid) && p.address.key() == key).collect();
                if let Some(p) = same.iter().find(|p| p.kind == kind.as_str()).or(same.first()) {
                    return Who::Existing(p.id);
                }
                if family.iter().any(|p| p.id == pid && p.address.key() == key) {
                    return Who::Existing(pid);
                }
            }
            let n = *new_child_index.entry((partner, key)).or_insert_with(|| {
                res.new_children.push(NewChild { parent: partner, kind, address: addr.clone(), orders: Vec::new() });
                res.new_children.len() - 1
            });
            if !res.new_children[n].orders.contains(&idx) {
                res.new_children[n].orders.push(idx);
            }
            Who::New(n)
        };
        let invoice = pick(&bill, PartnerType::Invoice);
        let shipping = pick(&ship, PartnerType::Delivery);
        res.orders.insert(
            idx,
            Ok(CustomerPlan { buyer, partner, matched_by, invoice, shipping, keys: (bill.key(), ship.key()) }),
        );
    }
    Ok(res)
}

/// Top-level active partners whose reference is one of `refs` or whose email is one of
/// `emails` (case-insensitive), in one search.
async fn search_top_level(
    client: &OpenErpClient,
    refs: &[String],
    emails: &[String],
) -> Result<Vec<PartnerRow>, Error> {
    let mut any: Option<Domain> = None;
    let mut add = |d: Domain| {
        any = Some(match any.take() {
            None => d,
            Some(prev) => Domain::or(prev, d),
        });
    };
    if !refs.is_empty() {
        add(Domain::new().term("ref", "in", Value::Array(refs.iter().map(|r| Value::String(r.clone())).collect())));
    }
    let mut seen = std::collections::BTreeSet::new();
    for e in emails {
        if seen.insert(e.to_lowercase()) {
            add(Domain::new().term("email", "=ilike", Value::String(escape_like(e))));
        }
    }
    let Some(any) = any else { return Ok(Vec::new()) };
    let domain = Domain::and(Domain::new().eq("parent_id", Value::Boolean(false)), any);
    let opts = SearchOpts { order: Some("id asc".into()), ..SearchOpts::default() };
    let rows = client.search_read("res.partner", &domain, PARTNER_FIELDS, &opts, &Context::default()).await?;
    rows.iter().map(PartnerRow::from_map).collect()
}

/// Why the partners of a batch could not be looked up (the batch cannot go on).
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// OpenERP failed.
    #[error("{0}")]
    OpenErp(#[from] Error),
    /// The state store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The values of a new child address.
pub fn child_vals(c: &NewChild, parent: i64, profile: &crate::openerp::Profile) -> Result<Map, Error> {
    let a = &c.address;
    let p = NewPartner {
        name: if a.name.trim().is_empty() { "Address".into() } else { a.name.clone() },
        kind: Some(c.kind.clone()),
        parent_id: Some(parent),
        email: a.email.clone(),
        phone: a.phone.clone(),
        street: a.street.clone(),
        street2: a.street2.clone(),
        city: a.city.clone(),
        zip: a.zip.clone(),
        state_id: a.state_id,
        country_id: a.country_id,
        ..NewPartner::default()
    };
    let mut vals = p.to_vals(profile)?;
    if let Some(company) = &a.company {
        vals.insert("company_name".into(), Value::String(company.clone()));
    }
    Ok(vals)
}

/// Finds an existing top-level partner for `buyer` (reference, then email).
pub async fn find_customer(client: &OpenErpClient, backend: &str, buyer: &Buyer) -> Result<Option<i64>, Error> {
    let refs: Vec<String> = buyer.reference(backend).into_iter().collect();
    let emails: Vec<String> = buyer.email.clone().into_iter().collect();
    let rows = search_top_level(client, &refs, &emails).await?;
    let by_ref =
        buyer.reference(backend).and_then(|r| rows.iter().find(|p| p.reference.as_deref() == Some(r.as_str())));
    let by_email = buyer
        .email
        .as_ref()
        .and_then(|e| rows.iter().find(|p| p.email.as_deref().is_some_and(|pe| pe.trim().eq_ignore_ascii_case(e))));
    Ok(by_ref.or(by_email).map(|p| p.id))
}

/// Finds an active child of `parent` with the same address.
pub async fn find_child(client: &OpenErpClient, parent: i64, address: &AddressData) -> Result<Option<i64>, Error> {
    let rows = client
        .search_read(
            "res.partner",
            &Domain::new().eq("parent_id", Value::Integer(i32::try_from(parent).unwrap_or(i32::MAX))),
            PARTNER_FIELDS,
            &SearchOpts::default(),
            &Context::default(),
        )
        .await?;
    let key = address.key();
    Ok(rows
        .iter()
        .map(PartnerRow::from_map)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|p| p.active && p.address.key() == key)
        .map(|p| p.id))
}

/// The ids of the partners and children of a [`Resolution`] once created, in its order
/// (`Err`: that record could not be created; the orders using it cannot be imported).
#[derive(Debug, Default)]
pub struct Created {
    /// Per new partner.
    pub partners: Vec<Result<i64, Error>>,
    /// Per new child.
    pub children: Vec<Result<i64, Error>>,
}

impl Created {
    /// The id of a partner of the plan, once created.
    pub fn id(&self, who: Who, child: bool) -> Option<i64> {
        match who {
            Who::Existing(id) => Some(id),
            Who::New(n) => {
                let list = if child { &self.children } else { &self.partners };
                list.get(n).and_then(|r| r.as_ref().ok()).copied()
            }
        }
    }

    /// The first creation error of the records `plan` needs.
    pub fn error_for(&self, plan: &CustomerPlan) -> Option<&Error> {
        let pick = |who: Who, child: bool| match who {
            Who::New(n) => (if child { &self.children } else { &self.partners }).get(n).and_then(|r| r.as_ref().err()),
            Who::Existing(_) => None,
        };
        pick(plan.partner, false).or_else(|| pick(plan.invoice, true)).or_else(|| pick(plan.shipping, true))
    }
}

/// Creates the new partners, then the new children, one call each; a refused call is retried
/// one record at a time, each looking for its record first (after a lost answer it may exist;
/// [`resolve`] found none before, so what is found now was created by this import).
pub async fn create(client: &OpenErpClient, backend: &str, res: &Resolution) -> Result<Created, Error> {
    let ctx = Context::default();
    let profile = client.profile().await?.clone();
    let mut out = Created::default();
    if !res.new_partners.is_empty() {
        // Values a partner cannot have fail that partner alone.
        out.partners =
            res.new_partners.iter().map(|_| Err(Error::new(ErrorKind::InvalidInput, "not created"))).collect();
        let mut ready: Vec<(usize, Map)> = Vec::new();
        for (i, p) in res.new_partners.iter().enumerate() {
            match p.partner.to_vals(&profile) {
                Ok(v) => ready.push((i, v)),
                Err(e) => out.partners[i] = Err(e),
            }
        }
        let vals: Vec<Map> = ready.iter().map(|(_, v)| v.clone()).collect();
        match client.create_many("res.partner", vals, &ctx).await {
            Ok(ids) => {
                for ((i, _), id) in ready.iter().zip(ids) {
                    out.partners[*i] = Ok(id);
                }
            }
            Err(e) => {
                tracing::info!("creating {} partners in one call failed ({e}); one at a time", ready.len());
                for (i, vals) in ready {
                    out.partners[i] = one_customer(client, backend, &res.new_partners[i], vals).await;
                }
            }
        }
    }
    if !res.new_children.is_empty() {
        let mut ready: Vec<(usize, i64, Map)> = Vec::new();
        out.children = Vec::with_capacity(res.new_children.len());
        for (i, c) in res.new_children.iter().enumerate() {
            let parent = match c.parent {
                Who::Existing(id) => Ok(id),
                Who::New(n) => match out.partners.get(n) {
                    Some(Ok(id)) => Ok(*id),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(Error::new(ErrorKind::InvalidInput, "the address's partner was not created")),
                },
            };
            match parent.and_then(|pid| child_vals(c, pid, &profile).map(|v| (pid, v))) {
                Ok((pid, vals)) => {
                    out.children.push(Err(Error::new(ErrorKind::InvalidInput, "not created yet")));
                    ready.push((i, pid, vals));
                }
                Err(e) => out.children.push(Err(e)),
            }
        }
        let vals: Vec<Map> = ready.iter().map(|(_, _, v)| v.clone()).collect();
        match client.create_many("res.partner", vals, &ctx).await {
            Ok(ids) => {
                for ((i, _, _), id) in ready.iter().zip(ids) {
                    out.children[*i] = Ok(id);
                }
            }
            Err(e) => {
                tracing::info!("creating {} addresses in one call failed ({e}); one at a time", ready.len());
                for (i, pid, vals) in ready {
                    out.children[i] = one_child(client, pid, &res.new_children[i].address, vals).await;
                }
            }
        }
    }
    Ok(out)
}

async fn one_customer(client: &OpenErpClient, backend: &str, p: &NewCustomer, vals: Map) -> Result<i64, Error> {
    if let Some(id) = find_customer(client, backend, &p.buyer).await? {
        return Ok(id);
    }
    match client.create("res.partner", vals, &Context::default()).await {
        Ok(id) => Ok(id),
        Err(e) if e.kind() == ErrorKind::Uncertain => find_customer(client, backend, &p.buyer).await?.ok_or(e),
        Err(e) => Err(e),
    }
}

async fn one_child(client: &OpenErpClient, parent: i64, address: &AddressData, vals: Map) -> Result<i64, Error> {
    if let Some(id) = find_child(client, parent, address).await? {
        return Ok(id);
    }
    match client.create("res.partner", vals, &Context::default()).await {
        Ok(id) => Ok(id),
        Err(e) if e.kind() == ErrorKind::Uncertain => find_child(client, parent, address).await?.ok_or(e),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::orders::lookup::StateInfo;

    fn data() -> RunData {
        let mut d = RunData::default();
        d.countries.insert("US".into(), 233);
        d.countries.insert("IT".into(), 109);
        d.states.insert(233, vec![StateInfo { id: 13, code: "CA".into(), name: "California".into() }]);
        d.states.insert(109, vec![StateInfo { id: 324, code: "CA".into(), name: "Cagliari".into() }]);
        d
    }

    fn address(first: &str, street: &[&str], country: &str, region: &str) -> OrderAddress {
        OrderAddress {
            id: None,
            customer_address_id: None,
            firstname: Some(first.into()),
            middlename: None,
            lastname: Some("Doe".into()),
            prefix: None,
            suffix: None,
            company: Some(" Doe  Consulting ".into()),
            street: street.iter().map(|s| (*s).to_owned()).collect(),
            city: Some("Los Angeles".into()),
            region: Some(region.into()),
            region_id: None,
            postcode: Some("90001".into()),
            country_id: Some(country.into()),
            telephone: Some("(310) 555-0100".into()),
            fax: None,
            email: Some("John@Example.com".into()),
            vat_id: None,
        }
    }

    #[test]
    fn equal_addresses_share_a_key_after_normalisation() {
        let d = data();
        let a = AddressData::from_magento(
            &address("John", &["1200 Ocean Ave", "Apt 4", "Back door"], "US", "California"),
            &d,
        )
        .unwrap();
        assert_eq!((a.street.as_deref(), a.street2.as_deref()), (Some("1200 Ocean Ave"), Some("Apt 4, Back door")));
        assert_eq!((a.country_id, a.state_id, a.company.as_deref()), (Some(233), Some(13), Some("Doe Consulting")));
        let b =
            AddressData::from_magento(&address(" john ", &["1200  OCEAN Ave", "apt 4", "back door"], "us", "CA"), &d)
                .unwrap();
        assert_eq!(a.key(), b.key(), "case, spaces, state code or name: the same address");
        let other = AddressData { phone: Some("310-555-0199".into()), ..a.clone() };
        assert_ne!(a.key(), other.key());
        // "CA" in Italy is Cagliari: states are looked up within the country.
        let it = AddressData::from_magento(&address("John", &["Via Roma 1"], "IT", "CA"), &d).unwrap();
        assert_eq!(it.state_id, Some(324));
        let e = AddressData::from_magento(&address("John", &["Hauptstr. 1"], "DE", ""), &d).unwrap_err();
        assert!(e.contains("\"DE\""), "{e}");
        let mut no_street = address("John", &[], "US", "");
        no_street.city = None;
        assert!(AddressData::from_magento(&no_street, &d).is_err());
    }

    #[test]
    fn buyers_are_bound_by_customer_id_or_guest_email() {
        let order = |id: Option<i64>, guest: bool| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .skip(1)
                .map(|a| a.join("shared/recordings/magento1/1030-sales_order.info.response.xml"))
                .find(|p| p.is_file())
                .expect("recordings next to the repository");
            let xml = std::fs::read_to_string(dir).unwrap();
            let v = dxr::MethodResponse::from_xml(&xml).unwrap().value;
            let mut o = crate::magento::magento1::parse::sales::order(&v).unwrap();
            o.customer.id = id;
            o.customer.is_guest = guest;
            o.customer.email = Some("John.Doe@Example.com".into());
            o
        };
        let b = Buyer::of(&order(Some(1), false));
        assert_eq!((b.binding_id().as_deref(), b.reference("shop").as_deref()), (Some("1"), Some("magento:shop:1")));
        assert_eq!(b.email.as_deref(), Some("john.doe@example.com"));
        assert_eq!(b.name, "John Doe");
        let g = Buyer::of(&order(None, true));
        assert_eq!((g.binding_id().as_deref(), g.reference("shop")), (Some("guest:john.doe@example.com"), None));
        assert_eq!(address_binding_id(7, "k"), "7|k");
    }
}
