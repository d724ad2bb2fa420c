//! The tower layer that gives every request its audit handle.

use super::Audit;
use super::proxy::{self, IpNet, ProxyHeader};
use crate::AuditContext;
use axum::extract::ConnectInfo;
use axum::extract::connect_info::MockConnectInfo;
use http::Request;
use http::request::Parts;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

type ActorFn = dyn Fn(&Parts) -> Option<String> + Send + Sync;

#[derive(Clone)]
struct Config {
    base: AuditContext,
    actor: Option<Arc<ActorFn>>,
    trusted: Vec<IpNet>,
    header: ProxyHeader,
}

/// A tower [`Layer`](tower_layer::Layer) that builds each request's [`AuditContext`] and
/// stores it, as an [`Audit`] handle, in the request's extensions, where the [`Audit`]
/// extractor finds it.
///
/// - **Actor**: the function given to [`actor`](Self::actor), called with the request's
///   head; typically it reads the user that the application's authentication layer
///   stored in the request extensions. That layer must therefore run first: add it
///   *after* this one (`.layer(AuditLayer…).layer(auth)`; the last added runs first).
/// - **Client address**: the connection's peer (the server must be started with
///   `into_make_service_with_connect_info::<SocketAddr>()`; without it there is no
///   address). When the peer is one of the [trusted proxies](Self::trust_proxy), the
///   address the proxies forwarded in `X-Forwarded-For` (or, with
///   [`proxy_header`](Self::proxy_header), `Forwarded`): the chain is walked right to
///   left past trusted proxies, and the first untrusted hop is the client. Headers from
///   any other peer are ignored; an empty or malformed header gives no address.
///
/// ```
/// use audit_runtime::web::{Audit, AuditLayer};
/// use axum::{Router, routing::post};
/// use std::net::SocketAddr;
///
/// #[derive(Clone)]
/// struct User { id: i64 }   // what the application's auth layer stores
///
/// async fn publish(audit: Audit) -> String {
///     format!("{:?}", audit.context().actor())
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let app = Router::new().route("/publish", post(publish)).layer(
///     AuditLayer::new()
///         .actor(|parts| parts.extensions.get::<User>().map(|user| user.id.to_string()))
///         .trust_proxy("10.0.0.0/8".parse::<audit_runtime::web::IpNet>().unwrap()),
/// );
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct AuditLayer {
    config: Arc<Config>,
}

impl Default for AuditLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLayer")
            .field("base", &self.config.base)
            .field("actor", &self.config.actor.as_ref().map(|_| "Fn(&Parts)"))
            .field("trusted_proxies", &self.config.trusted)
            .field("proxy_header", &self.config.header)
            .finish()
    }
}

impl AuditLayer {
    /// A layer that records the connection's address and no actor, trusts no proxy and
    /// uses the default audit schema.
    ///
    /// ```
    /// let layer = audit_runtime::web::AuditLayer::new();
    /// ```
    pub fn new() -> Self {
        Self {
            config: Arc::new(Config {
                base: AuditContext::new(),
                actor: None,
                trusted: Vec::new(),
                header: ProxyHeader::default(),
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Config)) -> Self {
        let mut config = Arc::unwrap_or_clone(self.config);
        change(&mut config);
        self.config = Arc::new(config);
        self
    }

    /// The function that names each request's actor from the request's head (method,
    /// URI, headers, extensions); `None` for an anonymous request.
    ///
    /// ```
    /// use audit_runtime::web::AuditLayer;
    ///
    /// #[derive(Clone)]
    /// struct CurrentUser {
    ///     id: i64,
    /// }
    ///
    /// let layer = AuditLayer::new()
    ///     .actor(|parts| parts.extensions.get::<CurrentUser>().map(|u| u.id.to_string()));
    /// ```
    pub fn actor<F>(self, actor: F) -> Self
    where
        F: Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    {
        self.with(|config| config.actor = Some(Arc::new(actor)))
    }

    /// Trusts `proxy` (an address or a network) to forward the client's address. Call
    /// it once per proxy or network.
    ///
    /// ```
    /// use audit_runtime::web::{AuditLayer, IpNet};
    /// use std::net::Ipv4Addr;
    ///
    /// let layer = AuditLayer::new()
    ///     .trust_proxy(Ipv4Addr::LOCALHOST)
    ///     .trust_proxy("10.0.0.0/8".parse::<IpNet>().unwrap());
    /// ```
    pub fn trust_proxy(self, proxy: impl Into<IpNet>) -> Self {
        let proxy = proxy.into();
        self.with(|config| config.trusted.push(proxy))
    }

    /// Trusts every proxy or network of `proxies` (see [`trust_proxy`](Self::trust_proxy)).
    ///
    /// ```
    /// use audit_runtime::web::{AuditLayer, IpNet};
    ///
    /// let proxies: Vec<IpNet> = ["10.0.0.0/8", "fd00::/8"]
    ///     .iter()
    ///     .map(|p| p.parse())
    ///     .collect::<Result<_, _>>()
    ///     .unwrap();
    /// let layer = AuditLayer::new().trust_proxies(proxies);
    /// ```
    pub fn trust_proxies<I>(self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<IpNet>,
    {
        let proxies: Vec<IpNet> = proxies.into_iter().map(Into::into).collect();
        self.with(|config| config.trusted.extend(proxies))
    }

    /// The header the trusted proxies forward the client's address in
    /// (`X-Forwarded-For` unless set); the other one is never read.
    ///
    /// ```
    /// use audit_runtime::web::{AuditLayer, ProxyHeader};
    ///
    /// let layer = AuditLayer::new().proxy_header(ProxyHeader::Forwarded);
    /// ```
    pub fn proxy_header(self, header: ProxyHeader) -> Self {
        self.with(|config| config.header = header)
    }

    /// The context every request's context starts from: its audit schema (when the
    /// manifest sets `audit_schema`) and values common to all requests. The request's
    /// actor and address, when known, replace the base's.
    ///
    /// ```
    /// use audit_runtime::{AuditContext, web::AuditLayer};
    ///
    /// let layer = AuditLayer::new()
    ///     .base_context(AuditContext::new().audit_schema("history").value("service", "api"));
    /// ```
    pub fn base_context(self, base: AuditContext) -> Self {
        self.with(|config| config.base = base)
    }

    /// The audit handle of a request with head `parts`.
    fn audit_for(&self, parts: &Parts) -> Audit {
        let config = &*self.config;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .or_else(|| {
                parts
                    .extensions
                    .get::<MockConnectInfo<SocketAddr>>()
                    .map(|MockConnectInfo(addr)| addr.ip())
            });
        let mut context = config.base.clone();
        if let Some(addr) = proxy::client_addr(peer, &parts.headers, &config.trusted, config.header)
        {
            context = context.client_addr(addr);
        }
        if let Some(actor) = config.actor.as_ref().and_then(|actor| actor(parts)) {
            context = context.actor_id(actor);
        }
        Audit::new(context)
    }
}

impl<S> tower_layer::Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`AuditLayer`]: inserts the request's [`Audit`] handle into its
/// extensions, then calls the inner service.
///
/// ```
/// use audit_runtime::web::{AuditLayer, AuditService};
/// use tower_layer::Layer;
///
/// let service: AuditService<()> = AuditLayer::new().layer(());
/// ```
#[derive(Clone, Debug)]
pub struct AuditService<S> {
    inner: S,
    layer: AuditLayer,
}

impl<S, B> tower_service::Service<Request<B>> for AuditService<S>
where
    S: tower_service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        let audit = self.layer.audit_for(&parts);
        parts.extensions.insert(audit);
        self.inner.call(Request::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use std::future::{Ready, ready};
    use tower_layer::Layer;
    use tower_service::Service;

    /// An inner service that answers with the context its request carries.
    #[derive(Clone)]
    struct Echo;

    impl Service<Request<()>> for Echo {
        type Response = Option<AuditContext>;
        type Error = Infallible;
        type Future = Ready<Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: Request<()>) -> Self::Future {
            ready(Ok(request.extensions().get::<Audit>().map(Audit::context)))
        }
    }

    #[derive(Clone)]
    struct User(&'static str);

    fn context_of(layer: &AuditLayer, request: Request<()>) -> AuditContext {
        let future = layer.layer(Echo).call(request);
        let mut future = std::pin::pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()))
        {
            Poll::Ready(Ok(Some(context))) => context,
            _ => panic!("the layer must insert a handle"),
        }
    }

    fn request(peer: &str, user: Option<&'static str>, forwarded_for: Option<&str>) -> Request<()> {
        let mut builder = Request::builder().uri("/");
        if let Some(value) = forwarded_for {
            builder = builder.header("x-forwarded-for", value);
        }
        let mut request = builder.body(()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo::<SocketAddr>(peer.parse().unwrap()));
        if let Some(user) = user {
            request.extensions_mut().insert(User(user));
        }
        request
    }

    #[test]
    fn actor_and_address_come_from_the_request() {
        let layer = AuditLayer::new()
            .actor(|parts| parts.extensions.get::<User>().map(|u| u.0.to_owned()))
            .base_context(AuditContext::new().value("service", "api"));
        let context = context_of(&layer, request("127.0.0.1:5000", Some("alice"), None));
        assert_eq!(context.actor().as_deref(), Some("alice"));
        assert_eq!(context.addr(), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(context.values()["service"], "api");
        let anonymous = context_of(&layer, request("[::1]:5000", None, Some("203.0.113.7")));
        assert_eq!(anonymous.actor(), None);
        assert_eq!(anonymous.addr(), Some("::1".parse().unwrap()));
    }

    #[test]
    fn forwarded_addresses_only_from_trusted_proxies() {
        let layer = AuditLayer::new()
            .trust_proxy(std::net::Ipv4Addr::LOCALHOST)
            .trust_proxies(["10.0.0.0/8".parse::<IpNet>().unwrap()]);
        let via_proxy = context_of(
            &layer,
            request("127.0.0.1:5000", None, Some("203.0.113.7, 10.1.1.1")),
        );
        assert_eq!(via_proxy.addr(), Some("203.0.113.7".parse().unwrap()));
        let direct = context_of(&layer, request("192.0.2.1:5000", None, Some("203.0.113.7")));
        assert_eq!(direct.addr(), Some("192.0.2.1".parse().unwrap()));
        let garbage = context_of(&layer, request("127.0.0.1:5000", None, Some("nonsense")));
        assert_eq!(garbage.addr(), None);
        let forwarded = AuditLayer::new()
            .trust_proxy(std::net::Ipv4Addr::LOCALHOST)
            .proxy_header(ProxyHeader::Forwarded);
        let ignored = context_of(
            &forwarded,
            request("127.0.0.1:5000", None, Some("203.0.113.7")),
        );
        assert_eq!(ignored.addr(), Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn mock_connect_info_and_no_connect_info() {
        let layer = AuditLayer::new();
        let mut request = Request::new(());
        assert_eq!(context_of(&layer, request).addr(), None);
        request = Request::new(());
        request
            .extensions_mut()
            .insert(MockConnectInfo::<SocketAddr>(
                "192.0.2.9:1".parse().unwrap(),
            ));
        assert_eq!(
            context_of(&layer, request).addr(),
            Some("192.0.2.9".parse().unwrap())
        );
    }
}
