//! Who is acting: the actor, client address and extra values of a database transaction.
//!
//! An [`AuditContext`] is applied to one database transaction with one statement,
//! `SELECT <audit schema>.set_context($1, $2, $3)`, with bind parameters. The audit schema
//! keeps it in transaction-local settings, so it ends with the transaction and can never
//! reach another transaction on a pooled connection. Every activity the transaction
//! records, before or after the call, is linked to one `transaction` row carrying it.
//!
//! Drivers: `postgres` ([`AuditContext::apply`], [`AuditContext::transaction`]),
//! `tokio-postgres` (`apply_async`, `transaction_async`), `sqlx` (`apply_sqlx`,
//! `transaction_sqlx`, for a `PgConnection` or, through `&mut *tx`, a
//! `Transaction<'_, Postgres>`) and `diesel` (`apply_diesel`, `transaction_diesel`, for a
//! `diesel::PgConnection` in a transaction), each behind its cargo feature.
//!
//! Clients other than this crate's drivers (psql, another language) make the same call
//! inside their transaction, with the actor id as text (the database casts it to the
//! manifest's actor type):
//!
//! ```sql
//! BEGIN;
//! SELECT audit.set_context('42', '203.0.113.7', '{"reason": "support ticket 1234"}');
//! UPDATE article SET name = 'New name' WHERE id = 1;
//! COMMIT;
//! ```
//!
//! With bind parameters (one per placeholder, each may be text), use the statement of
//! [`AuditContext::sql`]:
//! `SELECT "audit".set_context($1::pg_catalog.text, $2::pg_catalog.inet, $3::pg_catalog.jsonb)`.

use serde_json::{Map, Value};
use std::net::IpAddr;

/// The schema of the audit objects when the manifest does not name another.
pub const DEFAULT_AUDIT_SCHEMA: &str = "audit";

/// Who is acting in a database transaction, and from where.
///
/// ```
/// use audit_runtime::AuditContext;
///
/// let context = AuditContext::new()
///     .actor_id(42)
///     .client_addr("203.0.113.7".parse().unwrap())
///     .value("reason", "support ticket 1234");
/// assert_eq!(context.actor().as_deref(), Some("42"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AuditContext {
    actor_id: Option<String>,
    client_addr: Option<IpAddr>,
    values: Map<String, Value>,
    audit_schema: String,
}

impl Default for AuditContext {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditContext {
    /// An empty context for the default audit schema (`audit`).
    pub fn new() -> Self {
        Self {
            actor_id: None,
            client_addr: None,
            values: Map::new(),
            audit_schema: DEFAULT_AUDIT_SCHEMA.to_owned(),
        }
    }

    /// The acting user (or system) id, in its text form; the database casts it to the
    /// manifest's `actor_id_type` (an id that does not fit is an error at apply time).
    pub fn actor_id(mut self, actor_id: impl ToString) -> Self {
        self.actor_id = Some(actor_id.to_string());
        self
    }

    /// The client's address.
    pub fn client_addr(mut self, addr: IpAddr) -> Self {
        self.client_addr = Some(addr);
        self
    }

    /// An extra value stored in the transaction row's `context` object (a reason, a
    /// request id). Values that cannot be represented as JSON are stored as `null`.
    pub fn value(mut self, key: impl Into<String>, value: impl serde::Serialize) -> Self {
        self.values.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// The audit schema, when the manifest sets `audit_schema` to something other than
    /// `audit`.
    pub fn audit_schema(mut self, schema: impl Into<String>) -> Self {
        self.audit_schema = schema.into();
        self
    }

    /// The actor id, if set.
    pub fn actor(&self) -> Option<String> {
        self.actor_id.clone()
    }

    /// The client address, if set.
    pub fn addr(&self) -> Option<IpAddr> {
        self.client_addr
    }

    /// The extra values.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// The statement that applies the context; its parameters are [`params`](Self::params).
    pub fn sql(&self) -> String {
        format!(
            "SELECT {}.set_context($1::pg_catalog.text, $2::pg_catalog.inet, $3::pg_catalog.jsonb)",
            quote_ident(&self.audit_schema)
        )
    }

    /// The three parameters of [`sql`](Self::sql): actor id text, client address, extra
    /// values (`None` when there are none).
    pub fn params(&self) -> (Option<String>, Option<IpAddr>, Option<Value>) {
        let values = (!self.values.is_empty()).then(|| Value::Object(self.values.clone()));
        (self.actor_id.clone(), self.client_addr, values)
    }

    /// The statement that suspends auditing for the rest of the transaction. Only roles
    /// granted `EXECUTE` on `<audit schema>.suspend()` may run it.
    pub fn suspend_sql(&self) -> String {
        format!("SELECT {}.suspend()", quote_ident(&self.audit_schema))
    }
}

/// Always-quoted identifier, so a schema name can never change the statement.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(feature = "postgres")]
mod blocking {
    use super::AuditContext;

    impl AuditContext {
        /// Applies the context to a transaction of the `postgres` crate (one round trip).
        pub fn apply(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
            let (actor, addr, values) = self.params();
            tx.execute(self.sql().as_str(), &[&actor, &addr, &values])?;
            Ok(())
        }

        /// Suspends auditing for the rest of the transaction (see
        /// [`suspend_sql`](Self::suspend_sql)).
        pub fn suspend(&self, tx: &mut postgres::Transaction<'_>) -> Result<(), postgres::Error> {
            tx.execute(self.suspend_sql().as_str(), &[])?;
            Ok(())
        }

        /// Runs `work` in a new transaction with this context applied, committing when it
        /// returns `Ok` and rolling back otherwise (also when it panics: the transaction is
        /// dropped unfinished).
        pub fn transaction<T, E>(
            &self,
            client: &mut postgres::Client,
            work: impl FnOnce(&mut postgres::Transaction<'_>) -> Result<T, E>,
        ) -> Result<T, E>
        where
            E: From<postgres::Error>,
        {
            let mut tx = client.transaction()?;
            self.apply(&mut tx)?;
            let value = work(&mut tx)?;
            tx.commit()?;
            Ok(value)
        }
    }
}

#[cfg(feature = "tokio-postgres")]
mod asynchronous {
    use super::AuditContext;

    impl AuditContext {
        /// Applies the context to a transaction of `tokio_postgres` (one round trip).
        pub async fn apply_async(
            &self,
            tx: &tokio_postgres::Transaction<'_>,
        ) -> Result<(), tokio_postgres::Error> {
            let (actor, addr, values) = self.params();
            tx.execute(self.sql().as_str(), &[&actor, &addr, &values])
                .await?;
            Ok(())
        }

        /// Suspends auditing for the rest of the transaction.
        pub async fn suspend_async(
            &self,
            tx: &tokio_postgres::Transaction<'_>,
        ) -> Result<(), tokio_postgres::Error> {
            tx.execute(self.suspend_sql().as_str(), &[]).await?;
            Ok(())
        }

        /// Runs `work` in a new transaction with this context applied, committing when
        /// its future returns `Ok` and rolling back otherwise (also when the future is
        /// dropped or panics: the transaction is dropped unfinished).
        ///
        /// ```no_run
        /// # async fn run(client: &mut tokio_postgres::Client) -> Result<(), tokio_postgres::Error> {
        /// use audit_runtime::AuditContext;
        ///
        /// AuditContext::new()
        ///     .actor_id(42)
        ///     .transaction_async(client, |tx| {
        ///         Box::pin(async move {
        ///             tx.execute("UPDATE article SET name = 'x' WHERE id = 1", &[]).await?;
        ///             Ok::<_, tokio_postgres::Error>(())
        ///         })
        ///     })
        ///     .await
        /// # }
        /// ```
        pub async fn transaction_async<T, E, F>(
            &self,
            client: &mut tokio_postgres::Client,
            work: F,
        ) -> Result<T, E>
        where
            E: From<tokio_postgres::Error>,
            F: for<'c, 't> FnOnce(
                &'c mut tokio_postgres::Transaction<'t>,
            ) -> super::BoxFuture<'c, Result<T, E>>,
        {
            let mut tx = client.transaction().await?;
            self.apply_async(&tx).await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            Ok(value)
        }
    }
}

/// The future a scoped async transaction helper's closure returns (`Box::pin(async
/// move { … })`), borrowing the transaction for `'c`.
#[cfg(any(feature = "tokio-postgres", feature = "sqlx"))]
pub type BoxFuture<'c, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'c>>;

#[cfg(feature = "sqlx")]
mod with_sqlx {
    //! sqlx binds parameters with the Rust value's own type; the address and context are
    //! bound as text and cast by the statement ([`AuditContext::sql`]), so neither
    //! sqlx's `ipnetwork` nor its `json` feature is needed.

    use super::{AuditContext, BoxFuture};
    use sqlx::{Connection, PgConnection};

    impl AuditContext {
        /// Applies the context to the current transaction of a sqlx connection (one
        /// round trip). Pass a `sqlx::Transaction<'_, Postgres>` as `&mut *tx`.
        ///
        /// Outside a transaction the context would end with the statement's own implicit
        /// transaction: begin one first.
        pub async fn apply_sqlx(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
            let (actor, addr, values) = self.params();
            sqlx::query(&self.sql())
                .bind(actor)
                .bind(addr.map(|a| a.to_string()))
                .bind(values.map(|v| v.to_string()))
                .execute(conn)
                .await?;
            Ok(())
        }

        /// Suspends auditing for the rest of the current transaction of a sqlx
        /// connection.
        pub async fn suspend_sqlx(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
            sqlx::query(&self.suspend_sql()).execute(conn).await?;
            Ok(())
        }

        /// Runs `work` in a new transaction of `conn` with this context applied,
        /// committing when its future returns `Ok` and rolling back otherwise (also when
        /// the future is dropped: sqlx rolls back a transaction dropped unfinished).
        ///
        /// ```no_run
        /// # async fn run(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
        /// use audit_runtime::AuditContext;
        ///
        /// AuditContext::new()
        ///     .actor_id(42)
        ///     .transaction_sqlx(conn, |tx| {
        ///         Box::pin(async move {
        ///             sqlx::query("UPDATE article SET name = 'x' WHERE id = 1")
        ///                 .execute(tx)
        ///                 .await?;
        ///             Ok::<_, sqlx::Error>(())
        ///         })
        ///     })
        ///     .await
        /// # }
        /// ```
        pub async fn transaction_sqlx<T, E, F>(
            &self,
            conn: &mut PgConnection,
            work: F,
        ) -> Result<T, E>
        where
            E: From<sqlx::Error>,
            F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>>,
        {
            let mut tx = conn.begin().await?;
            self.apply_sqlx(&mut tx).await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            Ok(value)
        }
    }
}

#[cfg(feature = "diesel")]
mod with_diesel {
    //! Like sqlx, diesel binds the address and context as text, cast by the statement
    //! ([`AuditContext::sql`]), so neither diesel's `network-address` nor its
    //! `serde_json` feature is needed. `sql_query` statements are not cached by diesel and
    //! go out with parse, bind and execute in one message (libpq's `PQsendQueryParams`):
    //! one round trip.

    use super::AuditContext;
    use diesel::sql_types::{Nullable, Text};
    use diesel::{Connection, PgConnection, RunQueryDsl};

    impl AuditContext {
        /// Applies the context to the current transaction of a diesel connection (one
        /// statement, one round trip), e.g. inside `conn.transaction(|conn| …)`.
        ///
        /// Outside a transaction the context would end with the statement's own implicit
        /// transaction: begin one first, or use
        /// [`transaction_diesel`](Self::transaction_diesel). Inside a savepoint (a nested
        /// diesel transaction) the context is undone if the savepoint is rolled back.
        ///
        /// ```no_run
        /// # fn run(conn: &mut diesel::PgConnection) -> diesel::QueryResult<()> {
        /// use audit_runtime::AuditContext;
        /// use diesel::{Connection, RunQueryDsl};
        ///
        /// conn.transaction(|conn| {
        ///     AuditContext::new()
        ///         .actor_id(42)
        ///         .client_addr("203.0.113.7".parse().unwrap())
        ///         .apply_diesel(conn)?;
        ///     diesel::sql_query("UPDATE article SET name = 'x' WHERE id = 1").execute(conn)?;
        ///     Ok(())
        /// })
        /// # }
        /// ```
        pub fn apply_diesel(&self, conn: &mut PgConnection) -> diesel::QueryResult<()> {
            let (actor, addr, values) = self.params();
            diesel::sql_query(self.sql())
                .bind::<Nullable<Text>, _>(actor)
                .bind::<Nullable<Text>, _>(addr.map(|a| a.to_string()))
                .bind::<Nullable<Text>, _>(values.map(|v| v.to_string()))
                .execute(conn)?;
            Ok(())
        }

        /// Suspends auditing for the rest of the current transaction of a diesel
        /// connection (see [`suspend_sql`](Self::suspend_sql)).
        pub fn suspend_diesel(&self, conn: &mut PgConnection) -> diesel::QueryResult<()> {
            diesel::sql_query(self.suspend_sql()).execute(conn)?;
            Ok(())
        }

        /// Runs `work` in a transaction of `conn` (`conn.transaction`, a savepoint when
        /// one is already open) with this context applied, committing when it returns
        /// `Ok` and rolling back otherwise.
        ///
        /// ```no_run
        /// # fn run(conn: &mut diesel::PgConnection) -> diesel::QueryResult<()> {
        /// use audit_runtime::AuditContext;
        /// use diesel::RunQueryDsl;
        ///
        /// AuditContext::new()
        ///     .actor_id(42)
        ///     .transaction_diesel(conn, |conn| {
        ///         diesel::sql_query("UPDATE article SET name = 'x' WHERE id = 1").execute(conn)?;
        ///         Ok::<_, diesel::result::Error>(())
        ///     })
        /// # }
        /// ```
        pub fn transaction_diesel<T, E>(
            &self,
            conn: &mut PgConnection,
            work: impl FnOnce(&mut PgConnection) -> Result<T, E>,
        ) -> Result<T, E>
        where
            E: From<diesel::result::Error>,
        {
            conn.transaction(|conn| {
                self.apply_diesel(conn)?;
                work(conn)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_quotes_the_schema_and_casts_every_parameter() {
        let context = AuditContext::new().audit_schema("odd \"one\"");
        assert_eq!(
            context.sql(),
            "SELECT \"odd \"\"one\"\"\".set_context($1::pg_catalog.text, $2::pg_catalog.inet, $3::pg_catalog.jsonb)"
        );
    }

    #[test]
    fn params_carry_what_was_set() {
        let context = AuditContext::new()
            .actor_id(7)
            .client_addr("::1".parse().unwrap())
            .value("reason", "cleanup")
            .value("request", 12);
        let (actor, addr, values) = context.params();
        assert_eq!(actor.as_deref(), Some("7"));
        assert_eq!(addr, Some("::1".parse().unwrap()));
        assert_eq!(
            values,
            Some(serde_json::json!({"reason": "cleanup", "request": 12}))
        );
        assert_eq!(AuditContext::new().params(), (None, None, None));
    }
}
