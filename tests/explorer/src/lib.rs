//! Helpers of the explorer's browser tests: the generated code of the history test
//! schema, an axum server on a free port, and a headless chromium driven through
//! WebDriver (chromedriver started on a free port and stopped at the end).
#![deny(missing_docs)]

use axum::Router;
use fantoccini::{Client, ClientBuilder};
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

/// The generated audit code of `tests/history/fixtures/schema.sql` (`article`,
/// `tag_link`, actor ids as text).
pub mod audit {
    #![allow(missing_docs)]
    audit_runtime::include_audit!();
}

/// Serves `app` on a free port of 127.0.0.1 until the runtime stops; returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The chromium binary: `CHROMIUM` or Debian's `/usr/bin/chromium`.
pub fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// The chromedriver binary: `CHROMEDRIVER` or Debian's `/usr/bin/chromedriver`.
pub fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned())
}

/// A headless chromium session. chromedriver runs in a process group of its own, with
/// the chromium it starts; the whole group is killed when this value is dropped, also
/// when a test fails half-way.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
}

impl Browser {
    /// The time zone chromium runs in (`TZ`), so that "local time" is the same on every
    /// machine: UTC+05:30 all year.
    pub const TIME_ZONE: &'static str = "Asia/Kolkata";

    /// Starts chromedriver on a free port and opens a headless chromium window of
    /// `width` × `height` CSS pixels, in [`Browser::TIME_ZONE`].
    ///
    /// # Panics
    ///
    /// When chromium or chromedriver is missing (the message names the Debian packages)
    /// or does not start.
    pub async fn start(width: u32, height: u32) -> Self {
        for (what, path) in [("chromium", chromium()), ("chromedriver", chromedriver())] {
            assert!(
                std::path::Path::new(&path).exists(),
                "{what} not found at {path}: install Debian's `chromium` and `chromium-driver` \
                 (bash .ci/run does) or point CHROMIUM / CHROMEDRIVER at them"
            );
        }
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("port").port()
        };
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .env("TZ", Self::TIME_ZONE)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": chromium(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--window-size={width},{height}"),
                ],
            }),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let mut builder =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&url).await {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot open a chromium session through {url}: {e}"),
            }
        };
        let browser = Self { client, driver };
        browser.resize(width, height).await;
        browser
    }

    /// Makes the page's viewport `width` × `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize the window");
        // The window includes no browser chrome in headless mode, but make sure.
        let inner: Vec<u32> = serde_json::from_value(
            self.client
                .execute("return [window.innerWidth, window.innerHeight]", vec![])
                .await
                .expect("viewport"),
        )
        .unwrap_or_default();
        if let [w, h] = inner[..]
            && (w, h) != (width, height)
        {
            let (dw, dh) = (
                (2 * width).saturating_sub(w),
                (2 * height).saturating_sub(h),
            );
            let _ = self.client.set_window_size(dw, dh).await;
        }
    }

    /// Ends the session (chromium exits), then chromedriver.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            // chromedriver leads its group: `kill -KILL -PID` ends it and every chromium
            // process it started.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}
