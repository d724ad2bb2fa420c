//! The axum integration end to end: a real server on 127.0.0.1, real HTTP requests, the
//! generated audit triggers in a throw-away database, and what `audit.transaction`
//! records for each request.

use audit_runtime::web::{Audit, AuditLayer, IpNet, Override, ProxyHeader};
use audit_tests::{TestDb, audit_spec, install_audit};
use audit_web_check::{Response, get, send, serve};
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::routing::get as route_get;
use futures_util::FutureExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::time::Duration;

/// What the application's authentication layer stores for a logged-in user.
#[derive(Clone)]
struct User(String);

/// A stand-in authentication layer: `x-user: NAME` logs in as NAME.
async fn authenticate(mut request: Request, next: Next) -> axum::response::Response {
    let user = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .map(|name| User(name.to_owned()));
    if let Some(user) = user {
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

#[derive(Clone)]
struct App {
    url: String,
    pool: sqlx::PgPool,
}

type Failure = (StatusCode, String);

fn failed(error: impl std::fmt::Display) -> Failure {
    (StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, Failure> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(failed)?;
    tokio::spawn(connection);
    Ok(client)
}

/// Inserts an article named `name` in a transaction of its own, opened with the
/// context in effect (tokio-postgres).
async fn create(
    audit: &Audit,
    client: &mut tokio_postgres::Client,
    name: &str,
) -> Result<(), Failure> {
    let tx = audit.begin_async(client).await.map_err(failed)?;
    tx.execute("INSERT INTO article (name) VALUES ($1)", &[&name])
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)
}

async fn tokio_postgres_write(
    audit: Audit,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<&'static str, Failure> {
    let mut client = connect(&app.url).await?;
    create(&audit, &mut client, &name).await?;
    Ok("written")
}

async fn sqlx_pool_write(
    audit: Audit,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<&'static str, Failure> {
    let mut tx = audit.begin_sqlx(&app.pool).await.map_err(failed)?;
    sqlx::query("INSERT INTO article (name) VALUES ($1)")
        .bind(&name)
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    Ok("written")
}

async fn sqlx_connection_write(
    audit: Audit,
    State(app): State<App>,
    Path(name): Path<String>,
) -> Result<&'static str, Failure> {
    let mut conn = app.pool.acquire().await.map_err(failed)?;
    let reason = Override::new().value("reason", "over one connection");
    audit
        .scoped(reason, async {
            let mut tx = audit.begin_sqlx(&mut *conn).await?;
            sqlx::query("INSERT INTO article (name) VALUES ($1)")
                .bind(&name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await
        })
        .await
        .map_err(failed)?;
    Ok("written")
}

/// PostgreSQL-Audit's Flask test of nested `activity_values`: before, in the outer scope
/// (actor 4), in the inner one (client address 123.123.123.123), back in the outer one,
/// and after it.
async fn nested(audit: Audit, State(app): State<App>) -> Result<&'static str, Failure> {
    let mut client = connect(&app.url).await?;
    let client = &mut client;
    create(&audit, client, "before").await?;
    audit
        .scoped(Override::new().actor_id(4), async {
            create(&audit, client, "outer").await?;
            let addr: IpAddr = "123.123.123.123".parse().map_err(failed)?;
            audit
                .scoped(Override::new().client_addr(addr), async {
                    create(&audit, client, "inner").await
                })
                .await?;
            create(&audit, client, "outer again").await
        })
        .await?;
    create(&audit, client, "after").await?;
    Ok("written")
}

/// Inner scopes that panic or are cancelled half-way: the outer values are back after
/// each, and the request's own after the outer scope.
async fn interrupted(audit: Audit, State(app): State<App>) -> Result<&'static str, Failure> {
    let mut client = connect(&app.url).await?;
    let client = &mut client;
    let system = Override::new()
        .actor_id("system")
        .value("reason", "clean-up");
    audit
        .scoped(system, async {
            create(&audit, client, "outer").await?;

            let panicking = audit.scoped(Override::new().actor_id("inner"), async {
                create(&audit, client, "inner, then a panic").await?;
                let tx = audit.begin_async(client).await.map_err(failed)?;
                tx.execute("INSERT INTO article (name) VALUES ('never committed')", &[])
                    .await
                    .map_err(failed)?;
                explode()
            });
            let caught = AssertUnwindSafe(panicking).catch_unwind().await;
            if caught.is_ok() {
                return Err(failed("the inner scope was expected to panic"));
            }
            create(&audit, client, "outer after the panic").await?;

            let cancelled = audit.scoped(Override::new().actor_id("cancelled"), async {
                create(&audit, client, "inner, then cancelled").await?;
                let tx = audit.begin_async(client).await.map_err(failed)?;
                tx.execute("INSERT INTO article (name) VALUES ('never committed')", &[])
                    .await
                    .map_err(failed)?;
                std::future::pending::<()>().await;
                Ok::<(), Failure>(())
            });
            let timed_out = tokio::time::timeout(Duration::from_millis(300), cancelled).await;
            if timed_out.is_ok() {
                return Err(failed("the inner scope was expected to time out"));
            }
            create(&audit, client, "outer after the cancellation").await
        })
        .await?;
    create(&audit, client, "outside").await?;
    Ok("written")
}

/// Panics: the inner scope's failure.
fn explode() -> Result<(), Failure> {
    panic!("the inner scope fails with its transaction open")
}

async fn optional(audit: Option<Audit>) -> String {
    format!("{:?}", audit.map(|a| a.context().actor()))
}

async fn required(audit: Audit) -> String {
    format!("{:?}", audit.context().actor())
}

fn routes(app: App) -> Router {
    Router::new()
        .route("/tokio/{name}", route_get(tokio_postgres_write))
        .route("/sqlx/{name}", route_get(sqlx_pool_write))
        .route("/sqlx-connection/{name}", route_get(sqlx_connection_write))
        .route("/nested", route_get(nested))
        .route("/interrupted", route_get(interrupted))
        .with_state(app)
}

/// The app behind `layer`, with the stand-in authentication running first, so that the
/// layer's actor function finds the user.
fn app_with(app: App, layer: AuditLayer) -> Router {
    routes(app)
        .layer(layer)
        .layer(middleware::from_fn(authenticate))
}

/// The layer of the tests: the actor is the logged-in user.
fn layer() -> AuditLayer {
    AuditLayer::new().actor(|parts| parts.extensions.get::<User>().map(|u| u.0.clone()))
}

/// A database with an audited `article` table (actor ids as text).
fn article_db(label: &str) -> TestDb {
    let db = TestDb::with_sql(
        label,
        "CREATE TABLE article (id serial PRIMARY KEY, name text);",
    );
    install_audit(
        &db,
        &audit_spec(&db, "text", &[("public", "article", &[], false)]),
    );
    db
}

/// One audited write as `audit.transaction` recorded it: article name, actor, client
/// address, `reason` of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    name: String,
    actor: Option<String>,
    addr: Option<String>,
    reason: Option<String>,
}

fn row(name: &str, actor: Option<&str>, addr: Option<&str>, reason: Option<&str>) -> Row {
    Row {
        name: name.to_owned(),
        actor: actor.map(str::to_owned),
        addr: addr.map(str::to_owned),
        reason: reason.map(str::to_owned),
    }
}

/// Every insert recorded, in order, with its transaction's context. Every activity must
/// belong to a transaction row, since every request sets a context.
fn recorded(db: &TestDb) -> Vec<Row> {
    let mut client = db.client();
    let unlinked: i64 = client
        .query_one(
            "SELECT count(*) FROM audit.activity WHERE transaction_id IS NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        unlinked, 0,
        "every write of a request has a transaction row"
    );
    client
        .query(
            "SELECT a.changed_data ->> 'name', t.actor_id, host(t.client_addr),
                    t.context ->> 'reason'
               FROM audit.activity a JOIN audit.transaction t ON t.id = a.transaction_id
              WHERE a.verb = 'insert'
              ORDER BY a.id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| Row {
            name: r.get(0),
            actor: r.get(1),
            addr: r.get(2),
            reason: r.get(3),
        })
        .collect()
}

/// Runs `test` against a server of the app built by `router` over `db`, on a runtime of
/// its own (the synchronous test helpers must run outside it).
fn with_server<F, Fut>(db: &TestDb, router: impl FnOnce(App) -> Router, test: F)
where
    F: FnOnce(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(db.url())
            .await
            .unwrap();
        let app = App {
            url: db.url().to_owned(),
            pool: pool.clone(),
        };
        let server = serve(router(app)).await;
        test(server).await;
        pool.close().await;
    });
}

fn ok(response: std::io::Result<Response>) -> Response {
    let response = response.expect("the server answers");
    assert_eq!(response.status, 200, "{}", response.body);
    response
}

const LOCALHOST: Option<&str> = Some("127.0.0.1");

#[test]
fn a_logged_in_request_records_its_user_and_address() {
    let db = article_db("web_logged_in");
    with_server(
        &db,
        |app| app_with(app, layer()),
        |server| async move {
            ok(get(server, "/tokio/by-alice", &[("x-user", b"alice")]).await);
            ok(get(server, "/sqlx/by-bob", &[("x-user", b"bob")]).await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row("by-alice", Some("alice"), LOCALHOST, None),
            row("by-bob", Some("bob"), LOCALHOST, None),
        ]
    );
}

#[test]
fn an_anonymous_request_records_no_actor() {
    let db = article_db("web_anonymous");
    with_server(
        &db,
        |app| app_with(app, layer()),
        |server| async move {
            ok(get(server, "/tokio/anonymous", &[]).await);
            ok(get(server, "/sqlx/anonymous-too", &[]).await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row("anonymous", None, LOCALHOST, None),
            row("anonymous-too", None, LOCALHOST, None),
        ]
    );
}

#[test]
fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let db = article_db("web_untrusted");
    let trusting_others = layer().trust_proxy("10.0.0.0/8".parse::<IpNet>().unwrap());
    with_server(
        &db,
        |app| app_with(app, trusting_others),
        |server| async move {
            ok(get(
                server,
                "/tokio/spoofed-xff",
                &[("x-user", b"mallory"), ("x-forwarded-for", b"203.0.113.7")],
            )
            .await);
            ok(get(
                server,
                "/sqlx/spoofed-forwarded",
                &[
                    ("forwarded", b"for=203.0.113.7"),
                    ("x-real-ip", b"203.0.113.7"),
                ],
            )
            .await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row("spoofed-xff", Some("mallory"), LOCALHOST, None),
            row("spoofed-forwarded", None, LOCALHOST, None),
        ]
    );
}

#[test]
fn forwarding_headers_from_a_trusted_proxy_are_used() {
    let db = article_db("web_trusted");
    let trusting_localhost = layer().trust_proxy(Ipv4Addr::LOCALHOST);
    with_server(
        &db,
        |app| app_with(app, trusting_localhost),
        |server| async move {
            ok(get(
                server,
                "/tokio/via-proxy",
                &[("x-user", b"alice"), ("x-forwarded-for", b"203.0.113.7")],
            )
            .await);
            // The client's own claim left of the proxy's entry is not believed.
            ok(get(
                server,
                "/sqlx/spoof-through-proxy",
                &[("x-forwarded-for", b"6.6.6.6, 198.51.100.4")],
            )
            .await);
            ok(get(
                server,
                "/tokio/ipv6-with-port",
                &[("x-forwarded-for", b"[2001:db8::1]:4711, 127.0.0.1")],
            )
            .await);
            // No header: the proxy host itself.
            ok(get(server, "/tokio/proxy-itself", &[]).await);
            // Another loopback address is not a trusted proxy.
            let other_peer: IpAddr = Ipv4Addr::new(127, 0, 0, 2).into();
            ok(send(
                server,
                other_peer,
                "GET",
                "/tokio/from-untrusted-peer",
                &[("x-forwarded-for", b"203.0.113.7")],
            )
            .await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row("via-proxy", Some("alice"), Some("203.0.113.7"), None),
            row("spoof-through-proxy", None, Some("198.51.100.4"), None),
            row("ipv6-with-port", None, Some("2001:db8::1"), None),
            row("proxy-itself", None, LOCALHOST, None),
            row("from-untrusted-peer", None, Some("127.0.0.2"), None),
        ]
    );
}

#[test]
fn the_forwarded_header_when_the_proxies_use_it() {
    let db = article_db("web_forwarded");
    let layer = layer()
        .trust_proxies([
            IpNet::from(Ipv4Addr::LOCALHOST),
            "192.0.2.0/24".parse().unwrap(),
        ])
        .proxy_header(ProxyHeader::Forwarded);
    with_server(
        &db,
        |app| app_with(app, layer),
        |server| async move {
            ok(get(
                server,
                "/tokio/rfc-7239",
                &[(
                    "forwarded",
                    b"for=\"[2001:db8::1]:4711\";proto=http, for=192.0.2.43",
                )],
            )
            .await);
            // X-Forwarded-For is not what these proxies write: never read.
            ok(get(
                server,
                "/tokio/xff-not-read",
                &[("x-forwarded-for", b"203.0.113.7")],
            )
            .await);
            ok(get(
                server,
                "/tokio/obfuscated",
                &[("forwarded", b"for=_hidden, for=192.0.2.43")],
            )
            .await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row("rfc-7239", None, Some("2001:db8::1"), None),
            row("xff-not-read", None, LOCALHOST, None),
            row("obfuscated", None, None, None),
        ]
    );
}

#[test]
fn empty_and_malformed_forwarding_headers_give_no_address_and_the_request_succeeds() {
    let db = article_db("web_malformed");
    let trusting_localhost = layer().trust_proxy(Ipv4Addr::LOCALHOST);
    let values: [(&str, &[u8]); 6] = [
        ("empty", b""),
        ("unknown", b"unknown"),
        ("garbage", b"<not an address>"),
        ("obfuscated", b"203.0.113.7, _hidden"),
        ("bad-octet", b"203.0.113.300"),
        ("non-ascii", b"203.0.113.7\xc3\xa9"),
    ];
    with_server(
        &db,
        |app| app_with(app, trusting_localhost),
        |server| async move {
            for (name, value) in values {
                ok(get(
                    server,
                    &format!("/tokio/{name}"),
                    &[("x-user", b"alice"), ("x-forwarded-for", value)],
                )
                .await);
            }
        },
    );
    assert_eq!(
        recorded(&db),
        values
            .iter()
            .map(|(name, _)| row(name, Some("alice"), None, None))
            .collect::<Vec<_>>()
    );
}

#[test]
fn nested_overrides_match_postgresql_audit_flask_activity_values() {
    let db = article_db("web_nested");
    with_server(
        &db,
        |app| app_with(app, layer()),
        |server| async move {
            ok(get(server, "/nested", &[("x-user", b"alice")]).await);
        },
    );
    let inner_addr = Some("123.123.123.123");
    assert_eq!(
        recorded(&db),
        vec![
            row("before", Some("alice"), LOCALHOST, None),
            row("outer", Some("4"), LOCALHOST, None),
            row("inner", Some("4"), inner_addr, None),
            row("outer again", Some("4"), LOCALHOST, None),
            row("after", Some("alice"), LOCALHOST, None),
        ]
    );
}

#[test]
fn a_panicking_or_cancelled_inner_scope_restores_the_outer_values() {
    let db = article_db("web_interrupted");
    with_server(
        &db,
        |app| app_with(app, layer()),
        |server| async move {
            ok(get(server, "/interrupted", &[("x-user", b"alice")]).await);
        },
    );
    let reason = Some("clean-up");
    assert_eq!(
        recorded(&db),
        vec![
            row("outer", Some("system"), LOCALHOST, reason),
            row("inner, then a panic", Some("inner"), LOCALHOST, reason),
            row("outer after the panic", Some("system"), LOCALHOST, reason),
            row(
                "inner, then cancelled",
                Some("cancelled"),
                LOCALHOST,
                reason
            ),
            row(
                "outer after the cancellation",
                Some("system"),
                LOCALHOST,
                reason
            ),
            row("outside", Some("alice"), LOCALHOST, None),
        ]
    );
}

#[test]
fn sqlx_over_one_connection_with_a_scoped_reason() {
    let db = article_db("web_sqlx_connection");
    with_server(
        &db,
        |app| app_with(app, layer()),
        |server| async move {
            ok(get(server, "/sqlx-connection/pooled", &[("x-user", b"carol")]).await);
            // The same pooled connection, next request: nothing of the last one's
            // context is left.
            ok(get(server, "/sqlx/next", &[]).await);
        },
    );
    assert_eq!(
        recorded(&db),
        vec![
            row(
                "pooled",
                Some("carol"),
                LOCALHOST,
                Some("over one connection")
            ),
            row("next", None, LOCALHOST, None),
        ]
    );
}

#[test]
fn without_the_layer_the_extractor_answers_500_with_a_message() {
    let db = TestDb::new("web_no_layer");
    with_server(
        &db,
        |_| {
            Router::new()
                .route("/required", route_get(required))
                .route("/optional", route_get(optional))
                .route(
                    "/layered",
                    route_get(required)
                        .layer(AuditLayer::new().actor(|_| Some("someone".to_owned()))),
                )
        },
        |server| async move {
            let missing = get(server, "/required", &[]).await.unwrap();
            assert_eq!(missing.status, 500);
            assert!(
                missing.body.contains("AuditLayer"),
                "the message names the missing layer: {}",
                missing.body
            );
            assert_eq!(ok(get(server, "/optional", &[]).await).body, "None");
            assert_eq!(
                ok(get(server, "/layered", &[]).await).body,
                "Some(\"someone\")"
            );
        },
    );
}
