//! Takes the README's screenshots of the audit explorer: each page at a desktop and a
//! phone width, from an explorer already being served (e.g. the blog example's).
//!
//! ```sh
//! cargo run -p blog -- serve 127.0.0.1:8080 &
//! cargo run -p audit-explorer-check --bin screenshots -- http://127.0.0.1:8080/admin/audit docs/explorer
//! ```
//!
//! It walks the pages as a person would: the index, the first table with activity
//! (`article` when there is one), the record of its newest change, that change's actor,
//! and the actor's newest transaction.

use audit_explorer_check::Browser;
use fantoccini::Locator;
use std::path::PathBuf;
use std::process::ExitCode;

/// Desktop and phone viewports (CSS pixels).
const SIZES: [(&str, u32, u32); 2] = [("desktop", 1280, 860), ("phone", 390, 844)];

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: screenshots EXPLORER_URL OUTPUT_DIR");
        return ExitCode::FAILURE;
    };
    let out = PathBuf::from(out);
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    for (name, width, height) in SIZES {
        let browser = Browser::start(width, height).await;
        let result = walk(&browser, &root, &out, name).await;
        browser.close().await;
        if let Err(e) = result {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

type Error = Box<dyn std::error::Error>;

async fn walk(b: &Browser, root: &str, out: &std::path::Path, size: &str) -> Result<(), Error> {
    let shoot = |page: &'static str| {
        let path = out.join(format!("{page}-{size}.png"));
        async move {
            let png = b.client.screenshot().await?;
            std::fs::write(&path, png)?;
            println!("wrote {}", path.display());
            Ok::<(), Error>(())
        }
    };
    let click = |css: &'static str| async move {
        b.client.find(Locator::Css(css)).await?.click().await?;
        Ok::<(), Error>(())
    };
    b.client.goto(root).await?;
    shoot("index").await?;
    match b.client.find(Locator::LinkText("article")).await {
        Ok(link) => link.click().await?,
        Err(_) => click("ul.tables a").await?,
    }
    shoot("table").await?;
    click(".change a.key").await?;
    shoot("record").await?;
    click(".change a.actor").await?;
    shoot("actor").await?;
    click(".group h2 a").await?;
    shoot("transaction").await?;
    Ok(())
}
