//! Helpers of the web integration tests: a real axum server on 127.0.0.1 and a minimal
//! HTTP/1.1 client over a plain TCP socket, which can send any header bytes (empty,
//! malformed, non-ASCII) and connect from any loopback address.
#![deny(missing_docs)]

use axum::Router;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

/// Serves `app` on a free port of 127.0.0.1, with the connection's address available to
/// the app (`into_make_service_with_connect_info::<SocketAddr>()`), until the runtime
/// stops. Returns the server's address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

/// A response: its status code and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
}

/// Sends `method path` to `server` from the local address `from` (any 127.x.y.z address
/// reaches a server on 127.0.0.1), with `headers` written as given, and reads the whole
/// response. Fails after 30 seconds.
pub async fn send(
    server: SocketAddr,
    from: IpAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
) -> std::io::Result<Response> {
    let exchange = async {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        let mut stream = socket.connect(server).await?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {server}\r\nConnection: close\r\nContent-Length: 0\r\n"
        )
        .into_bytes();
        for (name, value) in headers {
            request.extend_from_slice(name.as_bytes());
            request.extend_from_slice(b": ");
            request.extend_from_slice(value);
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        stream.write_all(&request).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no response in 30 s"))?
}

/// A plain GET of `path` from 127.0.0.1 with `headers`.
pub async fn get(
    server: SocketAddr,
    path: &str,
    headers: &[(&str, &[u8])],
) -> std::io::Result<Response> {
    send(server, [127, 0, 0, 1].into(), "GET", path, headers).await
}

fn parse(raw: &[u8]) -> std::io::Result<Response> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| invalid("no end of head"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status"))?;
    let chunked = head
        .lines()
        .any(|line| line.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        let mut decoded = String::new();
        let mut rest = body;
        loop {
            let (size, after) = rest
                .split_once("\r\n")
                .ok_or_else(|| invalid("chunk size"))?;
            let size = usize::from_str_radix(size.trim(), 16).map_err(|_| invalid("chunk size"))?;
            if size == 0 {
                break;
            }
            decoded.push_str(after.get(..size).ok_or_else(|| invalid("chunk"))?);
            rest = after.get(size + 2..).ok_or_else(|| invalid("chunk end"))?;
        }
        decoded
    } else {
        body.to_owned()
    };
    Ok(Response { status, body })
}
