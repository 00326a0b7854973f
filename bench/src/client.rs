//! A minimal HTTP/1.1 keep-alive client over one TCP connection: pre-built request bytes out,
//! status, `Mcp-Session-Id` and the (de-chunked) body in. Far cheaper per request than a
//! general client, so that the load generator's core is not what limits a server.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// The body of the last response.
    pub body: Vec<u8>,
    /// `Mcp-Session-Id` of the last response, when it had one.
    pub session: Option<String>,
    /// `Content-Type` of the last response was `text/event-stream`.
    pub sse: bool,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
        Self::over(TcpStream::connect(addr).await?)
    }

    /// A connection from the local address `from` (any of 127.0.0.0/8 on Linux).
    pub async fn connect_from(addr: SocketAddr, from: std::net::IpAddr) -> io::Result<Self> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        Self::over(socket.connect(addr).await?)
    }

    fn over(stream: TcpStream) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            body: Vec::with_capacity(64 * 1024),
            session: None,
            sse: false,
        })
    }

    /// Sends one request and reads its response; returns the status.
    pub async fn request(&mut self, req: &[u8]) -> io::Result<u16> {
        self.stream.write_all(req).await?;
        self.read_response().await
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
        }
        if self.len == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.len, 0);
                self.len -= self.pos;
                self.pos = 0;
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.stream.read(&mut self.buf[self.len..]).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        self.len += n;
        Ok(())
    }

    async fn read_response(&mut self) -> io::Result<u16> {
        // Head.
        let (status, head_len, length, chunked) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf[self.pos..self.len]) {
                Ok(httparse::Status::Complete(n)) => {
                    let mut length = None;
                    let mut chunked = false;
                    self.session = None;
                    self.sse = false;
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|v| v.trim().parse::<usize>().ok());
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = h.value.eq_ignore_ascii_case(b"chunked");
                        } else if h.name.eq_ignore_ascii_case("mcp-session-id") {
                            self.session = std::str::from_utf8(h.value).ok().map(str::to_owned);
                        } else if h.name.eq_ignore_ascii_case("content-type") {
                            self.sse = h.value.starts_with(b"text/event-stream");
                        }
                    }
                    break (resp.code.unwrap_or(0), n, length, chunked);
                }
                Ok(httparse::Status::Partial) => self.fill().await?,
                Err(_) => return Err(bad("malformed response head")),
            }
        };
        self.pos += head_len;
        self.body.clear();
        if chunked {
            loop {
                let (start, size) = loop {
                    match httparse::parse_chunk_size(&self.buf[self.pos..self.len]) {
                        Ok(httparse::Status::Complete((start, size))) => {
                            break (start, usize::try_from(size).map_err(|_| bad("chunk"))?);
                        }
                        Ok(httparse::Status::Partial) => self.fill().await?,
                        Err(_) => return Err(bad("malformed chunk size")),
                    }
                };
                self.pos += start;
                // The chunk, then its CRLF (for the last chunk: no trailers, one CRLF).
                while self.len - self.pos < size + 2 {
                    self.fill().await?;
                }
                self.body
                    .extend_from_slice(&self.buf[self.pos..self.pos + size]);
                self.pos += size + 2;
                if size == 0 {
                    break;
                }
            }
        } else {
            let length = length.unwrap_or(0);
            while self.len - self.pos < length {
                self.fill().await?;
            }
            self.body
                .extend_from_slice(&self.buf[self.pos..self.pos + length]);
            self.pos += length;
        }
        Ok(status)
    }

    /// The JSON-RPC message of the last response: the body, or the first SSE `data:` that
    /// carries an `id` (rmcp's session answers are event streams).
    pub fn message(&self) -> Option<serde_json::Value> {
        if !self.sse {
            return serde_json::from_slice(&self.body).ok();
        }
        let text = std::str::from_utf8(&self.body).ok()?;
        for event in text.split("\n\n") {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                continue;
            }
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&data.join("\n"))
                && v.get("id").is_some()
            {
                return Some(v);
            }
        }
        None
    }
}

/// One POST /mcp with a JSON body and the given extra headers.
pub fn post(port: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut req = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        req.push_str(name);
        req.push_str(": ");
        req.push_str(value);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.push_str(body);
    req.into_bytes()
}

/// DELETE /mcp with the given extra headers.
pub fn delete(port: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut req = format!("DELETE /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        req.push_str(name);
        req.push_str(": ");
        req.push_str(value);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req.into_bytes()
}
