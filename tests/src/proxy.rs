//! A loopback TCP proxy in front of the server that counts the bytes of every exchange (HTTP
//! heads included) and can cut responses in the middle of their body, as a weak 2G link drops
//! during a download.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// The proxy; it runs until dropped.
pub struct LinkProxy {
    /// Its address, `http://127.0.0.1:PORT`.
    pub url: String,
    counters: Arc<Counters>,
    _runtime: tokio::runtime::Runtime,
}

#[derive(Default)]
struct Counters {
    cuts: AtomicUsize,
    up: AtomicU64,
    down: AtomicU64,
}

/// Copies `from` to `to`, counting bytes.
async fn counted_copy(
    from: &mut (impl AsyncRead + Unpin),
    to: &mut (impl AsyncWrite + Unpin),
    count: &AtomicU64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Forwards the response's head and half of its body, then stops.
async fn forward_half(
    server: &mut (impl AsyncRead + Unpin),
    client: &mut (impl AsyncWrite + Unpin),
) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = server.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        let Some((head_end, length)) = crate::faults::head_and_length(&seen) else {
            continue;
        };
        let keep = head_end + length / 2;
        while seen.len() < keep {
            match server.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let _ = client.write_all(&seen[..keep.min(seen.len())]).await;
        return;
    }
}

impl LinkProxy {
    /// Starts a proxy to `upstream` (`http://HOST:PORT`) on a free loopback port.
    pub fn start(upstream: &str) -> LinkProxy {
        let (runtime, listener, url) = crate::loopback_listener("http");
        let upstream = upstream.trim_start_matches("http://").to_string();
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        runtime.spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let counters = Arc::clone(&shared);
                let cut = counters
                    .cuts
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut client_read, mut client_write) = client.split();
                    let (mut server_read, mut server_write) = server.split();
                    let up = counted_copy(&mut client_read, &mut server_write, &counters.up);
                    let down = async {
                        if cut {
                            forward_half(&mut server_read, &mut client_write).await;
                        } else {
                            counted_copy(&mut server_read, &mut client_write, &counters.down).await;
                        }
                    };
                    tokio::select! { _ = up => {}, _ = down => {} }
                });
            }
        });
        LinkProxy {
            url,
            counters,
            _runtime: runtime,
        }
    }

    /// Cuts the next `n` responses in the middle of their body.
    pub fn cut_next(&self, n: usize) {
        self.counters.cuts.store(n, Ordering::SeqCst);
    }

    /// Bytes sent up and down so far, and resets the counts.
    pub fn take_counts(&self) -> (u64, u64) {
        (
            self.counters.up.swap(0, Ordering::Relaxed),
            self.counters.down.swap(0, Ordering::Relaxed),
        )
    }
}
