//! Generic ORM calls on top of [`OpenErpClient::call`]: search, read (chunked), paged
//! `search_read`, create (one or many), write, unlink.
//!
//! Bulk reads never ask for everything at once: [`Pages`] walks a domain page by page (keyset
//! paging on `id`, ordered `id asc`, page size from the configuration), so 100,000 products never
//! sit in one reply or in memory. Nothing here knows a particular model.

use std::sync::Arc;

use dxr::Value;

use super::client::{OpenErpClient, Request};
use super::error::{Error, ErrorKind};
use super::wire::{Context, Domain, has_non_idempotent_command, id_value};
use crate::rpc::value::{self, Map};

/// Order used whenever the caller gives none, so that results and pages are stable.
pub const DEFAULT_ORDER: &str = "id asc";

/// Options of a `search` / `search_read`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchOpts {
    /// `order` (default [`DEFAULT_ORDER`]).
    pub order: Option<String>,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Skip this many records.
    pub offset: usize,
}

impl SearchOpts {
    /// At most `limit` records, ordered by id.
    pub fn limit(limit: usize) -> Self {
        SearchOpts { limit: Some(limit), ..SearchOpts::default() }
    }

    fn apply(&self, mut req: Request) -> Request {
        req = req.kw("order", Value::String(self.order.clone().unwrap_or_else(|| DEFAULT_ORDER.to_owned())));
        if let Some(limit) = self.limit {
            req = req.kw("limit", id_value(i64::try_from(limit).unwrap_or(i64::MAX)));
        }
        if self.offset > 0 {
            req = req.kw("offset", id_value(i64::try_from(self.offset).unwrap_or(i64::MAX)));
        }
        req
    }
}

/// Turns one row of a page into the caller's type.
pub type RowDecoder<T> = Arc<dyn Fn(&Map) -> Result<T, Error> + Send + Sync>;

fn fields_value(fields: &[impl AsRef<str>]) -> Value {
    Value::Array(fields.iter().map(|f| Value::String(f.as_ref().to_owned())).collect())
}

fn rows(model: &str, method: &str, v: Value) -> Result<Vec<Map>, Error> {
    let items = match v {
        Value::Array(items) => items,
        Value::Boolean(false) => Vec::new(),
        other => {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("expected a list of records, got {}", value::describe(&other)),
            )
            .with_call(model, method));
        }
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Struct(m) => Ok(m),
            other => Err(Error::new(ErrorKind::Decode, format!("expected a record, got {}", value::describe(&other)))
                .with_call(model, method)),
        })
        .collect()
}

/// One row's decoding, kept per record: a row that does not decode becomes `(id, reason)` so
/// the caller fails that record alone; only a row that cannot even say which record it is
/// fails the read.
pub fn row_or_reason<T>(
    m: &Map,
    model: &str,
    decoded: Result<T, value::DecodeError>,
) -> Result<Result<T, (i64, String)>, Error> {
    match decoded {
        Ok(t) => Ok(Ok(t)),
        Err(e) => match value::Record::new(m, model).i64("id") {
            Ok(id) => Ok(Err((id, e.to_string()))),
            Err(_) => Err(Error::decode(&e).with_call(model, "read")),
        },
    }
}

impl OpenErpClient {
    /// Ids matching `domain`.
    pub async fn search(
        &self,
        model: &str,
        domain: &Domain,
        opts: &SearchOpts,
        ctx: &Context,
    ) -> Result<Vec<i64>, Error> {
        let req = opts.apply(Request::new(model, "search").arg(domain.to_value()).context(ctx));
        let v = self.call(req).await?;
        value::to_ids("search", &v).map_err(|e| Error::decode(&e).with_call(model, "search"))
    }

    /// Number of records matching `domain`.
    pub async fn search_count(&self, model: &str, domain: &Domain, ctx: &Context) -> Result<i64, Error> {
        let v = self.call(Request::new(model, "search_count").arg(domain.to_value()).context(ctx)).await?;
        value::to_i64("search_count", &v).map_err(|e| Error::decode(&e).with_call(model, "search_count"))
    }

    /// Reads `fields` of `ids`, in chunks of the page size. Ids that do not exist are silently
    /// left out (Odoo's `read` does not fault on them); use [`OpenErpClient::read_one`] when one
    /// record must exist.
    pub async fn read(&self, model: &str, ids: &[i64], fields: &[&str], ctx: &Context) -> Result<Vec<Map>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(self.page_size()) {
            let req = Request::new(model, "read").on_ids(chunk).kw("fields", fields_value(fields)).context(ctx);
            out.extend(rows(model, "read", self.call(req).await?)?);
        }
        Ok(out)
    }

    /// Reads one record; [`ErrorKind::NotFound`] when it does not exist (or is not visible).
    pub async fn read_one(&self, model: &str, id: i64, fields: &[&str], ctx: &Context) -> Result<Map, Error> {
        self.read(model, &[id], fields, ctx).await?.into_iter().next().ok_or_else(|| {
            Error::new(ErrorKind::NotFound, format!("{model} record {id} does not exist"))
                .with_call(model, "read")
                .with_ids(&[id])
        })
    }

    /// One `search_read` call (give a `limit`, or use [`OpenErpClient::pages`] for big sets).
    pub async fn search_read(
        &self,
        model: &str,
        domain: &Domain,
        fields: &[&str],
        opts: &SearchOpts,
        ctx: &Context,
    ) -> Result<Vec<Map>, Error> {
        let req =
            Request::new(model, "search_read").arg(domain.to_value()).kw("fields", fields_value(fields)).context(ctx);
        rows(model, "search_read", self.call(opts.apply(req)).await?)
    }

    /// Every record matching `domain`, read page by page (for small models such as taxes or
    /// categories; use [`OpenErpClient::pages`] to process big sets as they come).
    pub async fn search_read_all(
        &self,
        model: &str,
        domain: &Domain,
        fields: &[&str],
        ctx: &Context,
    ) -> Result<Vec<Map>, Error> {
        self.pages(model, domain, fields, ctx).collect_all().await
    }

    /// Walks the records matching `domain` page by page.
    pub fn pages(&self, model: &str, domain: &Domain, fields: &[&str], ctx: &Context) -> Pages<Map> {
        self.pages_as(model, domain, fields, ctx, Arc::new(|m: &Map| Ok(m.clone())))
    }

    /// Walks the records matching `domain` page by page, decoding each row with `decode`.
    pub fn pages_as<T>(
        &self,
        model: &str,
        domain: &Domain,
        fields: &[&str],
        ctx: &Context,
        decode: RowDecoder<T>,
    ) -> Pages<T> {
        Pages {
            client: self.clone(),
            model: model.to_owned(),
            domain: domain.clone(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
            context: ctx.clone(),
            page_size: self.page_size(),
            last_id: None,
            done: false,
            requests: 0,
            decode,
        }
    }

    /// Creates one record; returns its id. Not repeated after a transport failure: that is an
    /// [`ErrorKind::Uncertain`] error (the record may exist).
    pub async fn create(&self, model: &str, vals: Map, ctx: &Context) -> Result<i64, Error> {
        let v =
            self.call(Request::new(model, "create").arg(Value::Struct(vals)).context(ctx).idempotent(false)).await?;
        value::to_i64("create", &v).map_err(|e| Error::decode(&e).with_call(model, "create"))
    }

    /// Creates several records in one call (`create` with a list); returns their ids in order.
    /// All or nothing: Odoo runs the call in one transaction.
    pub async fn create_many(&self, model: &str, vals: Vec<Map>, ctx: &Context) -> Result<Vec<i64>, Error> {
        if vals.is_empty() {
            return Ok(Vec::new());
        }
        let n = vals.len();
        let list = Value::Array(vals.into_iter().map(Value::Struct).collect());
        let v = self.call(Request::new(model, "create").arg(list).context(ctx).idempotent(false)).await?;
        let ids = value::to_ids("create", &v).map_err(|e| Error::decode(&e).with_call(model, "create"))?;
        if ids.len() != n {
            return Err(Error::new(ErrorKind::Decode, format!("created {} records for {n} values", ids.len()))
                .with_call(model, "create")
                .with_ids(&ids));
        }
        Ok(ids)
    }

    /// Writes `vals` on `ids`. Repeated after a transport failure unless `vals` holds x2many
    /// commands that create or delete records.
    pub async fn write(&self, model: &str, ids: &[i64], vals: Map, ctx: &Context) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let idempotent = !has_non_idempotent_command(&vals);
        let req = Request::new(model, "write").on_ids(ids).arg(Value::Struct(vals)).context(ctx).idempotent(idempotent);
        self.call(req).await.map(|_| ())
    }

    /// Deletes `ids`. After a transport failure it checks which records are left and deletes
    /// those, so a delete that did commit is not reported as a failure.
    pub async fn unlink(&self, model: &str, ids: &[i64], ctx: &Context) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let req = |ids: &[i64]| Request::new(model, "unlink").on_ids(ids).context(ctx).idempotent(false);
        match self.call(req(ids)).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Uncertain => {
                let all = ctx.clone().with_active_test(false);
                let left = self.search(model, &Domain::new().in_ids("id", ids), &SearchOpts::default(), &all).await?;
                if left.is_empty() {
                    return Ok(());
                }
                tracing::warn!(
                    model,
                    left = left.len(),
                    "unlink failed in transit; deleting the records that are left"
                );
                self.call(req(&left)).await.map(|_| ())
            }
            Err(e) => Err(e),
        }
    }
}

/// A paged walk over the records of a domain (keyset paging: `id > last` and `order id asc`).
pub struct Pages<T> {
    client: OpenErpClient,
    model: String,
    domain: Domain,
    fields: Vec<String>,
    context: Context,
    page_size: usize,
    last_id: Option<i64>,
    done: bool,
    requests: usize,
    decode: RowDecoder<T>,
}

impl<T> Pages<T> {
    /// Uses pages of `n` records instead of the configured page size.
    pub fn with_page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Calls made so far.
    pub fn requests(&self) -> usize {
        self.requests
    }

    /// The next page, or `None` when the walk is over. A short page ends the walk without an
    /// extra call.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, Error> {
        if self.done {
            return Ok(None);
        }
        let domain = match self.last_id {
            Some(last) => Domain::and(self.domain.clone(), Domain::new().term("id", ">", id_value(last))),
            None => self.domain.clone(),
        };
        let fields: Vec<&str> = self.fields.iter().map(String::as_str).collect();
        let opts = SearchOpts::limit(self.page_size);
        self.requests += 1;
        let rows = self.client.search_read(&self.model, &domain, &fields, &opts, &self.context).await?;
        if rows.len() < self.page_size {
            self.done = true;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        let mut max_id = self.last_id.unwrap_or(i64::MIN);
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = value::Record::new(row, &self.model)
                .i64("id")
                .map_err(|e| Error::decode(&e).with_call(&self.model, "search_read"))?;
            max_id = max_id.max(id);
            out.push((self.decode)(row).map_err(|e| e.with_call(&self.model, "search_read").with_ids(&[id]))?);
        }
        if self.last_id.is_some_and(|last| max_id <= last) {
            return Err(Error::new(ErrorKind::Decode, format!("paging did not advance past id {max_id}"))
                .with_call(&self.model, "search_read"));
        }
        self.last_id = Some(max_id);
        Ok(Some(out))
    }

    /// Reads every remaining page into one vector.
    pub async fn collect_all(mut self) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}
