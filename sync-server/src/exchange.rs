//! One sync exchange on the server: read the request, store the pushed changes durably, and
//! answer with acknowledgements and what the device lacks, within its byte budget.

use automerge::Change;
use doorstep_core::sync::protocol::{
    self, Ack, AckStatus, DocChanges, Position, ProtocolError, Snapshot, SyncRequest, SyncResponse,
};
use doorstep_core::{ApplyOutcome, CoreError, IncomingChanges, Store};
use thiserror::Error;

/// The most bytes of changes and snapshots one response carries, whatever the device asks.
pub const MAX_BUDGET: usize = 4 << 20;
/// Households listed per snapshot query.
const SNAPSHOT_PAGE: u32 = 256;

/// Why an exchange was refused or failed.
#[derive(Debug, Error)]
pub enum ExchangeError {
    /// The body is not a request this server can read.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A pushed change is not an automerge change.
    #[error("第 {index} 户（{household_id}）的变更无法解析：{reason}。本次同步未保存任何数据")]
    UndecodableChange {
        /// Position of the household in the push (from 1).
        index: usize,
        /// The household.
        household_id: String,
        /// The decoder's message.
        reason: String,
    },
    /// The server's store failed.
    #[error("服务器存储出错：{0}")]
    Store(#[from] CoreError),
}

impl ExchangeError {
    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            ExchangeError::Protocol(ProtocolError::TooLarge { .. }) => 413,
            ExchangeError::Protocol(_) | ExchangeError::UndecodableChange { .. } => 400,
            ExchangeError::Store(_) => 500,
        }
    }
}

/// What an exchange did, for the log.
#[derive(Debug, Default)]
pub struct ExchangeSummary {
    /// The device.
    pub device: String,
    /// Households pushed.
    pub pushed: usize,
    /// Of those, refused.
    pub rejected: usize,
    /// Households sent back (changes or snapshots).
    pub sent: usize,
}

/// Handles one request body and returns the response body.
pub fn handle(store: &Store, body: &[u8]) -> Result<(Vec<u8>, ExchangeSummary), ExchangeError> {
    let request: SyncRequest = protocol::decode(body)?;
    check_changes_decode(&request.push)?;
    let mut summary = ExchangeSummary {
        device: request.device.clone(),
        pushed: request.push.len(),
        ..ExchangeSummary::default()
    };
    let acks = store_push(store, &request)?;
    summary.rejected = acks
        .iter()
        .filter(|a| matches!(a.status, AckStatus::Rejected { .. }))
        .count();
    let budget = (request.budget as usize).clamp(1, MAX_BUDGET);
    let mut response = SyncResponse {
        acks,
        changes: Vec::new(),
        snapshots: Vec::new(),
        next: request.position.clone(),
        remaining: 0,
    };
    let mut used = add_wanted_snapshots(store, &request, &mut response)?;
    match &request.position {
        Position::Changes { cursor } => {
            let page = store.journal_since(
                *cursor,
                &request.scope,
                &request.device,
                budget.saturating_sub(used),
            )?;
            response.changes = page
                .changes
                .into_iter()
                .map(|c| DocChanges {
                    household_id: c.household_id,
                    changes: c.changes,
                })
                .collect();
            response.next = Position::Changes {
                cursor: page.cursor,
            };
            response.remaining = page.remaining;
        }
        Position::Snapshots { base, after } => {
            let base = match base {
                Some(b) => *b,
                None => store.journal_head()?,
            };
            let mut last = after.clone();
            'pages: loop {
                let ids = store.households_in(&request.scope, last.as_deref(), SNAPSHOT_PAGE)?;
                if ids.is_empty() {
                    break;
                }
                for id in ids {
                    let bytes = store.export_snapshot(&id)?;
                    if used > 0 && used + bytes.len() > budget {
                        break 'pages;
                    }
                    used += bytes.len();
                    last = Some(id.clone());
                    response.snapshots.push(Snapshot {
                        household_id: id,
                        bytes,
                    });
                }
            }
            let left = store.household_count(&request.scope, last.as_deref())?;
            if left == 0 {
                // Everything is here; what changed during the download comes as changes.
                response.next = Position::Changes { cursor: base };
                response.remaining = store.journal_count_after(base, &request.scope)?;
            } else {
                response.next = Position::Snapshots {
                    base: Some(base),
                    after: last,
                };
                response.remaining = left;
            }
        }
    }
    summary.sent = response.changes.len() + response.snapshots.len();
    Ok((protocol::encode(&response), summary))
}

/// Refuses the whole request, before anything is stored, if any pushed change is not an
/// automerge change at all.
fn check_changes_decode(push: &[DocChanges]) -> Result<(), ExchangeError> {
    for (index, doc) in push.iter().enumerate() {
        for bytes in &doc.changes {
            if let Err(err) = Change::from_bytes(bytes.clone()) {
                return Err(ExchangeError::UndecodableChange {
                    index: index + 1,
                    household_id: doc.household_id.clone(),
                    reason: err.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Stores the pushed households in one transaction and acknowledges each.
fn store_push(store: &Store, request: &SyncRequest) -> Result<Vec<Ack>, ExchangeError> {
    if request.push.is_empty() {
        return Ok(Vec::new());
    }
    let batch = request
        .push
        .iter()
        .map(|d| IncomingChanges {
            household_id: d.household_id.clone(),
            changes: d.changes.clone(),
        })
        .collect();
    let outcomes = store.apply_changes_from(&request.device, batch)?;
    Ok(request
        .push
        .iter()
        .zip(outcomes)
        .map(|(doc, outcome)| Ack {
            household_id: doc.household_id.clone(),
            status: match outcome {
                ApplyOutcome::Applied { .. } => AckStatus::Stored,
                ApplyOutcome::MissingDependencies { .. } => AckStatus::MissingDependencies,
                ApplyOutcome::Rejected { reason } => AckStatus::Rejected { reason },
            },
        })
        .collect())
}

/// Adds the snapshots the device asked for (households it could not store), if in its scope.
fn add_wanted_snapshots(
    store: &Store,
    request: &SyncRequest,
    response: &mut SyncResponse,
) -> Result<usize, ExchangeError> {
    let mut used = 0;
    for id in &request.want_snapshots {
        let in_scope = match store.household(id) {
            Ok(data) => request.scope.contains(&data.household.village_id),
            Err(CoreError::NotFound { .. }) => false,
            Err(err) => return Err(err.into()),
        };
        if in_scope {
            let bytes = store.export_snapshot(id)?;
            used += bytes.len();
            response.snapshots.push(Snapshot {
                household_id: id.clone(),
                bytes,
            });
        }
    }
    Ok(used)
}
