//! A scripted local HTTP/1.1 server for tests (feature `test-server`): each request is answered
//! by the first route whose path prefix matches, with that route's next scripted reply (the last
//! one repeats). It records every request line and `Authorization` header, so tests can check what
//! was asked and that credentials were sent.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A status, extra headers and a body (sent as `application/json`).
    Answer {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Reads the request and never answers (the connection stays open for `hold`).
    Silent {
        /// How long to hold the connection.
        hold: Duration,
    },
}

impl Reply {
    /// `200` with a JSON body.
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self::status(200, body)
    }

    /// A status with a body.
    pub fn status(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::Answer {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Answer { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// A request the server saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The request target: path and query, as sent.
    pub target: String,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
}

struct Route {
    prefix: String,
    replies: Vec<Reply>,
    next: usize,
}

/// A running server; it stops with the test process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestServer {
    /// Starts a server answering `routes`: `(path prefix, replies in order)`. A request no route
    /// matches is answered `404`.
    pub fn start(routes: Vec<(&str, Vec<Reply>)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let routes: Vec<Route> = routes
            .into_iter()
            .map(|(prefix, replies)| Route {
                prefix: prefix.to_owned(),
                replies,
                next: 0,
            })
            .collect();
        let routes = Arc::new(Mutex::new(routes));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen_by_server = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let routes = Arc::clone(&routes);
                let seen = Arc::clone(&seen_by_server);
                std::thread::spawn(move || serve(stream, &routes, &seen));
            }
        });
        Ok(Self { url, seen })
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn serve(stream: TcpStream, routes: &Mutex<Vec<Route>>, seen: &Mutex<Vec<Seen>>) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let target = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                authorization = Some(value.trim().to_owned());
            }
        }
        if let Ok(mut seen) = seen.lock() {
            seen.push(Seen {
                target: target.clone(),
                authorization,
            });
        }
        let reply = routes.lock().ok().and_then(|mut routes| {
            let route = routes.iter_mut().find(|r| target.starts_with(&r.prefix))?;
            let index = route.next.min(route.replies.len().checked_sub(1)?);
            route.next += 1;
            route.replies.get(index).cloned()
        });
        let reply = reply.unwrap_or_else(|| Reply::status(404, r#"{"error":"no route"}"#));
        match reply {
            Reply::Silent { hold } => {
                std::thread::sleep(hold);
                return;
            }
            Reply::Answer {
                status,
                headers,
                body,
            } => {
                let mut head = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                );
                for (name, value) in headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if writer.write_all(head.as_bytes()).is_err()
                    || writer.write_all(&body).is_err()
                    || writer.flush().is_err()
                {
                    return;
                }
            }
        }
    }
}
