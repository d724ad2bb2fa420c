//! The routes, their handlers and the views the templates render.

use super::read::{self, Change, Columns, Cursor, Filters, Visible};
use super::render::{self, Html, Kind, url_part};
use super::{AuthorizeFn, ConnectFn, Table};
use crate::activity::Verb;
use askama::Template;
use axum::Router;
use axum::extract::{OriginalUri, Path, Query, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use http::StatusCode;
use http::header::{self, HeaderValue};
use http::request::Parts;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

/// Activities shown per transaction on the actor page.
const PER_TRANSACTION: usize = 20;
/// Transactions per actor page.
const TRANSACTIONS: usize = 20;
/// Activities per transaction page.
const TRANSACTION_PAGE: usize = 200;
/// Entries of a record's history shown (newest first).
const HISTORY_SHOWN: usize = 1000;

/// What every page needs.
pub(crate) struct Inner {
    pub(crate) connect: ConnectFn,
    pub(crate) authorize: AuthorizeFn,
    pub(crate) audit_schema: &'static str,
    pub(crate) actor_type: &'static str,
    pub(crate) tables: &'static [(&'static str, &'static str)],
    pub(crate) page_size: usize,
}

type Shared = State<Arc<Inner>>;

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/table/{schema}/{table}", get(table))
        .route("/table/{schema}/{table}/record", get(record))
        .route("/actor", get(actor_lookup))
        .route("/actor/{actor}", get(actor))
        .route("/transaction/{id}", get(transaction))
        .route("/assets/explorer.css", get(css))
        .route("/assets/explorer.js", get(js))
        .with_state(inner)
}

/// A page that could not be shown.
#[derive(Debug)]
enum Failure {
    NotFound(String),
    Forbidden(String),
    BadRequest(String),
    Database(String),
}

/// The message page.
#[derive(Template)]
#[template(path = "explorer/message.html")]
struct MessagePage {
    page: Layout,
    heading: String,
    message: String,
}

impl From<read::ReadError> for Failure {
    fn from(e: read::ReadError) -> Self {
        match e {
            read::ReadError::Input(m) => Failure::BadRequest(format!(
                "The audit trail cannot be searched for this value: {m}."
            )),
            read::ReadError::Failed(m) => Failure::Database(m),
        }
    }
}

impl Failure {
    fn into_response(self, base: &str) -> Response {
        let (status, heading, message) = match self {
            Failure::NotFound(m) => (StatusCode::NOT_FOUND, "Nothing to show", m),
            Failure::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m),
            Failure::BadRequest(m) => (StatusCode::BAD_REQUEST, "Cannot show this", m),
            Failure::Database(m) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The audit trail could not be read",
                m,
            ),
        };
        let page = MessagePage {
            page: Layout::new(base, heading, Vec::new()),
            heading: heading.to_owned(),
            message,
        };
        html(status, page.render())
    }
}

/// Security headers of every response: no inline script, no plugin, no framing, no
/// caching of audit data, no sniffing.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn html(status: StatusCode, rendered: askama::Result<String>) -> Response {
    let response = match rendered {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("the page could not be rendered: {e}"),
        )
            .into_response(),
    };
    secure(response)
}

/// The request as the handlers need it: its parts for the authorization function, and
/// where the explorer is mounted.
struct Viewer {
    parts: Parts,
    base: String,
}

impl Viewer {
    fn new(request: Request) -> Self {
        let (parts, _) = request.into_parts();
        let inner = parts.uri.path().to_owned();
        let original = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| inner.clone(), |o| o.0.path().to_owned());
        let base = if inner == "/" {
            original.trim_end_matches('/').to_owned()
        } else {
            original
                .strip_suffix(inner.as_str())
                .unwrap_or("")
                .to_owned()
        };
        Self { parts, base }
    }

    fn may_see(&self, inner: &Inner, schema: &str, table: &str) -> bool {
        (inner.authorize)(
            &self.parts,
            Table {
                schema,
                name: table,
            },
        )
    }

    /// The audited tables this viewer may see, in the generated code's order.
    fn visible(&self, inner: &Inner) -> Visible {
        let mut v = Visible::default();
        for (schema, table) in inner.tables {
            if self.may_see(inner, schema, table) {
                v.schemas.push((*schema).to_owned());
                v.tables.push((*table).to_owned());
            }
        }
        v
    }
}

/// The frame of every page.
struct Layout {
    base: String,
    /// The index page: the mount point itself (a nested router answers there, not at
    /// the path with a slash added).
    home: String,
    title: String,
    /// Breadcrumbs after "Audit": text and link.
    crumbs: Vec<(Html, Option<String>)>,
}

impl Layout {
    fn new(base: &str, title: &str, crumbs: Vec<(Html, Option<String>)>) -> Self {
        Self {
            base: base.to_owned(),
            home: if base.is_empty() {
                "/".to_owned()
            } else {
                base.to_owned()
            },
            title: title.to_owned(),
            crumbs,
        }
    }
}

/// Links between pages.
fn table_href(base: &str, schema: &str, table: &str) -> String {
    format!("{base}/table/{}/{}", url_part(schema), url_part(table))
}

fn record_href(base: &str, schema: &str, table: &str, key: &str) -> String {
    format!(
        "{}/record?key={}",
        table_href(base, schema, table),
        url_part(key)
    )
}

fn actor_href(base: &str, actor: &str) -> String {
    format!("{base}/actor/{}", url_part(actor))
}

fn transaction_href(base: &str, id: i64) -> String {
    format!("{base}/transaction/{id}")
}

fn table_label(schema: &str, table: &str) -> Html {
    if schema == "public" {
        render::text(table)
    } else {
        render::text(&format!("{schema}.{table}"))
    }
}

/// One field of a change: its column, the old and new value where there is one.
struct FieldView {
    name: Html,
    old: Option<Html>,
    new: Option<Html>,
}

/// One change as the pages show it.
struct ChangeView {
    id: i64,
    time: Html,
    verb: &'static str,
    table: Html,
    table_href: String,
    key: Option<Html>,
    record_href: Option<String>,
    actor: Option<Html>,
    actor_href: Option<String>,
    client_addr: Option<String>,
    context: Option<Html>,
    transaction_href: Option<String>,
    transaction_id: Option<i64>,
    fields: Vec<FieldView>,
    /// For an update that changed the record's key: the key before.
    previous_key: Option<Html>,
}

/// The recorded JSON object `data` as (column, raw value) pairs.
fn object(data: Option<&RawValue>) -> BTreeMap<String, Box<RawValue>> {
    data.and_then(|d| serde_json::from_str(d.get()).ok())
        .unwrap_or_default()
}

/// The columns of `data` in table order (current columns first, then those no longer
/// in the table, by name).
fn ordered<'a>(columns: &Columns, names: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut names: Vec<&String> = names.collect();
    names.sort_by_key(|n| {
        (
            columns
                .columns
                .iter()
                .position(|c| &c.name == *n)
                .unwrap_or(usize::MAX),
            (*n).clone(),
        )
    });
    names.into_iter().cloned().collect()
}

fn fields(change: &Change, columns: &Columns) -> Vec<FieldView> {
    let old = object(change.change.old.as_deref());
    let changed = object(change.change.changed.as_deref());
    let field = |name: &String, old: Option<Html>, new: Option<Html>| FieldView {
        name: render::text(name),
        old,
        new,
    };
    match change.verb {
        Verb::Insert => ordered(columns, changed.keys())
            .iter()
            .map(|n| {
                let new = render::value(changed.get(n).map(|v| &**v), columns.kind(n));
                field(n, None, Some(new))
            })
            .collect(),
        Verb::Delete => ordered(columns, old.keys())
            .iter()
            .map(|n| {
                let was = render::value(old.get(n).map(|v| &**v), columns.kind(n));
                field(n, Some(was), None)
            })
            .collect(),
        Verb::Update => ordered(columns, changed.keys())
            .iter()
            .map(|n| {
                let kind = columns.kind(n);
                let was = render::value(old.get(n).map(|v| &**v), kind);
                let new = render::value(changed.get(n).map(|v| &**v), kind);
                field(n, Some(was), Some(new))
            })
            .collect(),
        Verb::Truncate => Vec::new(),
    }
}

fn view(base: &str, change: &Change, columns: &Columns, previous_key: Option<&str>) -> ChangeView {
    let (schema, table) = (&change.schema_name, &change.table_name);
    let key = change.object_id.as_deref().map(RawValue::get);
    let tx = change.transaction.as_ref();
    ChangeView {
        id: change.id,
        time: render::time(change.issued_at),
        verb: change.verb.as_str(),
        table: table_label(schema, table),
        table_href: table_href(base, schema, table),
        key: key.map(render::text),
        record_href: key.map(|k| record_href(base, schema, table, k)),
        actor: tx.and_then(|t| t.actor_id.as_deref()).map(render::text),
        actor_href: tx
            .and_then(|t| t.actor_id.as_deref())
            .map(|a| actor_href(base, a)),
        client_addr: tx.and_then(|t| t.client_addr).map(|a| a.to_string()),
        context: tx
            .and_then(|t| t.context.as_ref())
            .filter(|c| !c.as_object().is_some_and(|o| o.is_empty()))
            .map(|c| {
                let text = c.to_string();
                match RawValue::from_string(text) {
                    Ok(raw) => render::value(Some(&raw), Kind::Json),
                    Err(_) => render::text(&c.to_string()),
                }
            }),
        transaction_href: tx.map(|t| transaction_href(base, t.id)),
        transaction_id: tx.map(|t| t.id),
        fields: fields(change, columns),
        previous_key: previous_key.map(render::text),
    }
}

/// The current columns of every table among `changes`.
async fn columns_of(
    client: &tokio_postgres::Client,
    changes: impl Iterator<Item = &Change>,
) -> Result<HashMap<(String, String), Columns>, Failure> {
    let mut tables: Vec<(String, String)> = changes
        .map(|c| (c.schema_name.clone(), c.table_name.clone()))
        .collect();
    tables.sort();
    tables.dedup();
    read::columns(client, &tables).await.map_err(Failure::from)
}

fn views(
    base: &str,
    changes: &[Change],
    columns: &HashMap<(String, String), Columns>,
) -> Vec<ChangeView> {
    let none = Columns::default();
    changes
        .iter()
        .map(|c| {
            let cols = columns
                .get(&(c.schema_name.clone(), c.table_name.clone()))
                .unwrap_or(&none);
            view(base, c, cols, None)
        })
        .collect()
}

async fn connect(inner: &Inner) -> Result<super::Connection, Failure> {
    (inner.connect)()
        .await
        .map_err(|e| Failure::Database(format!("no database connection: {e}")))
}

/// Runs a page handler and turns its failure into a message page.
async fn page<F>(viewer: Viewer, run: impl FnOnce(Viewer) -> F) -> Response
where
    F: Future<Output = Result<Response, (String, Failure)>>,
{
    match run(viewer).await {
        Ok(r) => r,
        Err((base, failure)) => failure.into_response(&base),
    }
}

// ----- the index -----

struct TableLink {
    label: Html,
    href: String,
}

#[derive(Template)]
#[template(path = "explorer/index.html")]
struct IndexPage {
    page: Layout,
    tables: Vec<TableLink>,
}

async fn index(State(inner): Shared, request: Request) -> Response {
    let viewer = Viewer::new(request);
    let base = viewer.base.clone();
    let visible = viewer.visible(&inner);
    let tables = visible
        .schemas
        .iter()
        .zip(&visible.tables)
        .map(|(s, t)| TableLink {
            label: table_label(s, t),
            href: table_href(&base, s, t),
        })
        .collect();
    let page = IndexPage {
        page: Layout::new(&base, "Audit trail", Vec::new()),
        tables,
    };
    html(StatusCode::OK, page.render())
}

// ----- a table's activity -----

#[derive(Debug, Default, Deserialize)]
struct TableQuery {
    verb: Option<String>,
    actor: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "explorer/table.html")]
struct TablePage {
    page: Layout,
    table: Html,
    changes: Vec<ChangeView>,
    verb: String,
    actor: String,
    from: String,
    to: String,
    filtered: bool,
    newest: Option<String>,
    newer: Option<String>,
    older: Option<String>,
    /// For a page filtered by verb or time: the id range searched.
    searched: Option<String>,
    self_href: String,
}

/// A time filter: `YYYY-MM-DD` (a UTC day; as an end, the whole day is included) or
/// `YYYY-MM-DDTHH:MM[:SS]` (UTC).
fn parse_time(text: &str, end: bool) -> Result<Option<DateTime<Utc>>, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let day = if end {
            day.succ_opt().unwrap_or(day)
        } else {
            day
        };
        return Ok(Some(day.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    let trimmed = text.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(trimmed, format) {
            return Ok(Some(at.and_utc()));
        }
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    Err(Failure::BadRequest(format!(
        "`{text}` is not a time: write a UTC day such as 2026-05-01 or a time such as 2026-05-01T14:30"
    )))
}

fn parse_id(text: Option<&str>, what: &str) -> Result<Option<i64>, Failure> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| Failure::BadRequest(format!("`{t}` is not a valid {what}"))),
    }
}

/// `name=value` pairs as a query string (values encoded), empty values left out.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_part(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// Checks that `schema.table` is an audited table this viewer may see.
fn check_table(inner: &Inner, viewer: &Viewer, schema: &str, table: &str) -> Result<(), Failure> {
    if !inner.tables.contains(&(schema, table)) {
        return Err(Failure::NotFound(format!(
            "{schema}.{table} is not an audited table."
        )));
    }
    if !viewer.may_see(inner, schema, table) {
        return Err(Failure::Forbidden(format!(
            "You may not see the history of {schema}.{table}."
        )));
    }
    Ok(())
}

async fn table(
    State(inner): Shared,
    Path((schema, table)): Path<(String, String)>,
    Query(q): Query<TableQuery>,
    request: Request,
) -> Response {
    page(Viewer::new(request), |viewer| async move {
        let base = viewer.base.clone();
        table_page(&inner, &viewer, &schema, &table, q)
            .await
            .map_err(|f| (base, f))
    })
    .await
}

async fn table_page(
    inner: &Inner,
    viewer: &Viewer,
    schema: &str,
    table: &str,
    q: TableQuery,
) -> Result<Response, Failure> {
    check_table(inner, viewer, schema, table)?;
    let base = &viewer.base;
    let verb = q.verb.clone().unwrap_or_default();
    if !verb.is_empty() && verb.parse::<Verb>().is_err() {
        return Err(Failure::BadRequest(format!(
            "`{verb}` is not a verb: insert, update, delete or truncate"
        )));
    }
    let actor = q.actor.clone().unwrap_or_default().trim().to_owned();
    let from_text = q.from.clone().unwrap_or_default();
    let to_text = q.to.clone().unwrap_or_default();
    let filters = Filters {
        verb: Some(verb.clone()).filter(|v| !v.is_empty()),
        actor: Some(actor.clone()).filter(|a| !a.is_empty()),
        from: parse_time(&from_text, false)?,
        to: parse_time(&to_text, true)?,
    };
    let cursor = match (
        parse_id(q.before.as_deref(), "page position")?,
        parse_id(q.after.as_deref(), "page position")?,
    ) {
        (Some(b), _) => Cursor::Before(b),
        (None, Some(a)) => Cursor::After(a),
        (None, None) => Cursor::Newest,
    };
    let client = connect(inner).await?;
    let found = read::table_page(
        &client,
        inner.audit_schema,
        inner.actor_type,
        schema,
        table,
        &filters,
        cursor,
        inner.page_size,
    )
    .await
    .map_err(Failure::from)?;
    let changes = found.changes;
    let columns = columns_of(&client, changes.iter()).await?;
    let filter_pairs = |extra: (&'static str, String)| {
        let extra_value = extra.1;
        query_string(&[
            ("verb", &verb),
            ("actor", &actor),
            ("from", from_text.trim()),
            ("to", to_text.trim()),
            (extra.0, &extra_value),
        ])
    };
    let self_href = table_href(base, schema, table);
    let older = found
        .older
        .map(|id| format!("{self_href}{}", filter_pairs(("before", id.to_string()))));
    let newer = found
        .newer
        .map(|id| format!("{self_href}{}", filter_pairs(("after", id.to_string()))));
    let newest = (cursor != Cursor::Newest)
        .then(|| format!("{self_href}{}", filter_pairs(("", String::new()))));
    let searched = found.searched.map(|(low, high)| {
        format!(
            "Searched activities #{low} to #{}; the links below search further.",
            high - 1
        )
    });
    let label = table_label(schema, table);
    let page = TablePage {
        page: Layout::new(
            base,
            &format!("{schema}.{table}"),
            vec![(label.clone(), Some(self_href.clone()))],
        ),
        table: label,
        changes: views(base, &changes, &columns),
        verb,
        actor,
        from: from_text,
        to: to_text,
        filtered: filters.verb.is_some()
            || filters.actor.is_some()
            || filters.from.is_some()
            || filters.to.is_some(),
        newest,
        newer,
        older,
        searched,
        self_href,
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ----- a record's history -----

#[derive(Debug, Default, Deserialize)]
struct RecordQuery {
    key: Option<String>,
}

#[derive(Template)]
#[template(path = "explorer/record.html")]
struct RecordPage {
    page: Layout,
    table: Html,
    table_href: String,
    key: Html,
    key_columns: String,
    changes: Vec<ChangeView>,
    total: usize,
}

/// The key as typed: JSON (`7`, `"a"`, `[1, "x"]`), or else the text itself as a JSON
/// string.
fn key_json(text: &str) -> String {
    let text = text.trim();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.to_string(),
        Err(_) => serde_json::Value::String(text.to_owned()).to_string(),
    }
}

async fn record(
    State(inner): Shared,
    Path((schema, table)): Path<(String, String)>,
    Query(q): Query<RecordQuery>,
    request: Request,
) -> Response {
    page(Viewer::new(request), |viewer| async move {
        let base = viewer.base.clone();
        record_page(&inner, &viewer, &schema, &table, q)
            .await
            .map_err(|f| (base, f))
    })
    .await
}

async fn record_page(
    inner: &Inner,
    viewer: &Viewer,
    schema: &str,
    table: &str,
    q: RecordQuery,
) -> Result<Response, Failure> {
    check_table(inner, viewer, schema, table)?;
    let base = &viewer.base;
    let typed = q.key.unwrap_or_default();
    if typed.trim().is_empty() {
        return Err(Failure::BadRequest(
            "Which record? Give its key, e.g. ?key=7, or ?key=[1,\"x\"] for a composite key."
                .to_owned(),
        ));
    }
    let key = key_json(&typed);
    let client = connect(inner).await?;
    let wanted = vec![(schema.to_owned(), table.to_owned())];
    let columns = read::columns(&client, &wanted)
        .await
        .map_err(Failure::from)?;
    let cols = columns.get(&wanted[0]).cloned().unwrap_or_default();
    let history = read::history(&client, inner.audit_schema, schema, table, &key, &cols.key)
        .await
        .map_err(Failure::from)?;
    let total = history.len();
    // Newest first; an update whose recorded key differs from the next older entry's
    // changed the key.
    let mut changes = Vec::new();
    for (i, change) in history.iter().enumerate().rev().take(HISTORY_SHOWN) {
        let previous = i
            .checked_sub(1)
            .and_then(|p| history[p].object_id.as_deref())
            .map(RawValue::get)
            .filter(|p| {
                change.verb == Verb::Update
                    && Some(*p) != change.object_id.as_deref().map(RawValue::get)
            });
        changes.push(view(base, change, &cols, previous));
    }
    let label = table_label(schema, table);
    let thref = table_href(base, schema, table);
    let page = RecordPage {
        page: Layout::new(
            base,
            &format!("{schema}.{table} {key}"),
            vec![
                (label.clone(), Some(thref.clone())),
                (render::text(&key), None),
            ],
        ),
        table: label,
        table_href: thref,
        key: render::text(&key),
        key_columns: cols.key.join(", "),
        changes,
        total,
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ----- an actor's activity -----

#[derive(Debug, Default, Deserialize)]
struct ActorQuery {
    id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<String>,
}

/// `/actor?id=…` (the lookup form) goes to the actor's permalink.
async fn actor_lookup(Query(q): Query<ActorQuery>, request: Request) -> Response {
    let viewer = Viewer::new(request);
    match q.id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => {
            let target = format!(
                "{}{}",
                actor_href(&viewer.base, id),
                query_string(&[
                    ("from", q.from.as_deref().unwrap_or("")),
                    ("to", q.to.as_deref().unwrap_or(""))
                ])
            );
            secure(Redirect::to(&target).into_response())
        }
        None => Failure::BadRequest("Which actor? Give their id.".to_owned())
            .into_response(&viewer.base),
    }
}

struct TransactionGroup {
    href: String,
    id: i64,
    time: Html,
    client_addr: Option<String>,
    context: Option<Html>,
    changes: Vec<ChangeView>,
    /// How many more changes the transaction page shows.
    hidden: i64,
    count: String,
}

#[derive(Template)]
#[template(path = "explorer/actor.html")]
struct ActorPage {
    page: Layout,
    actor: Html,
    actor_raw: String,
    from: String,
    to: String,
    groups: Vec<TransactionGroup>,
    older: Option<String>,
    first_page: Option<String>,
}

async fn actor(
    State(inner): Shared,
    Path(actor): Path<String>,
    Query(q): Query<ActorQuery>,
    request: Request,
) -> Response {
    page(Viewer::new(request), |viewer| async move {
        let base = viewer.base.clone();
        actor_page(&inner, &viewer, &actor, q)
            .await
            .map_err(|f| (base, f))
    })
    .await
}

/// The actor page's cursor: `RFC 3339 time~transaction id`.
fn parse_cursor(text: Option<&str>) -> Result<read::TransactionCursor, Failure> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad = || Failure::BadRequest(format!("`{text}` is not a valid page position"));
    let (time, id) = text.rsplit_once('~').ok_or_else(bad)?;
    let time = DateTime::parse_from_rfc3339(time).map_err(|_| bad())?;
    let id = id.parse().map_err(|_| bad())?;
    Ok(Some((time.with_timezone(&Utc), id)))
}

async fn actor_page(
    inner: &Inner,
    viewer: &Viewer,
    actor: &str,
    q: ActorQuery,
) -> Result<Response, Failure> {
    let base = &viewer.base;
    let from_text = q.from.clone().unwrap_or_default();
    let to_text = q.to.clone().unwrap_or_default();
    let earliest =
        NaiveDate::from_ymd_opt(1, 1, 1).map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    let latest =
        NaiveDate::from_ymd_opt(9999, 12, 31).map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
    let range = (
        parse_time(&from_text, false)?
            .or(earliest)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
        parse_time(&to_text, true)?
            .or(latest)
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    );
    let cursor = parse_cursor(q.before.as_deref())?;
    let visible = viewer.visible(inner);
    let client = connect(inner).await?;
    let (transactions, next) = read::actor_page(
        &client,
        inner.audit_schema,
        inner.actor_type,
        actor,
        range,
        cursor,
        &visible,
        TRANSACTIONS,
        PER_TRANSACTION,
    )
    .await
    .map_err(Failure::from)?;
    let columns = columns_of(&client, transactions.iter().flat_map(|t| t.changes.iter())).await?;
    let groups = transactions
        .iter()
        .filter_map(|t| {
            let first = t.changes.first()?;
            let tx = first.transaction.as_ref()?;
            let shown = t.changes.len() as i64;
            let view = view(base, first, &Columns::default(), None);
            Some(TransactionGroup {
                href: transaction_href(base, tx.id),
                id: tx.id,
                time: render::time(tx.issued_at),
                client_addr: view.client_addr,
                context: view.context,
                changes: views(base, &t.changes, &columns),
                hidden: t.count - shown,
                count: if t.count >= read::COUNT_BOUND {
                    format!("{}+ changes", read::COUNT_BOUND)
                } else if t.count == 1 {
                    "1 change".to_owned()
                } else {
                    format!("{} changes", t.count)
                },
            })
        })
        .collect();
    let own = actor_href(base, actor);
    let older = next.map(|(at, id)| {
        format!(
            "{own}{}",
            query_string(&[
                ("from", from_text.trim()),
                ("to", to_text.trim()),
                (
                    "before",
                    &format!("{}~{id}", at.format("%Y-%m-%dT%H:%M:%S%.6fZ"))
                ),
            ])
        )
    });
    let first_page = cursor.map(|_| {
        format!(
            "{own}{}",
            query_string(&[("from", from_text.trim()), ("to", to_text.trim())])
        )
    });
    let page = ActorPage {
        page: Layout::new(
            base,
            &format!("actor {actor}"),
            vec![(render::text(&format!("actor {actor}")), Some(own))],
        ),
        actor: render::text(actor),
        actor_raw: actor.to_owned(),
        from: from_text,
        to: to_text,
        groups,
        older,
        first_page,
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ----- one transaction -----

#[derive(Debug, Default, Deserialize)]
struct TransactionQuery {
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "explorer/transaction.html")]
struct TransactionPage {
    page: Layout,
    id: i64,
    time: Html,
    actor: Option<Html>,
    actor_href: Option<String>,
    client_addr: Option<String>,
    context: Option<Html>,
    changes: Vec<ChangeView>,
    next: Option<String>,
    first_page: Option<String>,
}

async fn transaction(
    State(inner): Shared,
    Path(id): Path<String>,
    Query(q): Query<TransactionQuery>,
    request: Request,
) -> Response {
    page(Viewer::new(request), |viewer| async move {
        let base = viewer.base.clone();
        transaction_page(&inner, &viewer, &id, q)
            .await
            .map_err(|f| (base, f))
    })
    .await
}

async fn transaction_page(
    inner: &Inner,
    viewer: &Viewer,
    id: &str,
    q: TransactionQuery,
) -> Result<Response, Failure> {
    let base = &viewer.base;
    let id = parse_id(Some(id), "transaction id")?.unwrap_or_default();
    let after = parse_id(q.after.as_deref(), "page position")?;
    let visible = viewer.visible(inner);
    let client = connect(inner).await?;
    let (changes, more) = read::transaction_page(
        &client,
        inner.audit_schema,
        id,
        after.unwrap_or(i64::MIN),
        &visible,
        TRANSACTION_PAGE,
    )
    .await
    .map_err(Failure::from)?;
    let Some(first) = changes.first() else {
        return Err(Failure::NotFound(format!(
            "No changes you may see were recorded in transaction {id}."
        )));
    };
    let Some(tx) = first.transaction.clone() else {
        return Err(Failure::NotFound(format!("No transaction {id}.")));
    };
    let columns = columns_of(&client, changes.iter()).await?;
    let head = view(base, first, &Columns::default(), None);
    let own = transaction_href(base, id);
    let page = TransactionPage {
        page: Layout::new(
            base,
            &format!("transaction {id}"),
            vec![(
                render::text(&format!("transaction {id}")),
                Some(own.clone()),
            )],
        ),
        id,
        time: render::time(tx.issued_at),
        actor: head.actor,
        actor_href: head.actor_href,
        client_addr: head.client_addr,
        context: head.context,
        next: more
            .then(|| changes.last().map(|c| format!("{own}?after={}", c.id)))
            .flatten(),
        first_page: after.map(|_| own.clone()),
        changes: views(base, &changes, &columns),
    };
    Ok(html(StatusCode::OK, page.render()))
}

// ----- assets -----

async fn css() -> Response {
    secure(
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            include_str!("assets/explorer.css"),
        )
            .into_response(),
    )
}

async fn js() -> Response {
    secure(
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            include_str!("assets/explorer.js"),
        )
            .into_response(),
    )
}
