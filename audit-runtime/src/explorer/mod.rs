//! The audit explorer: history pages for people, as an axum [`Router`] the application
//! mounts under a path of its choice, behind its own authentication. Feature `explorer`.
//!
//! Four server-rendered pages (HTML, no JavaScript needed; a small script only shows
//! times in the viewer's zone on request), linked to each other:
//!
//! | page | path (under the mount point) | served by |
//! |---|---|---|
//! | the tables the viewer may see | `/` | |
//! | a table's recent activity, filtered by verb, actor and time, in pages | `/table/{schema}/{table}?verb=&actor=&from=&to=&before=` | activity primary key (a verb or time filter searches 20,000 ids per page, newest first, with links to search on), or the actor index |
//! | a record's history, newest first, a field-by-field diff for updates | `/table/{schema}/{table}/record?key=` | the record index, following key changes like [`query::history_async`](crate::query::history_async) |
//! | an actor's activity in a time range, grouped by transaction | `/actor/{actor_id}?from=&to=` | the actor index, then `transaction_id` |
//! | one transaction's changes, with its actor and context | `/transaction/{id}` | `transaction_id` |
//!
//! Every page is a permalink (its state is in its path and query), pages use keyset
//! pagination (never `OFFSET`), and nothing is reachable until the application says who
//! may see which table: [`ExplorerBuilder::build`] fails without an
//! [`authorize`](ExplorerBuilder::authorize) function. Tables the viewer may not see are
//! left out of every page (a table page answers 403, a transaction with nothing visible
//! 404). Every value from the audit trail is HTML-escaped, with invisible and
//! direction-changing characters (bidi overrides) shown as code points; responses carry
//! a `Content-Security-Policy` that allows no inline script, no plugin and no framing.
//! The pages only read: every route is `GET`, every statement a `SELECT`.
//!
//! Values are shown as recorded, typed by the table's current column types:
//! `timestamptz` values as times (UTC, or the viewer's zone), JSON pretty-printed,
//! numbers exactly as recorded, long text and `bytea` shortened with the whole value one
//! click away.
//!
//! ```no_run
//! # mod audit {
//! #     pub enum Change {}
//! #     impl audit_runtime::AuditTrail for Change {
//! #         const AUDIT_SCHEMA: &'static str = "audit"; const ACTOR_ID_TYPE: &'static str = "bigint";
//! #         const TABLES: &'static [(&'static str, &'static str)] = &[("public", "article")];
//! #         fn decode(_: Option<i64>, _: &str, _: &str, _: &str, _: Option<&str>, _: Option<&str>)
//! #             -> Result<Self, audit_runtime::DecodeError> { unimplemented!() }
//! #     }
//! # }
//! use audit_runtime::explorer::Explorer;
//! use std::sync::Arc;
//!
//! #[derive(Clone)]
//! struct User { admin: bool }              // stored by the application's auth layer
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // A role that may read the audit tables (GRANT SELECT ON audit.activity, audit.transaction).
//! let (client, connection) =
//!     tokio_postgres::connect("postgres://auditor@localhost/app", tokio_postgres::NoTls).await?;
//! tokio::spawn(connection);
//!
//! let explorer = Explorer::<audit::Change>::builder()
//!     .client(Arc::new(client))
//!     .authorize(|request, table| {
//!         let user = request.extensions.get::<User>();
//!         user.is_some_and(|u| u.admin || table.name() != "users")
//!     })
//!     .build()?;
//! let app = axum::Router::new().nest("/admin/audit", explorer); // .layer(your auth layer)
//! # let _ = app; Ok(())
//! # }
//! ```
//!
//! The explorer reads through the connections its [`connect`](ExplorerBuilder::connect)
//! function hands out (a pool's, or one shared client with
//! [`client`](ExplorerBuilder::client)); their role needs `SELECT` on the audit schema's
//! `activity` and `transaction` tables, which the application's own role does not have.

mod pages;
mod read;
mod render;

use crate::audited::AuditTrail;
use axum::Router;
use http::request::Parts;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

/// The error of a connection function.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection handed out by the connect function.
type Connection = Box<dyn Deref<Target = tokio_postgres::Client> + Send>;
/// The boxed connect function.
type ConnectFn =
    Arc<dyn Fn() -> crate::BoxFuture<'static, Result<Connection, BoxError>> + Send + Sync>;
/// The boxed authorization function.
type AuthorizeFn = Arc<dyn Fn(&Parts, Table<'_>) -> bool + Send + Sync>;

/// An audited table, as the authorization function sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table<'a> {
    schema: &'a str,
    name: &'a str,
}

impl<'a> Table<'a> {
    /// The table's schema, e.g. `public`.
    pub fn schema(&self) -> &'a str {
        self.schema
    }

    /// The table's name, e.g. `article`.
    pub fn name(&self) -> &'a str {
        self.name
    }
}

/// The audit explorer of the audit trail whose crate-wide change type is `C` (the
/// generated `Change`): its tables are the ones `C` knows. Start with
/// [`Explorer::builder`].
pub struct Explorer<C>(PhantomData<fn() -> C>);

impl<C: AuditTrail> Explorer<C> {
    /// A builder with default settings, no connection and no authorization function.
    pub fn builder() -> ExplorerBuilder<C> {
        ExplorerBuilder {
            connect: None,
            authorize: None,
            page_size: 50,
            marker: PhantomData,
        }
    }
}

/// Builds the explorer's [`Router`]; see [the module documentation](self).
pub struct ExplorerBuilder<C> {
    connect: Option<ConnectFn>,
    authorize: Option<AuthorizeFn>,
    page_size: usize,
    marker: PhantomData<fn() -> C>,
}

impl<C> std::fmt::Debug for ExplorerBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExplorerBuilder")
            .field("connect", &self.connect.is_some())
            .field("authorize", &self.authorize.is_some())
            .field("page_size", &self.page_size)
            .finish()
    }
}

/// Why [`ExplorerBuilder::build`] refused to build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// No authorization function was given: the explorer shows nothing to anyone
    /// unless the application says who may see which table.
    #[error(
        "the audit explorer needs an authorization function: call .authorize(|request, table| …) \
         to say who may see which table's history"
    )]
    NoAuthorization,
    /// No connection was given ([`ExplorerBuilder::client`] or
    /// [`ExplorerBuilder::connect`]).
    #[error("the audit explorer needs a database connection: call .client(…) or .connect(…)")]
    NoConnection,
}

impl<C: AuditTrail + 'static> ExplorerBuilder<C> {
    /// Reads through one shared client (`tokio_postgres` pipelines concurrent requests
    /// on it).
    pub fn client(self, client: Arc<tokio_postgres::Client>) -> Self {
        self.connect(move || {
            let client = Arc::clone(&client);
            async move { Ok::<_, std::convert::Infallible>(client) }
        })
    }

    /// Reads through the connections `connect` hands out, one per page view: e.g. a
    /// `bb8` pool's `get`, or anything that dereferences to a `tokio_postgres::Client`.
    pub fn connect<F, Fut, K, E>(mut self, connect: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<K, E>> + Send + 'static,
        K: Deref<Target = tokio_postgres::Client> + Send + 'static,
        E: Into<BoxError>,
    {
        self.connect = Some(Arc::new(move || {
            let future = connect();
            Box::pin(async move {
                future
                    .await
                    .map(|k| Box::new(k) as Connection)
                    .map_err(Into::into)
            })
        }));
        self
    }

    /// Who may see which table's history: called for every table a page would show,
    /// with the request's parts (its extensions hold what the application's
    /// authentication layer stored, e.g. the user). Required: nothing is reachable by
    /// default.
    pub fn authorize<F>(mut self, authorize: F) -> Self
    where
        F: Fn(&Parts, Table<'_>) -> bool + Send + Sync + 'static,
    {
        self.authorize = Some(Arc::new(authorize));
        self
    }

    /// How many activities a table page shows (default 50, at least 1).
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// The explorer's router, to `nest` under a path of the application's choice (or
    /// serve as is). Fails without an authorization function or a connection.
    pub fn build(self) -> Result<Router, BuildError> {
        let authorize = self.authorize.ok_or(BuildError::NoAuthorization)?;
        let connect = self.connect.ok_or(BuildError::NoConnection)?;
        Ok(pages::router(Arc::new(pages::Inner {
            connect,
            authorize,
            audit_schema: C::AUDIT_SCHEMA,
            actor_type: C::ACTOR_ID_TYPE,
            tables: C::TABLES,
            page_size: self.page_size,
        })))
    }
}
