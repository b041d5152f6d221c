//! A fault-injecting HTTP proxy on 127.0.0.1 between phones and the server. It works exchange
//! by exchange (one HTTP/1.1 request and its answer on a connection of its own) and, from a
//! seeded random stream, drops requests, loses answers after the server has acted, cuts
//! answers after a random byte, delays, sends requests twice, and replays old requests late
//! (an exchange overtaken by newer ones). The decision for the n-th exchange depends only on
//! the seed and n. The upstream can be changed while it runs (the server restarts on a new
//! port).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the proxy does with one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded as it is.
    None,
    /// The request never reaches the server.
    DropRequest,
    /// The server acts on the request; its answer is lost.
    DropAnswer,
    /// The answer is cut after a random byte.
    CutAnswer,
    /// The request waits a while before it goes on.
    Delay,
    /// The request reaches the server twice; the phone gets the second answer.
    Duplicate,
    /// The request goes through, and an old request is sent again after it.
    ReplayOld,
}

impl Fault {
    /// Every kind, for reports.
    pub const ALL: [Fault; 7] = [
        Fault::None,
        Fault::DropRequest,
        Fault::DropAnswer,
        Fault::CutAnswer,
        Fault::Delay,
        Fault::Duplicate,
        Fault::ReplayOld,
    ];
}

#[derive(Default)]
struct Shared {
    upstream: String,
    /// The chance (0 to 1) that an exchange gets a fault.
    rate: f64,
    exchanges: u64,
    counts: BTreeMap<Fault, u64>,
    /// Requests seen, for replays.
    old: Vec<Vec<u8>>,
}

/// The proxy; it runs until dropped.
pub struct FaultProxy {
    /// Its address, `http://127.0.0.1:PORT`.
    pub url: String,
    seed: u64,
    shared: Arc<Mutex<Shared>>,
    _runtime: tokio::runtime::Runtime,
}

/// Where the head of an HTTP/1.1 message in `seen` ends, and the length of its body, once the
/// whole head is there.
pub(crate) fn head_and_length(seen: &[u8]) -> Option<(usize, usize)> {
    let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some((head_end, length))
}

/// Reads one HTTP/1.1 message (head and `Content-Length` body) from `stream`; `None` when the
/// connection ends first.
async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some((head_end, length)) = head_and_length(&seen) {
            while seen.len() < head_end + length {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            return Some(seen);
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `request` to the server on a connection of its own and reads the answer.
async fn to_server(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(request).await.ok()?;
    read_message(&mut server).await
}

/// Asks for the connection to close after the exchange: each exchange gets its own.
fn close_after(request: Vec<u8>) -> Vec<u8> {
    let text = String::from_utf8_lossy(&request);
    let Some(head_end) = text.find("\r\n\r\n") else {
        return request;
    };
    let head: Vec<&str> = text[..head_end]
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut out = format!("{}\r\nConnection: close\r\n\r\n", head.join("\r\n")).into_bytes();
    out.extend_from_slice(&request[head_end + 4..]);
    out
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://HOST:PORT`) that faults exchanges at `rate`, from
    /// the random stream of `seed`.
    pub fn start(upstream: &str, seed: u64, rate: f64) -> FaultProxy {
        let (runtime, listener, url) = crate::loopback_listener("http");
        let shared = Arc::new(Mutex::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            rate,
            ..Shared::default()
        }));
        let state = Arc::clone(&shared);
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = Arc::clone(&state);
                tokio::spawn(exchange(client, state, seed));
            }
        });
        FaultProxy {
            url,
            seed,
            shared,
            _runtime: runtime,
        }
    }

    /// Points the proxy at a new upstream (the server restarted on another port).
    pub fn set_upstream(&self, upstream: &str) {
        self.lock().upstream = upstream.trim_start_matches("http://").to_string();
    }

    /// Changes the chance that an exchange gets a fault (0 turns faults off).
    pub fn set_rate(&self, rate: f64) {
        self.lock().rate = rate;
    }

    /// Exchanges so far of each kind.
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        self.lock().counts.clone()
    }

    /// The seed the proxy's faults come from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fault of exchange `n`: from the seed and `n` alone.
fn fault_of(seed: u64, n: u64, rate: f64) -> (Fault, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let detail: u64 = rng.random();
    if !rng.random_bool(rate.clamp(0.0, 1.0)) {
        return (Fault::None, detail);
    }
    let kind = Fault::ALL[1 + rng.random_range(0..Fault::ALL.len() - 1)];
    (kind, detail)
}

async fn exchange(mut client: TcpStream, shared: Arc<Mutex<Shared>>, seed: u64) {
    let Some(request) = read_message(&mut client).await else {
        return;
    };
    let request = close_after(request);
    let (fault, detail, upstream, old) = {
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        let n = s.exchanges;
        s.exchanges += 1;
        let (fault, detail) = fault_of(seed, n, s.rate);
        *s.counts.entry(fault).or_default() += 1;
        let old = (!s.old.is_empty()).then(|| s.old[detail as usize % s.old.len()].clone());
        if s.old.len() < 64 {
            s.old.push(request.clone());
        } else {
            let at = detail as usize % s.old.len();
            s.old[at] = request.clone();
        }
        (fault, detail, s.upstream.clone(), old)
    };
    let answer = match fault {
        Fault::DropRequest => return,
        Fault::Delay => {
            tokio::time::sleep(Duration::from_millis(detail % 400)).await;
            to_server(&upstream, &request).await
        }
        Fault::Duplicate => {
            let _ = to_server(&upstream, &request).await;
            to_server(&upstream, &request).await
        }
        _ => to_server(&upstream, &request).await,
    };
    let Some(answer) = answer else { return };
    match fault {
        Fault::DropAnswer => {}
        Fault::CutAnswer => {
            let keep = (detail as usize) % answer.len().max(1);
            let _ = client.write_all(&answer[..keep]).await;
        }
        _ => {
            let _ = client.write_all(&answer).await;
        }
    }
    let _ = client.shutdown().await;
    if let (Fault::ReplayOld, Some(old)) = (fault, old) {
        let _ = to_server(&upstream, &old).await;
    }
}
