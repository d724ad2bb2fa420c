//! Scoped overrides of a request's audit context.
//!
//! A scope is a future: [`Audit::scoped`](super::Audit::scoped) wraps one, and while
//! that future is being polled its [`Override`] is pushed on a per-thread stack of
//! overrides, to be popped when the poll returns (or unwinds). Because a poll runs on
//! one thread from start to end, the overrides in effect are exactly those of the
//! scopes the running code is inside, like a task-local value:
//!
//! - nested scopes stack, the innermost winning key by key;
//! - leaving a scope (its future finishes, panics or is dropped) restores the outer
//!   values, as nothing of it stays on the stack between polls;
//! - two scoped futures of one request run concurrently (`join!`) never see each other's
//!   overrides, and neither do tasks spawned from a scope.
//!
//! Entries are tagged with the handle they belong to, so a scope of one handle never
//! changes another's context.

use crate::AuditContext;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Values that replace those of the request's context inside a scope (see
/// [`Audit::scoped`](super::Audit::scoped)): an actor for a system action, another
/// client address, extra context values such as a reason. What it does not set is
/// inherited from the enclosing scope, or from the request.
///
/// ```
/// use audit_runtime::web::Override;
///
/// let system = Override::new()
///     .actor_id("system")
///     .value("reason", "nightly clean-up");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[must_use]
pub struct Override {
    actor_id: Option<String>,
    client_addr: Option<IpAddr>,
    values: Map<String, Value>,
}

impl Override {
    /// An override that changes nothing yet.
    ///
    /// ```
    /// # use audit_runtime::web::Override;
    /// assert_eq!(Override::new(), Override::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The actor inside the scope.
    ///
    /// ```
    /// # use audit_runtime::web::Override;
    /// let as_system = Override::new().actor_id(0);
    /// ```
    pub fn actor_id(mut self, actor_id: impl ToString) -> Self {
        self.actor_id = Some(actor_id.to_string());
        self
    }

    /// The client address inside the scope.
    ///
    /// ```
    /// # use audit_runtime::web::Override;
    /// let from_worker = Override::new().client_addr("10.0.0.5".parse().unwrap());
    /// ```
    pub fn client_addr(mut self, addr: IpAddr) -> Self {
        self.client_addr = Some(addr);
        self
    }

    /// An extra value of the transaction's `context` inside the scope; it replaces a
    /// value of the same key set outside. Values that cannot be represented as JSON are
    /// stored as `null`.
    ///
    /// ```
    /// # use audit_runtime::web::Override;
    /// let with_reason = Override::new().value("reason", "support ticket 1234");
    /// ```
    pub fn value(mut self, key: impl Into<String>, value: impl serde::Serialize) -> Self {
        self.values.insert(
            key.into(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
        self
    }

    /// `context` with this override applied on top.
    pub(crate) fn apply_to(&self, mut context: AuditContext) -> AuditContext {
        if let Some(actor) = &self.actor_id {
            context = context.actor_id(actor);
        }
        if let Some(addr) = self.client_addr {
            context = context.client_addr(addr);
        }
        for (key, value) in &self.values {
            context = context.value(key.clone(), value);
        }
        context
    }
}

thread_local! {
    /// The overrides of the scopes being polled on this thread, outermost first, each
    /// with the id of the handle it belongs to.
    static SCOPES: RefCell<Vec<(u64, Arc<Override>)>> = const { RefCell::new(Vec::new()) };
}

/// `context` with the overrides of the handle `handle` that are in effect on this
/// thread applied, outermost first.
pub(crate) fn effective(handle: u64, mut context: AuditContext) -> AuditContext {
    let active: Vec<Arc<Override>> = SCOPES
        .try_with(|scopes| {
            scopes
                .try_borrow()
                .map(|scopes| {
                    scopes
                        .iter()
                        .filter(|(id, _)| *id == handle)
                        .map(|(_, o)| Arc::clone(o))
                        .collect()
                })
                .unwrap_or_default()
        })
        .unwrap_or_default();
    for over in active {
        context = over.apply_to(context);
    }
    context
}

/// Pops what it pushed when dropped, also while unwinding from a panic.
struct Pushed {
    depth: usize,
}

impl Pushed {
    fn push(handle: u64, over: &Arc<Override>) -> Self {
        let depth = SCOPES
            .try_with(|scopes| {
                scopes.try_borrow_mut().map_or(usize::MAX, |mut scopes| {
                    let depth = scopes.len();
                    scopes.push((handle, Arc::clone(over)));
                    depth
                })
            })
            .unwrap_or(usize::MAX);
        Self { depth }
    }
}

impl Drop for Pushed {
    fn drop(&mut self) {
        if self.depth == usize::MAX {
            return;
        }
        let _ = SCOPES.try_with(|scopes| {
            if let Ok(mut scopes) = scopes.try_borrow_mut() {
                scopes.truncate(self.depth);
            }
        });
    }
}

/// A future whose polls run with an [`Override`] in effect: what
/// [`Audit::scoped`](super::Audit::scoped) returns.
///
/// Dropping it unfinished (a timeout, `select!`, a client that went away) leaves
/// nothing behind: its override is in effect only while it is being polled.
///
/// ```
/// use audit_runtime::{AuditContext, web::{Audit, Override, Scoped}};
///
/// let audit = Audit::new(AuditContext::new().actor_id("alice"));
/// let scope: Scoped<_> = audit.scoped(Override::new().actor_id("system"), async {});
/// drop(scope); // never polled: nothing changed
/// assert_eq!(audit.context().actor().as_deref(), Some("alice"));
/// ```
#[must_use = "a scope does nothing unless awaited"]
pub struct Scoped<F> {
    handle: u64,
    over: Arc<Override>,
    future: Pin<Box<F>>,
}

impl<F> Scoped<F> {
    pub(crate) fn new(handle: u64, over: Override, future: F) -> Self {
        Self {
            handle,
            over: Arc::new(over),
            future: Box::pin(future),
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let _pushed = Pushed::push(this.handle, &this.over);
        this.future.as_mut().poll(cx)
    }
}

impl<F> std::fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scoped")
            .field("override", &self.over)
            .finish_non_exhaustive()
    }
}
