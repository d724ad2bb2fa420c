//! Web applications (axum/tower): the actor and client address of each HTTP request, set
//! for the database transactions it opens. Feature `axum`.
//!
//! - [`AuditLayer`] builds each request's [`AuditContext`]: the actor from a function
//!   over the request (typically the user your authentication layer stored in the
//!   request extensions), the client address from the connection, or from
//!   `X-Forwarded-For` / `Forwarded` when the connection comes from a trusted proxy.
//! - [`Audit`], an extractor, hands the handler the request's handle. Its
//!   [`begin_async`](Audit::begin_async) (feature `tokio-postgres`) and
//!   [`begin_sqlx`](Audit::begin_sqlx) (feature `sqlx`) open a transaction with the
//!   context already applied.
//! - [`Audit::scoped`] runs a future with some values overridden (an actor for a system
//!   action, a reason), nestable and restored when the scope ends however it ends, like
//!   PostgreSQL-Audit's `activity_values` in Flask.
//!
//! ```
//! use audit_runtime::web::{Audit, AuditLayer, Override};
//! use axum::{Router, routing::post};
//! use std::net::{Ipv4Addr, SocketAddr};
//!
//! #[derive(Clone)]
//! struct User { id: i64 }   // stored by the application's auth layer
//!
//! async fn handler(audit: Audit) -> String {
//!     let user = audit.context();                              // the request's own
//!     let system = audit
//!         .scoped(Override::new().actor_id("system").value("reason", "cleanup"), async {
//!             audit.context()                                  // overridden inside
//!         })
//!         .await;
//!     format!("{:?} then {:?}", user.actor(), system.actor())
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! let app = Router::new().route("/", post(handler)).layer(
//!     AuditLayer::new()
//!         .actor(|parts| parts.extensions.get::<User>().map(|u| u.id.to_string()))
//!         .trust_proxy(Ipv4Addr::LOCALHOST),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
//! # }
//! ```
//!
//! The server must be started with `into_make_service_with_connect_info::<SocketAddr>()`
//! for the connection's address to be known (axum's `MockConnectInfo` works in tests).

mod layer;
mod proxy;
mod scope;

pub use layer::{AuditLayer, AuditService};
pub use proxy::{InvalidIpNet, IpNet, ProxyHeader};
pub use scope::{Override, Scoped};

use crate::AuditContext;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The audit handle of one request: its own [`AuditContext`], plus the overrides of the
/// [scopes](Self::scoped) the running code is inside.
///
/// [`AuditLayer`] puts one in every request's extensions; take it as a handler argument
/// (it implements axum's `FromRequestParts`; without the layer, extraction fails with a
/// 500 response naming the missing layer, and `Option<Audit>` gives `None`). Cloning is
/// cheap and clones share the scopes. Outside a web request, [`Audit::new`] makes one
/// from any context (a background job).
///
/// ```
/// use audit_runtime::{AuditContext, web::{Audit, Override}};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let audit = Audit::new(AuditContext::new().actor_id(7));
/// let reason = audit
///     .scoped(Override::new().value("reason", "import"), async {
///         audit.context().values()["reason"].clone()
///     })
///     .await;
/// assert_eq!(reason, "import");
/// assert!(audit.context().values().is_empty());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Audit {
    id: u64,
    request: Arc<AuditContext>,
}

static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

impl Audit {
    /// A handle whose own context is `context`.
    ///
    /// ```
    /// use audit_runtime::{AuditContext, web::Audit};
    ///
    /// let audit = Audit::new(AuditContext::new().actor_id("batch"));
    /// assert_eq!(audit.context().actor().as_deref(), Some("batch"));
    /// ```
    pub fn new(context: AuditContext) -> Self {
        Self {
            id: NEXT_HANDLE.fetch_add(1, Ordering::Relaxed),
            request: Arc::new(context),
        }
    }

    /// The request's own context, without the overrides of any scope.
    ///
    /// ```
    /// use audit_runtime::{AuditContext, web::{Audit, Override}};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let audit = Audit::new(AuditContext::new().actor_id(7));
    /// audit
    ///     .scoped(Override::new().actor_id(0), async {
    ///         assert_eq!(audit.request_context().actor().as_deref(), Some("7"));
    ///     })
    ///     .await;
    /// # });
    /// ```
    pub fn request_context(&self) -> &AuditContext {
        &self.request
    }

    /// The context in effect here: the request's own, with the overrides of the scopes
    /// the calling code runs inside applied, innermost last.
    ///
    /// ```
    /// use audit_runtime::{AuditContext, web::{Audit, Override}};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let audit = Audit::new(AuditContext::new().actor_id(7));
    /// audit
    ///     .scoped(Override::new().actor_id(0), async {
    ///         assert_eq!(audit.context().actor().as_deref(), Some("0"));
    ///     })
    ///     .await;
    /// assert_eq!(audit.context().actor().as_deref(), Some("7"));
    /// # });
    /// ```
    pub fn context(&self) -> AuditContext {
        scope::effective(self.id, (*self.request).clone())
    }

    /// Runs `future` with `values` overriding the context of this handle (and its
    /// clones) for the code the future runs.
    ///
    /// Scopes nest: the innermost value of each key wins, and what a scope does not set
    /// comes from the enclosing scope or the request. When the scope ends, the outer
    /// values are back, also when its future panics or is dropped before it finishes
    /// (the override is in effect only while the future is being polled, like a
    /// task-local value). Futures spawned as separate tasks from inside a scope do not
    /// see it: give them `Audit::new(audit.context())`.
    ///
    /// ```
    /// use audit_runtime::{AuditContext, web::{Audit, Override}};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let audit = Audit::new(AuditContext::new().actor_id("alice"));
    /// audit
    ///     .scoped(Override::new().actor_id("system"), async {
    ///         assert_eq!(audit.context().actor().as_deref(), Some("system"));
    ///         audit
    ///             .scoped(Override::new().value("reason", "retention"), async {
    ///                 let inner = audit.context();
    ///                 assert_eq!(inner.actor().as_deref(), Some("system"));
    ///                 assert_eq!(inner.values()["reason"], "retention");
    ///             })
    ///             .await;
    ///         assert!(audit.context().values().is_empty());
    ///     })
    ///     .await;
    /// assert_eq!(audit.context().actor().as_deref(), Some("alice"));
    /// # });
    /// ```
    pub fn scoped<F: Future>(&self, values: Override, future: F) -> Scoped<F> {
        Scoped::new(self.id, values, future)
    }

    /// Begins a transaction on a `tokio_postgres` client and applies the context in
    /// effect at this call to it (feature `tokio-postgres`). Works with pooled clients
    /// too (`&mut *pooled`).
    ///
    /// ```no_run
    /// use audit_runtime::web::Audit;
    ///
    /// async fn rename(audit: Audit, client: &mut tokio_postgres::Client)
    ///     -> Result<(), tokio_postgres::Error>
    /// {
    ///     let tx = audit.begin_async(client).await?;
    ///     tx.execute("UPDATE article SET title = 'New' WHERE id = 1", &[]).await?;
    ///     tx.commit().await
    /// }
    /// ```
    #[cfg(feature = "tokio-postgres")]
    pub fn begin_async<'a>(
        &self,
        client: &'a mut tokio_postgres::Client,
    ) -> impl Future<Output = Result<tokio_postgres::Transaction<'a>, tokio_postgres::Error>>
    + Send
    + use<'a> {
        let context = self.context();
        async move {
            let tx = client.transaction().await?;
            context.apply_async(&tx).await?;
            Ok(tx)
        }
    }

    /// Begins a sqlx transaction (on a `&PgPool`, a `&mut PgConnection`, or as a
    /// savepoint of a `&mut Transaction`) and applies the context in effect at this call
    /// to it (feature `sqlx`).
    ///
    /// ```no_run
    /// use audit_runtime::web::Audit;
    ///
    /// async fn rename(audit: Audit, pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
    ///     let mut tx = audit.begin_sqlx(&pool).await?;
    ///     sqlx::query("UPDATE article SET title = 'New' WHERE id = 1")
    ///         .execute(&mut *tx)
    ///         .await?;
    ///     tx.commit().await
    /// }
    /// ```
    #[cfg(feature = "sqlx")]
    pub fn begin_sqlx<'c, A>(
        &self,
        conn: A,
    ) -> impl Future<Output = Result<sqlx::Transaction<'c, sqlx::Postgres>, sqlx::Error>>
    + Send
    + use<'c, A>
    where
        A: sqlx::Acquire<'c, Database = sqlx::Postgres>,
    {
        let context = self.context();
        let begin = conn.begin();
        async move {
            let mut tx = begin.await?;
            context.apply_sqlx(&mut tx).await?;
            Ok(tx)
        }
    }
}

/// The rejection of the [`Audit`] extractor when the request has no audit handle: the
/// router lacks [`AuditLayer`] (or the handler is outside it). Responds with status 500
/// and a message naming the missing layer.
///
/// ```
/// use audit_runtime::web::MissingAuditLayer;
/// use axum::response::IntoResponse;
///
/// let response = MissingAuditLayer.into_response();
/// assert_eq!(response.status(), 500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no audit context for this request: add audit_runtime::web::AuditLayer to the router \
     (`.layer(AuditLayer::new()…)`) so that it covers this route"
)]
pub struct MissingAuditLayer;

impl IntoResponse for MissingAuditLayer {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Audit {
    type Rejection = MissingAuditLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Audit>()
            .cloned()
            .ok_or(MissingAuditLayer)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Audit {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Audit>().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Polls `future` once with a waker that does nothing.
    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Runs a future that never waits for anything outside itself.
    fn run<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(value) = poll_once(future.as_mut()) {
                return value;
            }
        }
    }

    /// A future that is pending once, then ready.
    fn yield_now() -> impl Future<Output = ()> {
        let mut yielded = false;
        std::future::poll_fn(move |_| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                Poll::Pending
            }
        })
    }

    fn summary(audit: &Audit) -> (Option<String>, Option<String>, Option<serde_json::Value>) {
        let context = audit.context();
        (
            context.actor(),
            context.addr().map(|a| a.to_string()),
            context.values().get("reason").cloned(),
        )
    }

    fn request() -> Audit {
        Audit::new(
            AuditContext::new()
                .actor_id("alice")
                .client_addr("127.0.0.1".parse().unwrap()),
        )
    }

    #[test]
    fn nested_scopes_override_key_by_key_and_restore_on_exit() {
        let audit = request();
        let seen = run(async {
            let mut seen = vec![summary(&audit)];
            audit
                .scoped(Override::new().actor_id(4), async {
                    seen.push(summary(&audit));
                    yield_now().await;
                    audit
                        .scoped(
                            Override::new()
                                .client_addr("123.123.123.123".parse().unwrap())
                                .value("reason", "inner"),
                            async {
                                yield_now().await;
                                seen.push(summary(&audit));
                            },
                        )
                        .await;
                    seen.push(summary(&audit));
                })
                .await;
            seen.push(summary(&audit));
            seen
        });
        let alice = (Some("alice".into()), Some("127.0.0.1".into()), None);
        let outer = (Some("4".into()), Some("127.0.0.1".into()), None);
        let inner = (
            Some("4".into()),
            Some("123.123.123.123".into()),
            Some("inner".into()),
        );
        assert_eq!(
            seen,
            vec![alice.clone(), outer.clone(), inner, outer, alice]
        );
    }

    #[test]
    fn a_panicking_inner_scope_restores_the_outer_values() {
        let audit = request();
        run(audit.scoped(Override::new().actor_id("outer"), async {
            let inner = audit.scoped(Override::new().actor_id("inner"), async {
                assert_eq!(audit.context().actor().as_deref(), Some("inner"));
                panic!("inner scope fails");
            });
            let mut inner = pin!(inner);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                poll_once(inner.as_mut())
            }));
            assert!(caught.is_err());
            assert_eq!(audit.context().actor().as_deref(), Some("outer"));
        }));
        assert_eq!(audit.context().actor().as_deref(), Some("alice"));
    }

    #[test]
    fn a_dropped_inner_scope_restores_the_outer_values() {
        let audit = request();
        run(audit.scoped(Override::new().actor_id("outer"), async {
            let mut inner = Box::pin(audit.scoped(Override::new().actor_id("inner"), async {
                std::future::pending::<()>().await;
            }));
            assert!(poll_once(inner.as_mut()).is_pending());
            assert_eq!(audit.context().actor().as_deref(), Some("outer"));
            drop(inner);
            assert_eq!(audit.context().actor().as_deref(), Some("outer"));
        }));
        assert_eq!(audit.context().actor().as_deref(), Some("alice"));
    }

    #[test]
    fn concurrent_scopes_and_other_handles_do_not_see_each_other() {
        let audit = request();
        let other = Audit::new(AuditContext::new().actor_id("bob"));
        let mut a = Box::pin(audit.scoped(Override::new().actor_id("a"), async {
            yield_now().await;
            audit.context().actor()
        }));
        let mut b = Box::pin(audit.scoped(Override::new().actor_id("b"), async {
            let first = audit.context().actor();
            let other_actor = other.context().actor();
            yield_now().await;
            (first, other_actor, audit.context().actor())
        }));
        assert!(poll_once(a.as_mut()).is_pending());
        assert!(poll_once(b.as_mut()).is_pending());
        assert_eq!(poll_once(a.as_mut()), Poll::Ready(Some("a".into())));
        assert_eq!(
            poll_once(b.as_mut()),
            Poll::Ready((Some("b".into()), Some("bob".into()), Some("b".into())))
        );
        assert_eq!(audit.context().actor().as_deref(), Some("alice"));
    }

    #[test]
    fn clones_share_scopes_and_the_request_context_stays() {
        let audit = request();
        let clone = audit.clone();
        run(audit.scoped(Override::new().value("reason", "x"), async {
            assert_eq!(clone.context().values()["reason"], "x");
            assert!(clone.request_context().values().is_empty());
        }));
    }

    #[test]
    fn extraction_without_the_layer_is_a_500_with_a_message() {
        let (mut parts, ()) = http::Request::new(()).into_parts();
        let rejection = run(<Audit as FromRequestParts<()>>::from_request_parts(
            &mut parts,
            &(),
        ))
        .unwrap_err();
        assert!(rejection.to_string().contains("AuditLayer"));
        assert_eq!(
            rejection.into_response().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        let optional = run(<Audit as OptionalFromRequestParts<()>>::from_request_parts(
            &mut parts,
            &(),
        ));
        assert!(matches!(optional, Ok(None)));
    }
}
