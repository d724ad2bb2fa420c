//! Writes audited with the request's user and address. After `cargo run -p blog` (it makes
//! `audit_blog_example`, its `article` audited) run this, DATABASE_URL naming that database if
//! not local, then `curl -X POST -H 'x-user-id: 1' localhost:3000/articles/1/archive`.
use audit_runtime::web::{Audit, AuditLayer, Override};
use axum::{Router, extract::Path, extract::State, http::StatusCode, routing::post};
use sqlx::PgPool;

async fn archive(audit: Audit, State(db): State<PgPool>, Path(id): Path<i64>) -> StatusCode {
    let reason = Override::new().value("reason", "archived from the web");
    let archived = audit.scoped(reason, async {
        let mut tx = audit.begin_sqlx(&db).await?; // user, address and reason applied
        let sql = "UPDATE article SET status = 'archived' WHERE id = $1";
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        tx.commit().await
    });
    match archived.await {
        Ok(()) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Stand-in for an auth layer: a real app reads the user its auth layer stored.
fn actor(parts: &axum::http::request::Parts) -> Option<String> {
    let id = parts.headers.get("x-user-id")?.to_str().ok()?;
    id.parse::<i64>().ok().map(|id| id.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL");
    let db = PgPool::connect(url.as_deref().unwrap_or(DEFAULT_URL)).await?;
    let app = Router::new().route("/articles/{id}/archive", post(archive));
    let app = app.with_state(db).layer(AuditLayer::new().actor(actor));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    Ok(axum::serve(listener, service).await?)
}

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/audit_blog_example";
