//! The device's sync client (reqwest on tokio): rounds of push-and-pull until nothing is left,
//! each round committed locally before the next, with timeouts, retries with backoff,
//! cancellation and progress reports.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use super::protocol::{
    self, AckStatus, CONTENT_TYPE, DocChanges, ENROLL_PATH, EnrollRequest, EnrollResponse,
    MAX_PUSH_HOUSEHOLDS, MAX_WANTED_SNAPSHOTS, Position, ProtocolError, SYNC_PATH, SyncRequest,
    SyncResponse,
};
use crate::error::CoreError;
use crate::store::{
    IncomingChanges, IncomingSnapshot, PendingPush, PushOutcome, ReceivedRound, RejectedHousehold,
    Store,
};

/// How to sync.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncConfig {
    /// The server's base address, for example `http://127.0.0.1:8080`.
    pub server_url: String,
    /// About how many bytes one request or response may carry before another round is used.
    pub budget_bytes: u32,
    /// Time limit of one HTTP exchange.
    pub timeout: Duration,
    /// Time limit for connecting.
    pub connect_timeout: Duration,
    /// Retries of a failed exchange before giving up.
    pub retries: u32,
    /// The first wait before a retry; doubled each time.
    pub backoff: Duration,
    /// A safety limit on rounds in one sync.
    pub max_rounds: u32,
    /// CA certificates (PEM) that an HTTPS server must chain to, replacing the system's: the
    /// town's own CA, shipped with the app. Empty: the system's roots are used.
    pub trusted_certificates: Vec<String>,
}

impl SyncConfig {
    /// Defaults for a weak rural link: 256 KiB rounds, 30 s per exchange, 3 retries.
    pub fn new(server_url: impl Into<String>) -> SyncConfig {
        SyncConfig {
            server_url: server_url.into(),
            budget_bytes: 256 * 1024,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_rounds: 10_000,
            trusted_certificates: Vec::new(),
        }
    }
}

/// How far a sync has got, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncProgress {
    /// Rounds finished.
    pub rounds: u32,
    /// Households pushed so far.
    pub documents_sent: u64,
    /// Households received so far (changes or snapshots).
    pub documents_received: u64,
    /// Best estimate of all households to send and receive in this sync.
    pub documents_total: u64,
    /// Bytes sent so far (bodies).
    pub bytes_sent: u64,
    /// Bytes received so far (bodies).
    pub bytes_received: u64,
}

/// Receives progress reports (the app's progress bar).
pub trait ProgressListener: Send + Sync {
    /// Called after every finished round.
    fn on_progress(&self, progress: &SyncProgress);
}

/// What a finished sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SyncReport {
    /// The final progress figures.
    pub progress: SyncProgress,
    /// Households the server stored.
    pub stored: u64,
    /// Households the server refused, with reasons (their changes stay on the phone).
    pub rejected: Vec<RejectedHousehold>,
}

/// Why a sync stopped. Whatever was committed before stays committed. The `Display` text is
/// the Chinese message the bindings export; `detail` fields keep the network library's words
/// for support staff and are never shown.
#[derive(Debug, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum SyncError {
    /// The server could not be reached, or the connection broke, after every retry.
    #[error("网络连接失败，数据都保存在本机，有信号后会再同步")]
    Network {
        /// What failed, in the network library's words (not shown).
        detail: String,
    },
    /// The device is not (or no longer) enrolled: syncing stops until it enrolls again.
    #[error("本机已停止同步：{reason}")]
    Unauthorized {
        /// The server's reason (see [`server_reason`]).
        reason: String,
    },
    /// The server refused an enrollment (a wrong, used or expired code).
    #[error("登记失败：{reason}")]
    EnrollmentRefused {
        /// The server's reason (see [`server_reason`]).
        reason: String,
    },
    /// The device has not enrolled yet.
    #[error("本机还没有登记，请输入镇便民服务中心发放的登记码")]
    NotEnrolled,
    /// The server refused the request.
    #[error("服务器拒绝了同步请求（{status}）：{reason}")]
    Server {
        /// HTTP status.
        status: u16,
        /// The server's reason (see [`server_reason`]).
        reason: String,
        /// The body as the server (or a proxy in front of it) sent it (not shown).
        detail: String,
    },
    /// A trusted certificate given in the configuration is not a PEM certificate.
    #[error("服务器证书配置无效：{reason}。请联系镇便民服务中心更新应用")]
    Certificate {
        /// What is wrong with it, in Chinese.
        reason: String,
        /// The certificate parser's words, if any (not shown).
        detail: String,
    },
    /// The server's answer could not be read.
    #[error("服务器返回的数据无法识别：{reason}")]
    Protocol {
        /// What was wrong with it, in Chinese.
        reason: String,
        /// The decoder's words, if any (not shown).
        detail: String,
    },
    /// Cancelled by the user or the app.
    #[error("同步已取消，已完成的部分已保存")]
    Cancelled,
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] CoreError),
}

impl From<ProtocolError> for SyncError {
    fn from(err: ProtocolError) -> Self {
        let detail = match &err {
            ProtocolError::Corrupt { detail } => detail.clone(),
            _ => String::new(),
        };
        SyncError::Protocol {
            reason: err.to_string(),
            detail,
        }
    }
}

impl SyncError {
    fn retryable(&self) -> bool {
        match self {
            SyncError::Network { .. } | SyncError::Protocol { .. } => true,
            // 429: the server still works on this phone's previous request, or limits it.
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            SyncError::Cancelled
            | SyncError::Store(_)
            | SyncError::Unauthorized { .. }
            | SyncError::EnrollmentRefused { .. }
            | SyncError::Certificate { .. }
            | SyncError::NotEnrolled => false,
        }
    }
}

/// Runs a blocking store call off the async threads.
async fn blocking<T: Send + 'static>(
    store: &Arc<Store>,
    work: impl FnOnce(&Store) -> Result<T, CoreError> + Send + 'static,
) -> Result<T, SyncError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|e| SyncError::Store(crate::error::storage(e)))?
        .map_err(SyncError::Store)
}

/// The turn of one store (named by its device actor, unique to its file) for syncing and
/// enrolling, so that a background sync and one the agent starts take turns instead of sending
/// the same changes twice. Kept only while someone holds or waits for it.
fn turn_of(store: &Store) -> Arc<tokio::sync::Mutex<()>> {
    static TURNS: Mutex<Vec<(String, Weak<tokio::sync::Mutex<()>>)>> = Mutex::new(Vec::new());
    let mut turns = TURNS.lock().unwrap_or_else(|p| p.into_inner());
    turns.retain(|(_, turn)| turn.strong_count() > 0);
    let device = store.device_actor();
    if let Some(turn) = turns
        .iter()
        .find(|(id, _)| *id == device)
        .and_then(|(_, turn)| turn.upgrade())
    {
        return turn;
    }
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    turns.push((device, Arc::downgrade(&turn)));
    turn
}

/// Syncs `store` with the server: rounds of push-and-pull until nothing is left to push and
/// nothing to pull. Each round's results are committed before the next; a failure records its
/// message in the sync status and leaves earlier rounds in place. A second sync of the same
/// store waits for the first to finish.
pub async fn sync(
    store: Arc<Store>,
    config: SyncConfig,
    listener: Option<Arc<dyn ProgressListener>>,
    cancel: CancellationToken,
) -> Result<SyncReport, SyncError> {
    let turn = turn_of(&store);
    let _turn = turn.lock().await;
    let result = run(&store, &config, listener.as_deref(), &cancel).await;
    if let Err(err) = &result {
        let message = err.to_string();
        let failed = !matches!(err, SyncError::Cancelled);
        let block = match err {
            SyncError::Unauthorized { reason } => Some(reason.clone()),
            _ => None,
        };
        blocking(&store, move |s| {
            if let Some(reason) = block {
                s.block_sync(&reason)?;
            }
            s.record_sync_error(&message, failed)
        })
        .await?;
    }
    result
}

async fn run(
    store: &Arc<Store>,
    config: &SyncConfig,
    listener: Option<&dyn ProgressListener>,
    cancel: &CancellationToken,
) -> Result<SyncReport, SyncError> {
    let http = http_client(config)?;
    let url = format!("{}{}", config.server_url.trim_end_matches('/'), SYNC_PATH);
    let device = store.device_actor();
    let (token, blocked) =
        blocking(store, |s| Ok((s.device_token()?, s.sync_status()?.blocked))).await?;
    if let Some(reason) = blocked {
        return Err(SyncError::Unauthorized { reason });
    }
    let token = token.ok_or(SyncError::NotEnrolled)?;
    let budget = config.budget_bytes as usize;
    let mut report = SyncReport::default();
    let mut pending = blocking(store, |s| Ok(s.sync_status()?.pending_households)).await?;
    for _ in 0..config.max_rounds {
        if cancel.is_cancelled() {
            return Err(SyncError::Cancelled);
        }
        let (pushes, position, want_snapshots) = blocking(store, move |s| {
            Ok((
                s.pending_pushes(budget, MAX_PUSH_HOUSEHOLDS)?,
                s.sync_position()?,
                s.households_needing_snapshot()?
                    .into_iter()
                    .take(MAX_WANTED_SNAPSHOTS)
                    .collect(),
            ))
        })
        .await?;
        let standing = decode_standing(position.as_deref());
        let pushes_seen = standing.pushes;
        let request = SyncRequest {
            device: device.clone(),
            // The server takes the villages from the device's token.
            scope: Vec::new(),
            position: standing.position,
            pushes_seen,
            push: pushes
                .iter()
                .map(|push| DocChanges {
                    household_id: push.household_id.clone(),
                    changes: push.changes.clone(),
                })
                .collect(),
            want_snapshots,
            budget: config.budget_bytes,
        };
        let body = protocol::encode(&request);
        let (response, received_bytes) =
            exchange(&http, &url, &token, &body, config, cancel).await?;
        let remaining = response.remaining;
        let received_docs = (response.changes.len() + response.snapshots.len()) as u64;
        let pushed: Vec<PendingPush> = pushes;
        let pushed_count = pushed.len() as u64;
        let round = received_round(response, pushes_seen)?;
        let applied = blocking(store, move |s| s.finish_round(&pushed, round)).await?;

        let p = &mut report.progress;
        p.rounds += 1;
        p.bytes_sent += body.len() as u64;
        p.bytes_received += received_bytes;
        p.documents_sent += pushed_count;
        p.documents_received += received_docs;
        pending = pending.saturating_sub(applied.stored as u64);
        p.documents_total = p.documents_sent + p.documents_received + pending + remaining;
        report.stored += applied.stored as u64;
        report.rejected.extend(applied.rejected.iter().cloned());
        if let Some(listener) = listener {
            listener.on_progress(&report.progress);
        }
        let more_to_push = !blocking(store, |s| s.pending_pushes(0, 1))
            .await?
            .is_empty();
        let pushes_moved = applied.stored > 0 || applied.resend > 0;
        if remaining == 0 && !(more_to_push && pushes_moved) {
            return Ok(report);
        }
    }
    Ok(report)
}

/// Where a device is with the server, as the store keeps it: its position in the stream and
/// the server's count of its pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Standing {
    position: Position,
    pushes: u64,
}

/// Where a store is in the server's stream: what its next sync request will say.
pub fn position(store: &Store) -> Result<Position, CoreError> {
    Ok(decode_standing(store.sync_position()?.as_deref()).position)
}

/// The standing kept in the store, or the start for a device that has none (or one written by
/// an older protocol: it downloads its villages again).
fn decode_standing(stored: Option<&[u8]>) -> Standing {
    stored
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or(Standing {
            position: Position::start(),
            pushes: 0,
        })
}

/// What the store keeps of a response: the outcome of each push, what was received, and the
/// next position, encoded. The server's count of the device's pushes is taken only once the
/// device has caught up (`remaining` is 0): the server leaves the device's own changes out of
/// what it sends once the device has heard of every push, and a device restored from an old
/// copy that took the count from the first page of a long catch-up would never be sent its
/// own lost changes further on (`pushes_seen` is what the request said).
fn received_round(response: SyncResponse, pushes_seen: u64) -> Result<ReceivedRound, SyncError> {
    let standing = Standing {
        position: response.next,
        pushes: if response.remaining == 0 {
            response.pushes
        } else {
            pushes_seen
        },
    };
    let position =
        serde_json::to_vec(&standing).map_err(|e| SyncError::Store(crate::error::storage(e)))?;
    Ok(ReceivedRound {
        outcomes: response
            .acks
            .into_iter()
            .map(|ack| {
                let outcome = match ack.status {
                    AckStatus::Stored => PushOutcome::Stored,
                    AckStatus::Rejected { reason } => PushOutcome::Rejected { reason },
                    AckStatus::MissingDependencies => PushOutcome::MissingHistory,
                };
                (ack.household_id, outcome)
            })
            .collect(),
        changes: response
            .changes
            .into_iter()
            .map(|c| IncomingChanges {
                household_id: c.household_id,
                changes: c.changes,
            })
            .collect(),
        snapshots: response
            .snapshots
            .into_iter()
            .map(|s| IncomingSnapshot {
                household_id: s.household_id,
                bytes: s.bytes,
            })
            .collect(),
        position,
    })
}

/// One HTTP exchange, retried with backoff on network errors, server errors and unreadable
/// answers; never retried on a refusal (4xx) or after cancellation.
async fn exchange(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &[u8],
    config: &SyncConfig,
    cancel: &CancellationToken,
) -> Result<(SyncResponse, u64), SyncError> {
    let mut wait = config.backoff;
    let mut attempt = 0;
    loop {
        let result = tokio::select! {
            _ = cancel.cancelled() => return Err(SyncError::Cancelled),
            result = post(http, url, token, body) => result,
        };
        match result {
            Ok(answer) => return Ok(answer),
            Err(err) if err.retryable() && attempt < config.retries => {
                attempt += 1;
                tokio::select! {
                    _ = cancel.cancelled() => return Err(SyncError::Cancelled),
                    _ = tokio::time::sleep(wait) => {}
                }
                wait = wait.saturating_mul(2);
            }
            Err(err) => return Err(err),
        }
    }
}

/// The HTTP client for one sync or enrolment: its time limits, and the trusted certificates
/// when the configuration names them (then the platform's verifier is not used at all, which
/// is also what lets HTTPS work on Android without it).
fn http_client(config: &SyncConfig) -> Result<reqwest::Client, SyncError> {
    let mut builder = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        // Idle connections are dropped before the server closes them (it allows 10 s).
        .pool_idle_timeout(Duration::from_secs(5));
    if !config.trusted_certificates.is_empty() {
        let mut certificates = Vec::new();
        for pem in &config.trusted_certificates {
            let found = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                SyncError::Certificate {
                    reason: "无法读取证书".into(),
                    detail: e.to_string(),
                }
            })?;
            if found.is_empty() {
                return Err(SyncError::Certificate {
                    reason: "其中没有PEM格式的证书".into(),
                    detail: String::new(),
                });
            }
            certificates.extend(found);
        }
        builder = builder.tls_certs_only(certificates);
    }
    builder.build().map_err(network)
}

/// The longest server reason shown to a person; longer bodies are a proxy's pages.
const MAX_REASON_CHARS: usize = 200;

/// The reason in a refusal's body, to show to a person: the sync server writes it in Chinese;
/// anything else (a proxy's English or HTML page, an empty body) is replaced by a Chinese
/// sentence, the body being kept in the error's `detail` where there is one.
fn server_reason(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let chinese = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    if chinese && !text.contains('<') && text.chars().count() <= MAX_REASON_CHARS {
        text.to_string()
    } else {
        "服务器未说明原因，请稍后再试；如反复出现请联系镇便民服务中心".into()
    }
}

/// A refusal other than 401.
fn refused(status: reqwest::StatusCode, body: &[u8]) -> SyncError {
    SyncError::Server {
        status: status.as_u16(),
        reason: server_reason(body),
        detail: String::from_utf8_lossy(body).into_owned(),
    }
}

fn network(e: reqwest::Error) -> SyncError {
    SyncError::Network {
        detail: e.to_string(),
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &[u8],
) -> Result<(SyncResponse, u64), SyncError> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .bearer_auth(token)
        .body(body.to_vec())
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(network)?;
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(SyncError::Unauthorized {
            reason: server_reason(&bytes),
        });
    }
    if !status.is_success() {
        return Err(refused(status, &bytes));
    }
    let decoded = protocol::decode(&bytes)?;
    Ok((decoded, bytes.len() as u64))
}

/// Enrolls this device with a one-time code from hub staff: keeps the device token, signs the
/// user in, and returns the user and the villages they may sync.
pub async fn enroll(
    store: Arc<Store>,
    config: &SyncConfig,
    code: &str,
    device_name: &str,
) -> Result<EnrollResponse, SyncError> {
    let turn = turn_of(&store);
    let _turn = turn.lock().await;
    let request = EnrollRequest {
        code: code.to_string(),
        device: store.device_actor(),
        device_name: device_name.to_string(),
    };
    let url = format!("{}{}", config.server_url.trim_end_matches('/'), ENROLL_PATH);
    let body = serde_json::to_vec(&request).map_err(|e| {
        SyncError::from(ProtocolError::Corrupt {
            detail: e.to_string(),
        })
    })?;
    let response = http_client(config)?
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(network)?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(network)?;
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(SyncError::EnrollmentRefused {
            reason: server_reason(&bytes),
        });
    }
    if !status.is_success() {
        return Err(refused(status, &bytes));
    }
    let answer: EnrollResponse = serde_json::from_slice(&bytes).map_err(|e| {
        SyncError::from(ProtocolError::Corrupt {
            detail: e.to_string(),
        })
    })?;
    let (token, user) = (answer.token.clone(), answer.user.clone());
    blocking(&store, move |s| {
        s.set_device_token(&token)?;
        s.sign_in(user)
    })
    .await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_shows_the_servers_chinese_reason_and_never_a_proxys_page() {
        assert_eq!(
            server_reason("登记码无效或已过期\n".as_bytes()),
            "登记码无效或已过期"
        );
        let proxy = b"<html><body><h1>502 Bad Gateway</h1></body></html>";
        let err = refused(reqwest::StatusCode::BAD_GATEWAY, proxy);
        assert_eq!(
            err.to_string(),
            "服务器拒绝了同步请求（502）：服务器未说明原因，请稍后再试；如反复出现请联系镇便民服务中心"
        );
        assert!(matches!(&err, SyncError::Server { detail, .. } if detail.contains("Bad Gateway")));
        assert!(server_reason(b"").starts_with("服务器未说明原因"));
        assert!(
            server_reason("错".repeat(MAX_REASON_CHARS + 1).as_bytes())
                .starts_with("服务器未说明原因")
        );
    }
}
