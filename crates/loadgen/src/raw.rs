//! A lean HTTP/1.1 client for the measured hot loops (answer saves, the next item, the GET
//! reference): one kept-alive connection per simulated browser, the request written in one
//! `write` from a reused buffer, the response read into a reused buffer.
//!
//! Why not reqwest there: on this 2-core machine the load generator shares the CPU with the
//! server it measures, and reqwest (hyper's client with its pool, header maps and body streams)
//! took about 45 µs of CPU a request, 0.7 of a core at 15,000 requests a second. Every core-second
//! the generator spends is taken from the server under test. wrk and similar tools make the
//! same choice. Sign-ins and the storm keep reqwest: there the client's cost is not what limits.
//!
//! Supported: `Content-Length` and chunked bodies, `Connection: close` (the next request
//! reconnects), one request at a time per connection. A transport failure drops the
//! connection; the next request opens a new one, as a browser would.
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Where the server is: the socket address and the `Host` header's value.
#[derive(Clone, Debug)]
pub struct Target {
    addr: SocketAddr,
    host: String,
}

impl Target {
    /// From a base URL such as `http://127.0.0.1:18082` (plain HTTP to a numeric address or
    /// `localhost`: the generator only ever talks to this machine).
    pub fn parse(base: &str) -> Result<Target> {
        let rest = base.trim_end_matches('/').strip_prefix("http://").context("the lean client speaks plain http:// only")?;
        let host = rest.split('/').next().unwrap_or(rest).to_owned();
        let with_port = if host.contains(':') { host.clone() } else { format!("{host}:80") };
        let addr = with_port.replace("localhost", "127.0.0.1").parse::<SocketAddr>().with_context(|| format!("not an address: {host}"))?;
        Ok(Target { addr, host })
    }
}

/// A response: its status, head and body (kept in the connection's buffers).
pub struct Answer<'a> {
    pub status: u16,
    /// The status line and headers, `\r\n`-separated.
    pub head: &'a str,
    pub body: &'a [u8],
}

impl Answer<'_> {
    /// The `name=value` of a `Set-Cookie` header that sets cookie `name` (to anything).
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        self.head
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next().map(str::trim))
            .find(|kv| kv.split_once('=').is_some_and(|(k, _)| k.trim() == name))
    }
}

/// One browser's connection.
pub struct Conn {
    target: Target,
    stream: Option<TcpStream>,
    request: Vec<u8>,
    buf: Vec<u8>,
    head: String,
    body: Vec<u8>,
}

impl Conn {
    pub fn new(target: Target) -> Conn {
        Conn {
            target,
            stream: None,
            request: Vec::with_capacity(1024),
            buf: Vec::with_capacity(8192),
            head: String::new(),
            body: Vec::new(),
        }
    }

    /// Sends one request (`headers` are complete `Name: value\r\n` lines, without Host and
    /// Content-Length) and reads the whole answer, within `timeout`.
    pub async fn send(&mut self, method: &str, path: &str, headers: &str, body: &[u8], timeout: Duration) -> Result<Answer<'_>> {
        self.request.clear();
        self.request.extend_from_slice(method.as_bytes());
        self.request.push(b' ');
        self.request.extend_from_slice(path.as_bytes());
        self.request.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.request.extend_from_slice(self.target.host.as_bytes());
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(headers.as_bytes());
        if !body.is_empty() || method != "GET" {
            self.request.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        self.request.extend_from_slice(b"\r\n");
        self.request.extend_from_slice(body);
        match tokio::time::timeout(timeout, self.exchange()).await {
            Ok(Ok((status, keep))) => {
                if !keep {
                    self.stream = None;
                }
                Ok(Answer { status, head: &self.head, body: &self.body })
            }
            Ok(Err(e)) => {
                self.stream = None;
                Err(e)
            }
            Err(_) => {
                self.stream = None;
                bail!("no answer within {:.0} s", timeout.as_secs_f64())
            }
        }
    }

    /// Writes the request and reads the answer into `self.body`: the status and whether the
    /// connection stays open.
    async fn exchange(&mut self) -> Result<(u16, bool)> {
        let stream = match &mut self.stream {
            Some(s) => s,
            None => {
                let s = TcpStream::connect(self.target.addr).await.context("connect")?;
                s.set_nodelay(true)?;
                self.buf.clear();
                self.stream.insert(s)
            }
        };
        stream.write_all(&self.request).await.context("write")?;
        // The head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("response head is not UTF-8")?;
        self.head.clear();
        self.head.push_str(head);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or("");
        let status: u16 =
            status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).with_context(|| format!("bad status line {status_line:?}"))?;
        let (mut length, mut chunked, mut keep) = (None, false, !status_line.starts_with("HTTP/1.0"));
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().context("bad Content-Length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                keep = !value.eq_ignore_ascii_case("close");
            }
        }
        self.buf.drain(..head_end);
        self.body.clear();
        if chunked {
            loop {
                let line_end = loop {
                    if let Some(i) = find(&self.buf, b"\r\n") {
                        break i;
                    }
                    read_more(stream, &mut self.buf).await?;
                };
                let size_text = std::str::from_utf8(&self.buf[..line_end]).unwrap_or("");
                let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).context("bad chunk size")?;
                // The chunk, then its CRLF (after the last chunk: the empty trailer's CRLF).
                let need = line_end + 2 + size + 2;
                while self.buf.len() < need {
                    read_more(stream, &mut self.buf).await?;
                }
                self.body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                self.buf.drain(..need);
                if size == 0 {
                    break;
                }
            }
        } else {
            let Some(length) = length else {
                // No length and not chunked: the body runs to the end of the connection.
                loop {
                    let before = self.buf.len();
                    read_more(stream, &mut self.buf).await.ok();
                    if self.buf.len() == before {
                        break;
                    }
                }
                self.body.extend_from_slice(&self.buf);
                self.buf.clear();
                return Ok((status, false));
            };
            while self.buf.len() < length {
                read_more(stream, &mut self.buf).await?;
            }
            self.body.extend_from_slice(&self.buf[..length]);
            self.buf.drain(..length);
        }
        Ok((status, keep))
    }
}

/// `application/x-www-form-urlencoded` of the pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        for (j, part) in [k, v].iter().enumerate() {
            if j > 0 {
                out.push('=');
            }
            for b in part.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(char::from(b)),
                    b' ' => out.push('+'),
                    _ => out.push_str(&format!("%{b:02X}")),
                }
            }
        }
    }
    out
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.context("read")?;
    if n == 0 {
        bail!("the server closed the connection");
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers each request on a connection with the next canned response.
    async fn serve(responses: Vec<&'static str>) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            for r in responses {
                // Read one request head (no bodies in these tests but POST's Content-Length: 0).
                while find(&buf, b"\r\n\r\n").is_none() {
                    let mut chunk = [0u8; 1024];
                    let n = s.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                }
                let end = find(&buf, b"\r\n\r\n").unwrap() + 4;
                buf.drain(..end);
                s.write_all(r.as_bytes()).await.unwrap();
            }
        });
        Target::parse(&format!("http://{addr}")).unwrap()
    }

    #[tokio::test]
    async fn reads_length_and_chunked_bodies_on_one_connection() {
        let target = serve(vec![
            "HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nset-cookie: gk_exam=t0k; HttpOnly\r\ncontent-length: 5\r\n\r\nhello",
            "HTTP/1.1 409 Conflict\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
        ])
        .await;
        let mut c = Conn::new(target);
        let t = Duration::from_secs(5);
        let a = c.send("GET", "/a", "", b"", t).await.unwrap();
        assert_eq!((a.status, a.body), (200, &b"hello"[..]));
        assert_eq!((a.set_cookie("gk_exam"), a.set_cookie("a"), a.set_cookie("b")), (Some("gk_exam=t0k"), Some("a=1"), None));
        let a = c.send("POST", "/b", "X-Test: 1\r\n", b"", t).await.unwrap();
        assert_eq!((a.status, a.body), (409, &b"abcde"[..]));
        let a = c.send("GET", "/c", "", b"", t).await.unwrap();
        assert_eq!((a.status, a.body.len()), (204, 0));
    }

    #[tokio::test]
    async fn a_closed_connection_is_an_error_and_the_next_request_reconnects() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            // The first connection closes without answering; the second answers.
            let (s, _) = listener.accept().await.unwrap();
            drop(s);
            let (mut s, _) = listener.accept().await.unwrap();
            let mut chunk = [0u8; 1024];
            let _ = s.read(&mut chunk).await.unwrap();
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await.unwrap();
        });
        let mut c = Conn::new(Target::parse(&format!("http://{addr}/")).unwrap());
        let t = Duration::from_secs(5);
        assert!(c.send("GET", "/", "", b"", t).await.is_err());
        let a = c.send("GET", "/", "", b"", t).await.unwrap();
        assert_eq!((a.status, a.body), (200, &b"ok"[..]));
        assert!(c.stream.is_none(), "Connection: close drops the connection");
    }

    #[test]
    fn forms_are_url_encoded() {
        assert_eq!(form(&[("ticket_no", "2020 41"), ("x", "a&b=c/中")]), "ticket_no=2020+41&x=a%26b%3Dc%2F%E4%B8%AD");
    }

    #[test]
    fn targets_are_plain_http_addresses() {
        assert_eq!(Target::parse("http://127.0.0.1:18082/").unwrap().addr.port(), 18082);
        assert_eq!(Target::parse("http://localhost:8080").unwrap().host, "localhost:8080");
        assert!(Target::parse("https://127.0.0.1:1").is_err());
    }
}
