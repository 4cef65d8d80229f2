//! `res.partner` (customers, their invoice/delivery/contact children), `res.country` and
//! `res.country.state`.
//!
//! Emails are matched with `=ilike` and escaped wildcards (Odoo's `=` is case-sensitive and demo
//! emails have mixed case). State codes are unique only within a country (`CA` is California and
//! Cagliari), so states are always looked up inside one country.

use chrono::{DateTime, Utc};
use dxr::Value;

use crate::openerp::client::OpenErpClient;
use crate::openerp::error::{Error, ErrorKind};
use crate::openerp::orm::SearchOpts;
use crate::openerp::profile::Profile;
use crate::openerp::wire::{Context, Domain, id_value, m2o_value, text_value};
use crate::rpc::value::{DecodeError, Many2one, Map, Record};

/// Model of partners.
pub const MODEL: &str = "res.partner";
/// Model of countries.
pub const COUNTRY_MODEL: &str = "res.country";
/// Model of states / provinces.
pub const STATE_MODEL: &str = "res.country.state";

/// Fields read for every partner (plus the version's customer rank field).
pub const FIELDS: &[&str] = &[
    "name",
    "display_name",
    "is_company",
    "type",
    "parent_id",
    "commercial_partner_id",
    "email",
    "phone",
    "street",
    "street2",
    "city",
    "zip",
    "state_id",
    "country_id",
    "vat",
    "ref",
    "lang",
    "child_ids",
    "active",
    "write_date",
];

/// Fields read for countries.
pub const COUNTRY_FIELDS: &[&str] = &["name", "code"];
/// Fields read for states.
pub const STATE_FIELDS: &[&str] = &["name", "code", "country_id"];

/// The role of a partner record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerType {
    /// A person or company (default).
    Contact,
    /// Invoice address.
    Invoice,
    /// Delivery address.
    Delivery,
    /// Other address.
    Other,
    /// Private address (≤16 only).
    Private,
    /// A type a module added.
    Unknown(String),
}

impl PartnerType {
    /// The selection value.
    pub fn as_str(&self) -> &str {
        match self {
            PartnerType::Contact => "contact",
            PartnerType::Invoice => "invoice",
            PartnerType::Delivery => "delivery",
            PartnerType::Other => "other",
            PartnerType::Private => "private",
            PartnerType::Unknown(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "contact" => PartnerType::Contact,
            "invoice" => PartnerType::Invoice,
            "delivery" => PartnerType::Delivery,
            "other" => PartnerType::Other,
            "private" => PartnerType::Private,
            other => PartnerType::Unknown(other.to_owned()),
        }
    }
}

/// A partner as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Id.
    pub id: i64,
    /// Own name.
    pub name: String,
    /// Display name (`Parent, Child` for children).
    pub display_name: String,
    /// Company (not a person).
    pub is_company: bool,
    /// Role (`contact`, `invoice`, `delivery`, …); `contact` when empty.
    pub kind: PartnerType,
    /// Parent company `[id, name]`.
    pub parent: Option<Many2one>,
    /// Commercial entity (the company, or itself).
    pub commercial_partner: Option<Many2one>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Street.
    pub street: Option<String>,
    /// Street, second line.
    pub street2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postcode.
    pub zip: Option<String>,
    /// State `[id, "California (US)"]`.
    pub state: Option<Many2one>,
    /// Country `[id, name]`.
    pub country: Option<Many2one>,
    /// VAT number.
    pub vat: Option<String>,
    /// Internal reference.
    pub reference: Option<String>,
    /// Language code.
    pub lang: Option<String>,
    /// Children (contacts and addresses).
    pub child_ids: Vec<i64>,
    /// Not archived; `true` when not sent.
    pub active: bool,
    /// Customer rank (> 0 = customer); 0 when not sent.
    pub customer_rank: i64,
    /// Last change (UTC).
    pub write_date: Option<DateTime<Utc>>,
}

impl Partner {
    /// Fields to request for this version.
    pub fn fields(profile: &Profile) -> Vec<&'static str> {
        let mut f = FIELDS.to_vec();
        f.push(profile.customer_rank_field);
        f
    }

    /// Decodes one row (fields not requested read as empty).
    pub fn from_map(m: &Map, profile: &Profile) -> Result<Self, DecodeError> {
        let r = Record::new(m, MODEL);
        Ok(Partner {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            display_name: r.string_or_empty("display_name")?,
            is_company: r.bool("is_company")?,
            kind: r.opt_string("type")?.map_or(PartnerType::Contact, |t| PartnerType::parse(&t)),
            parent: r.many2one("parent_id")?,
            commercial_partner: r.many2one("commercial_partner_id")?,
            email: r.opt_string("email")?,
            phone: r.opt_string("phone")?,
            street: r.opt_string("street")?,
            street2: r.opt_string("street2")?,
            city: r.opt_string("city")?,
            zip: r.opt_string("zip")?,
            state: r.many2one("state_id")?,
            country: r.many2one("country_id")?,
            vat: r.opt_string("vat")?,
            reference: r.opt_string("ref")?,
            lang: r.opt_string("lang")?,
            child_ids: r.ids("child_ids")?,
            active: r.get("active").is_none() || r.bool("active")?,
            customer_rank: r.opt_i64(profile.customer_rank_field)?.unwrap_or(0),
            write_date: r.opt_datetime("write_date")?,
        })
    }
}

/// Values of a partner to create (a company, a person, or a child address).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPartner {
    /// Name (required, not blank).
    pub name: String,
    /// Company rather than person.
    pub is_company: bool,
    /// Role; `None` = Odoo's default (`contact`).
    pub kind: Option<PartnerType>,
    /// Parent (for contacts and addresses).
    pub parent_id: Option<i64>,
    /// Email.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Street.
    pub street: Option<String>,
    /// Street, second line.
    pub street2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Postcode.
    pub zip: Option<String>,
    /// State id (looked up with [`OpenErpClient::state_by_code`]).
    pub state_id: Option<i64>,
    /// Country id (looked up with [`OpenErpClient::country_by_code`]).
    pub country_id: Option<i64>,
    /// VAT number.
    pub vat: Option<String>,
    /// Internal reference (e.g. the Magento customer id).
    pub reference: Option<String>,
    /// Language code (`en_US`); must be installed in OpenERP.
    pub lang: Option<String>,
    /// Company the partner belongs to (`None` = shared).
    pub company_id: Option<i64>,
    /// Mark as customer (`customer_rank = 1`).
    pub customer: bool,
}

impl NewPartner {
    /// The `create` values for this version; refuses a blank name or a type the version lacks.
    pub fn to_vals(&self, profile: &Profile) -> Result<Map, Error> {
        if self.name.trim().is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "res.partner.name: a partner needs a name"));
        }
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.trim().to_owned()));
        m.insert("is_company".into(), Value::Boolean(self.is_company));
        if let Some(kind) = &self.kind {
            if !profile.partner_types().contains(&kind.as_str()) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("res.partner.type: {:?} does not exist in OpenERP {}.0", kind.as_str(), profile.major),
                ));
            }
            m.insert("type".into(), Value::String(kind.as_str().to_owned()));
        }
        if let Some(p) = self.parent_id {
            m.insert("parent_id".into(), id_value(p));
        }
        for (field, v) in [
            ("email", &self.email),
            ("phone", &self.phone),
            ("street", &self.street),
            ("street2", &self.street2),
            ("city", &self.city),
            ("zip", &self.zip),
            ("vat", &self.vat),
            ("ref", &self.reference),
            ("lang", &self.lang),
        ] {
            if v.as_deref().is_some_and(|s| !s.is_empty()) {
                m.insert(field.into(), text_value(v.as_deref()));
            }
        }
        if self.state_id.is_some() {
            m.insert("state_id".into(), m2o_value(self.state_id));
        }
        if self.country_id.is_some() {
            m.insert("country_id".into(), m2o_value(self.country_id));
        }
        if self.company_id.is_some() {
            m.insert("company_id".into(), m2o_value(self.company_id));
        }
        if self.customer {
            m.insert(profile.customer_rank_field.into(), Value::Integer(1));
        }
        Ok(m)
    }
}

/// A country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// ISO 3166-1 alpha-2 code.
    pub code: String,
}

impl Country {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, COUNTRY_MODEL);
        Ok(Country { id: r.i64("id")?, name: r.string_or_empty("name")?, code: r.string_or_empty("code")? })
    }
}

/// A state or province of a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryState {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Code, unique within its country only.
    pub code: String,
    /// Country `[id, name]`.
    pub country: Option<Many2one>,
}

impl CountryState {
    /// Decodes one row.
    pub fn from_map(m: &Map) -> Result<Self, DecodeError> {
        let r = Record::new(m, STATE_MODEL);
        Ok(CountryState {
            id: r.i64("id")?,
            name: r.string_or_empty("name")?,
            code: r.string_or_empty("code")?,
            country: r.many2one("country_id")?,
        })
    }
}

fn decode_all<T>(rows: &[Map], model: &str, f: impl Fn(&Map) -> Result<T, DecodeError>) -> Result<Vec<T>, Error> {
    rows.iter().map(|m| f(m).map_err(|e| Error::decode(&e).with_call(model, "read"))).collect()
}

impl OpenErpClient {
    /// Partners whose email equals `email` ignoring case (`=ilike` with escaped wildcards, then
    /// an exact case-insensitive check), companies first, then by id.
    pub async fn partners_by_email(&self, email: &str, ctx: &Context) -> Result<Vec<Partner>, Error> {
        let email = email.trim();
        if email.is_empty() {
            return Ok(Vec::new());
        }
        let profile = self.profile().await?;
        let domain = Domain::new().ilike_exact("email", email);
        let opts =
            SearchOpts { order: Some("is_company desc, id asc".into()), limit: Some(self.page_size()), offset: 0 };
        let rows = self.search_read(MODEL, &domain, &Partner::fields(profile), &opts, ctx).await?;
        let all = decode_all(&rows, MODEL, |m| Partner::from_map(m, profile))?;
        Ok(all
            .into_iter()
            .filter(|p| p.email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(email)))
            .collect())
    }

    /// Reads partners by id (missing ids are left out).
    pub async fn read_partners(&self, ids: &[i64], ctx: &Context) -> Result<Vec<Partner>, Error> {
        let profile = self.profile().await?;
        let rows = self.read(MODEL, ids, &Partner::fields(profile), ctx).await?;
        decode_all(&rows, MODEL, |m| Partner::from_map(m, profile))
    }

    /// Children of `parent_id` (contacts and invoice/delivery/other addresses), by id.
    pub async fn partner_children(&self, parent_id: i64, ctx: &Context) -> Result<Vec<Partner>, Error> {
        let profile = self.profile().await?;
        let domain = Domain::new().eq("parent_id", id_value(parent_id));
        let rows = self.search_read_all(MODEL, &domain, &Partner::fields(profile), ctx).await?;
        decode_all(&rows, MODEL, |m| Partner::from_map(m, profile))
    }

    /// Creates one partner; returns its id.
    pub async fn create_partner(&self, p: &NewPartner, ctx: &Context) -> Result<i64, Error> {
        let vals = p.to_vals(self.profile().await?)?;
        self.create(MODEL, vals, ctx).await
    }

    /// Creates several partners in one call (e.g. the children of one customer); ids in order.
    pub async fn create_partners(&self, ps: &[NewPartner], ctx: &Context) -> Result<Vec<i64>, Error> {
        let profile = self.profile().await?;
        let vals = ps.iter().map(|p| p.to_vals(profile)).collect::<Result<Vec<_>, _>>()?;
        self.create_many(MODEL, vals, ctx).await
    }

    /// The country with ISO code `code` (case-insensitive), if any.
    pub async fn country_by_code(&self, code: &str, ctx: &Context) -> Result<Option<Country>, Error> {
        let code = code.trim().to_ascii_uppercase();
        if code.is_empty() {
            return Ok(None);
        }
        let domain = Domain::new().eq("code", Value::String(code));
        let rows = self.search_read(COUNTRY_MODEL, &domain, COUNTRY_FIELDS, &SearchOpts::limit(1), ctx).await?;
        Ok(decode_all(&rows, COUNTRY_MODEL, Country::from_map)?.into_iter().next())
    }

    /// The state with code `code` (case-insensitive) **in** country `country_id`, if any.
    pub async fn state_by_code(
        &self,
        country_id: i64,
        code: &str,
        ctx: &Context,
    ) -> Result<Option<CountryState>, Error> {
        self.find_state(country_id, "code", code, ctx).await
    }

    /// The state named `name` (case-insensitive) in country `country_id`, if any (for shops
    /// that send a region name without a code).
    pub async fn state_by_name(
        &self,
        country_id: i64,
        name: &str,
        ctx: &Context,
    ) -> Result<Option<CountryState>, Error> {
        self.find_state(country_id, "name", name, ctx).await
    }

    async fn find_state(
        &self,
        country_id: i64,
        field: &str,
        text: &str,
        ctx: &Context,
    ) -> Result<Option<CountryState>, Error> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let domain = Domain::new().ilike_exact(field, text).eq("country_id", id_value(country_id));
        let rows = self.search_read(STATE_MODEL, &domain, STATE_FIELDS, &SearchOpts::limit(2), ctx).await?;
        let states = decode_all(&rows, STATE_MODEL, CountryState::from_map)?;
        Ok(states.into_iter().find(|s| s.country.as_ref().is_some_and(|c| c.id == country_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openerp::testutil::recorded_rows;

    fn p17() -> Profile {
        Profile::odoo(17).unwrap()
    }

    #[test]
    fn decodes_recorded_partner_searches_and_reads() {
        let found = recorded_rows("0200-res.partner.search_read-by-email-ilike");
        let azure = Partner::from_map(&found[0], &p17()).unwrap();
        assert_eq!((azure.id, azure.name.as_str(), azure.is_company), (14, "Azure Interior", true));
        assert_eq!(azure.email.as_deref(), Some("azure.Interior24@example.com"));
        assert_eq!(azure.parent, None);
        assert_eq!(azure.kind, PartnerType::Contact);
        assert!(recorded_rows("0210-res.partner.search_read-by-email-eq-miss").is_empty());
        assert!(recorded_rows("0220-res.partner.search_read-by-email-notfound").is_empty());

        let company = Partner::from_map(&recorded_rows("0270-res.partner.read-company")[0], &p17()).unwrap();
        assert_eq!(company.child_ids, vec![46, 44, 45]);
        assert_eq!(company.state, Some(Many2one { id: 13, name: "California (US)".into() }));
        assert_eq!(company.country.as_ref().map(|c| c.id), Some(233));
        assert_eq!(company.vat, None);
        assert_eq!(company.reference.as_deref(), Some("MAGE-CUST-42"));
        assert_eq!(company.street2.as_deref(), Some("Suite 5"));

        let kids: Vec<Partner> = recorded_rows("0280-res.partner.read-children")
            .iter()
            .map(|m| Partner::from_map(m, &p17()).unwrap())
            .collect();
        assert_eq!(
            kids.iter().map(|k| k.kind.clone()).collect::<Vec<_>>(),
            vec![PartnerType::Contact, PartnerType::Delivery, PartnerType::Invoice]
        );
        assert_eq!(kids[0].display_name, "Magento Test Buyer Inc., Jane Buyer");
        assert_eq!(kids[0].parent.as_ref().map(|p| p.id), Some(43));
        assert_eq!(kids[1].email, None, "False email reads as None");

        let again =
            Partner::from_map(&recorded_rows("0290-res.partner.search_read-by-email-found")[0], &p17()).unwrap();
        assert_eq!(again.child_ids, vec![46, 44, 45]);
    }

    #[test]
    fn decodes_countries_and_states_per_country() {
        let us = Country::from_map(&recorded_rows("0170-res.country.search_read-by-code")[0]).unwrap();
        assert_eq!(us, Country { id: 233, name: "United States".into(), code: "US".into() });
        let ca = CountryState::from_map(&recorded_rows("0180-res.country.state.search_read-by-code")[0]).unwrap();
        assert_eq!((ca.id, ca.code.as_str(), ca.country.unwrap().id), (13, "CA", 233));
        let ambiguous: Vec<CountryState> = recorded_rows("0190-res.country.state.search_read-code-ambiguous")
            .iter()
            .map(|m| CountryState::from_map(m).unwrap())
            .collect();
        assert_eq!(ambiguous.len(), 4, "CA exists in 4 countries: always filter by country");
        assert_eq!(ambiguous[1].country.as_ref().map(|c| c.name.as_str()), Some("Italy"));
    }

    #[test]
    fn new_partner_values_match_the_recorded_create() {
        let company = NewPartner {
            name: "Magento Test Buyer Inc.".into(),
            is_company: true,
            email: Some("magento.buyer@example.com".into()),
            phone: Some("+1 555 0100".into()),
            street: Some("1 Market St".into()),
            street2: Some("Suite 5".into()),
            city: Some("San Francisco".into()),
            zip: Some("94105".into()),
            state_id: Some(13),
            country_id: Some(233),
            reference: Some("MAGE-CUST-42".into()),
            lang: Some("en_US".into()),
            customer: true,
            ..NewPartner::default()
        };
        let vals = company.to_vals(&p17()).unwrap();
        assert_eq!(vals.get("state_id"), Some(&Value::Integer(13)));
        assert_eq!(vals.get("customer_rank"), Some(&Value::Integer(1)));
        assert_eq!(vals.get("ref"), Some(&Value::String("MAGE-CUST-42".into())));
        assert!(!vals.contains_key("vat"), "empty values are not sent");
        let delivery = NewPartner {
            name: "Ship".into(),
            kind: Some(PartnerType::Delivery),
            parent_id: Some(43),
            ..NewPartner::default()
        };
        assert_eq!(delivery.to_vals(&p17()).unwrap().get("type"), Some(&Value::String("delivery".into())));
        let private = NewPartner { name: "P".into(), kind: Some(PartnerType::Private), ..NewPartner::default() };
        assert_eq!(private.to_vals(&p17()).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert!(private.to_vals(&Profile::odoo(16).unwrap()).is_ok());
        assert!(NewPartner { name: "  ".into(), ..NewPartner::default() }.to_vals(&p17()).is_err());
    }
}
