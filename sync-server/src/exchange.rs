//! One sync exchange on the server: read the request, store the pushed changes durably, and
//! answer with acknowledgements and what the device lacks, within its byte budget.

use automerge::Change;
use doorstep_core::domain::access::check_write;
use doorstep_core::sync::protocol::{
    self, Ack, AckStatus, DocChanges, Position, ProtocolError, Snapshot, SyncRequest, SyncResponse,
};
use doorstep_core::{ApplyOutcome, CoreError, IncomingChanges, Store};

use crate::accounts::Session;
use thiserror::Error;

/// The most bytes of changes and snapshots one response carries, whatever the device asks.
pub const MAX_BUDGET: usize = 4 << 20;
/// The most bytes of changes one household may push in one request; more is refused for that
/// household (the others go on).
pub const MAX_HOUSEHOLD_PUSH_BYTES: usize = 4 << 20;
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
    /// The token belongs to another device.
    #[error("登记令牌属于另一台设备，请在本机重新登记")]
    WrongDevice,
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
            ExchangeError::WrongDevice => 401,
            ExchangeError::Store(_) => 500,
        }
    }
}

/// What an exchange did, for the log and the audit trail.
#[derive(Debug, Default)]
pub struct ExchangeSummary {
    /// Households pushed and stored, with what was stored.
    pub stored: Vec<(String, String)>,
    /// Households pushed and refused, with the reason.
    pub refused: Vec<(String, String)>,
    /// Households sent to the device (changes or snapshots).
    pub sent: Vec<(String, String)>,
}

/// Handles one request body from an authenticated device and returns the response body. The
/// scope is the session's, whatever the request names; every pushed household is checked with
/// the core's access rules before it is stored.
pub fn handle(
    store: &Store,
    body: &[u8],
    session: &Session,
) -> Result<(Vec<u8>, ExchangeSummary), ExchangeError> {
    let mut request: SyncRequest = protocol::decode(body)?;
    if request.device != session.device_id {
        return Err(ExchangeError::WrongDevice);
    }
    request.scope = session.villages.clone();
    check_changes_decode(&request.push)?;
    let mut summary = ExchangeSummary::default();
    let acks = store_push(store, &request, session)?;
    for (ack, push) in acks.iter().zip(&request.push) {
        match &ack.status {
            AckStatus::Rejected { reason } => summary
                .refused
                .push((ack.household_id.clone(), reason.clone())),
            AckStatus::Stored => summary.stored.push((
                ack.household_id.clone(),
                format!("{} 条变更", push.changes.len()),
            )),
            AckStatus::MissingDependencies => {}
        }
    }
    let budget = (request.budget as usize).clamp(1, MAX_BUDGET);
    let mut response = SyncResponse {
        acks,
        changes: Vec::new(),
        snapshots: Vec::new(),
        next: request.position.clone(),
        remaining: 0,
    };
    let mut used = 0;
    match &request.position {
        Position::Changes { cursor } => {
            let page = store.journal_since(*cursor, &request.scope, &request.device, budget)?;
            used = page
                .changes
                .iter()
                .flat_map(|c| &c.changes)
                .map(Vec::len)
                .sum();
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
    let unserved = add_wanted_snapshots(store, &request, &mut response, used, budget)?;
    response.remaining += unserved;
    summary.sent.extend(response.changes.iter().map(|c| {
        (
            c.household_id.clone(),
            format!("{} 条变更", c.changes.len()),
        )
    }));
    summary.sent.extend(
        response
            .snapshots
            .iter()
            .map(|s| (s.household_id.clone(), "整户快照".to_string())),
    );
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

/// Stores the pushed households in one transaction, each checked with the access rules, and
/// acknowledges each.
fn store_push(
    store: &Store,
    request: &SyncRequest,
    session: &Session,
) -> Result<Vec<Ack>, ExchangeError> {
    let size = |d: &DocChanges| d.changes.iter().map(Vec::len).sum::<usize>();
    let batch: Vec<IncomingChanges> = request
        .push
        .iter()
        .filter(|d| size(d) <= MAX_HOUSEHOLD_PUSH_BYTES)
        .map(|d| IncomingChanges {
            household_id: d.household_id.clone(),
            changes: d.changes.clone(),
        })
        .collect();
    let guard = |before: Option<&_>, after: &_| {
        check_write(&session.user, &session.villages, before, after)
    };
    let outcomes = if batch.is_empty() {
        Vec::new()
    } else {
        store.apply_changes_checked(&request.device, batch.clone(), &guard)?
    };
    // One outcome per distinct household, in the order each first appears in the batch.
    let mut distinct: Vec<&str> = Vec::new();
    for d in &batch {
        if !distinct.contains(&d.household_id.as_str()) {
            distinct.push(&d.household_id);
        }
    }
    let outcome_of = |id: &str| {
        distinct
            .iter()
            .position(|d| *d == id)
            .and_then(|at| outcomes.get(at))
    };
    Ok(request
        .push
        .iter()
        .map(|doc| Ack {
            household_id: doc.household_id.clone(),
            status: if size(doc) > MAX_HOUSEHOLD_PUSH_BYTES {
                AckStatus::Rejected {
                    reason: format!("这一户的变更过大（超过 {MAX_HOUSEHOLD_PUSH_BYTES} 字节），请联系镇便民服务中心"),
                }
            } else {
                match outcome_of(&doc.household_id) {
                    Some(ApplyOutcome::Applied { .. }) => AckStatus::Stored,
                    Some(ApplyOutcome::MissingDependencies { .. }) => AckStatus::MissingDependencies,
                    Some(ApplyOutcome::Rejected { reason }) => AckStatus::Rejected {
                        reason: reason.clone(),
                    },
                    None => AckStatus::Rejected {
                        reason: "服务器未处理这一户".into(),
                    },
                }
            },
        })
        .collect())
}

/// The most households one request may ask for whole; more are ignored (the phone asks again).
pub const MAX_WANTED_SNAPSHOTS: usize = 256;

/// Adds the snapshots the device asked for (households it could not store), if in its scope,
/// within what is left of the byte budget (at least one when nothing else was sent). Each is
/// read after the journal page, so it holds every change of that page: the page's entry for the
/// same household is dropped, and no household is named twice in one answer. Returns how many
/// asked-for snapshots did not fit (they count as remaining, for another round).
fn add_wanted_snapshots(
    store: &Store,
    request: &SyncRequest,
    response: &mut SyncResponse,
    mut used: usize,
    budget: usize,
) -> Result<u64, ExchangeError> {
    let mut wanted: Vec<&String> = request
        .want_snapshots
        .iter()
        .take(MAX_WANTED_SNAPSHOTS)
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut unserved = 0;
    for id in wanted {
        if response.snapshots.iter().any(|s| &s.household_id == id) {
            continue;
        }
        let in_scope = match store.household(id) {
            Ok(data) => request.scope.contains(&data.household.village_id),
            Err(CoreError::NotFound { .. }) => false,
            Err(err) => return Err(err.into()),
        };
        if !in_scope {
            continue;
        }
        let bytes = store.export_snapshot(id)?;
        if used > 0 && used + bytes.len() > budget {
            unserved += 1;
            continue;
        }
        used += bytes.len();
        response.changes.retain(|c| &c.household_id != id);
        response.snapshots.push(Snapshot {
            household_id: id.clone(),
            bytes,
        });
    }
    Ok(unserved)
}
