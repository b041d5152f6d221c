//! One sync exchange on the server: read the request, store the pushed changes durably (each
//! household checked with the core's rules, its audit row in the same transaction), and answer
//! with acknowledgements and what the device lacks, within its byte budget, from one
//! consistent read of the database.

use std::collections::{BTreeMap, HashSet};

use automerge::{ActorId, ChangeHash};
use chrono::{DateTime, Utc};
use doorstep_core::access::{UnseenEvents, Writer, check_write, out_of_scope};
use doorstep_core::document::{Incoming, WrittenChange, decode_change, ops_in_change};
use doorstep_core::ids::is_id;
use doorstep_core::sync::protocol::{
    self, Ack, AckStatus, DocChanges, MAX_HOUSEHOLD_BYTES, MAX_HOUSEHOLD_OPS, MAX_OPS_PER_CHANGE,
    MAX_PUSH_OPS, MAX_WANTED_SNAPSHOTS, Position, ProtocolError, Snapshot, SyncRequest,
    SyncResponse,
};
use doorstep_core::time::shanghai;
use doorstep_core::{ApplyOutcome, CoreError};
use thiserror::Error;

use crate::limits::NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY;
use crate::storage::documents::{self, StoredHousehold};
use crate::storage::journal::{self, JournalEntry};
use crate::storage::{Conn, Scope, Session, Storage, StorageError, accounts, refusals};

/// The most bytes of changes and snapshots one response carries, whatever the device asks.
pub const MAX_BUDGET: usize = 4 << 20;
/// Households listed per snapshot query.
const SNAPSHOT_PAGE: i64 = 64;

/// Why an exchange was refused or failed.
#[derive(Debug, Error)]
pub enum ExchangeError {
    /// The body is not a request this server can read.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The token is not (or no longer) a device's.
    #[error("设备未登记或已被注销，请向镇便民服务中心申请新的登记码后重新登记")]
    Unauthorized,
    /// The token belongs to another device.
    #[error("登记令牌属于另一台设备，请在本机重新登记")]
    WrongDevice,
    /// The server's storage failed.
    #[error("服务器存储出错：{0}")]
    Storage(#[from] StorageError),
}

impl ExchangeError {
    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            ExchangeError::Protocol(ProtocolError::TooLarge { .. }) => 413,
            ExchangeError::Protocol(_) => 400,
            ExchangeError::Unauthorized | ExchangeError::WrongDevice => 401,
            ExchangeError::Storage(_) => 500,
        }
    }
}

/// What an exchange did, for the log.
#[derive(Debug, Default)]
pub struct ExchangeSummary {
    /// Households pushed and stored.
    pub stored: usize,
    /// Households pushed and refused.
    pub refused: usize,
    /// Households sent to the device (changes or snapshots).
    pub sent: usize,
}

/// The device behind `token`, which must be the device the request names.
fn session_of(
    conn: &mut dyn Conn,
    token: &str,
    request: &SyncRequest,
) -> Result<Session, ExchangeError> {
    let session = accounts::authenticate(conn, token)?.ok_or(ExchangeError::Unauthorized)?;
    if request.device != session.device_id {
        return Err(ExchangeError::WrongDevice);
    }
    Ok(session)
}

/// The device behind `token`, looked up before anything of its request is read; `None` for a
/// token that is not (or no longer) a device's, whose request is refused unread.
pub fn device_of(storage: &Storage, token: &str) -> Result<Option<String>, StorageError> {
    storage.read(|conn| Ok(accounts::authenticate(conn, token)?.map(|s| s.device_id)))
}

/// Handles one request body from the device behind `token` (looked up again once the whole
/// body has arrived, so a device revoked meanwhile is refused) and returns the response body and the
/// device's session. The scope is the session's, whatever the request names; every pushed
/// household is checked with the core's access rules before it is stored. A request that
/// pushes nothing is answered from one read transaction, authentication included.
pub fn handle(
    storage: &Storage,
    token: &str,
    body: &[u8],
) -> Result<(Vec<u8>, ExchangeSummary, Session), ExchangeError> {
    let request: SyncRequest = match protocol::decode(body) {
        Ok(request) => request,
        Err(err) => {
            audit_refusal(storage, token, &err.to_string())?;
            return Err(err.into());
        }
    };
    let result = respond(storage, token, &request);
    if let Err(err @ (ExchangeError::WrongDevice | ExchangeError::Unauthorized)) = &result {
        audit_refusal(storage, token, &err.to_string())?;
    }
    result
}

/// Stores what a decoded request pushes and answers it.
fn respond(
    storage: &Storage,
    token: &str,
    request: &SyncRequest,
) -> Result<(Vec<u8>, ExchangeSummary, Session), ExchangeError> {
    if request.push.is_empty() {
        let (session, response) = storage.read(|conn| {
            let session = match session_of(conn, token, request) {
                Ok(session) => session,
                Err(err) => return Ok(Err(err)),
            };
            let response = answer(conn, request, &session.scope, session.pushes)?;
            Ok(Ok((session, response)))
        })??;
        return finish(
            storage,
            &session,
            response,
            Vec::new(),
            ExchangeSummary::default(),
        );
    }
    let session = storage.read(|conn| Ok(session_of(conn, token, request)))??;
    let now = Utc::now();
    let (acks, pushes) = store_push(storage, request, &session, now)?;
    let mut summary = ExchangeSummary::default();
    for ack in &acks {
        match ack.status {
            AckStatus::Stored => summary.stored += 1,
            AckStatus::Rejected { .. } => summary.refused += 1,
            AckStatus::MissingDependencies => {}
        }
    }
    let response = storage.read(|conn| answer(conn, request, &session.scope, pushes))?;
    finish(storage, &session, response, acks, summary)
}

/// Writes an audit row for a request refused as a whole (no household named: `-`), when its
/// token is, or was, a device's; a request from no device leaves only a log line.
pub fn audit_refusal(storage: &Storage, token: &str, reason: &str) -> Result<(), StorageError> {
    let Some((user, device)) = storage.read(|conn| accounts::device_of_token(conn, token))? else {
        return Ok(());
    };
    let rows = [("-".to_string(), reason.to_string())];
    storage.write(|conn| accounts::audit(conn, &user, &device, "refused", &rows, Utc::now()))
}

/// Completes an answer: the acknowledgements, an audit row for each household sent, the
/// encoded body.
fn finish(
    storage: &Storage,
    session: &Session,
    mut response: SyncResponse,
    acks: Vec<Ack>,
    mut summary: ExchangeSummary,
) -> Result<(Vec<u8>, ExchangeSummary, Session), ExchangeError> {
    response.acks = acks;
    let sent: Vec<(String, String)> = response
        .changes
        .iter()
        .map(|c| {
            let detail = format!("{} 条变更", c.changes.len());
            (c.household_id.clone(), detail)
        })
        .chain(
            response
                .snapshots
                .iter()
                .map(|s| (s.household_id.clone(), "整户快照".to_string())),
        )
        .collect();
    summary.sent = sent.len();
    if !sent.is_empty() {
        let now = Utc::now();
        storage.write(|conn| {
            accounts::audit(
                conn,
                &session.user.id,
                &session.device_id,
                "read",
                &sent,
                now,
            )
        })?;
    }
    Ok((protocol::encode(&response), summary, session.clone()))
}

/// A pushed change, decoded once.
struct Pushed {
    bytes: Vec<u8>,
    hash: ChangeHash,
    /// The actor that wrote it (hex).
    actor: String,
    /// How many operations it holds.
    ops: usize,
}

/// The pushed changes of each household named, households in id order (the order rows are
/// locked in, so that concurrent pushes never deadlock); a household whose id is not of the
/// documented shape, or whose changes are not automerge changes, gets the reason instead.
/// Each change is measured before it is decoded (decoding visits every operation, and a small
/// change can hold millions): one of more than [`MAX_OPS_PER_CHANGE`] operations, or one past
/// [`MAX_HOUSEHOLD_OPS`] for the whole request, refuses its household undecoded; a copy of a
/// change already read is skipped.
fn by_household(push: &[DocChanges]) -> BTreeMap<&str, Result<Vec<Pushed>, String>> {
    let mut households: BTreeMap<&str, Result<Vec<Pushed>, String>> = BTreeMap::new();
    let mut seen: HashSet<&[u8]> = HashSet::new();
    let mut measured: usize = 0;
    for doc in push {
        let entry = households.entry(&doc.household_id).or_insert_with(|| {
            if is_id(&doc.household_id) {
                Ok(Vec::new())
            } else {
                Err("户编号格式不对（应为16位小写字母和数字），已拒收".into())
            }
        });
        let Ok(list) = entry else { continue };
        for bytes in &doc.changes {
            if !seen.insert(bytes.as_slice()) {
                continue;
            }
            let ops = match ops_in_change(bytes) {
                Ok(ops) => usize::try_from(ops).unwrap_or(usize::MAX),
                Err(err) => {
                    *entry = Err(err.to_string());
                    break;
                }
            };
            if ops > MAX_OPS_PER_CHANGE {
                *entry = Err(change_too_large());
                break;
            }
            measured = measured.saturating_add(ops);
            if measured > MAX_HOUSEHOLD_OPS {
                *entry = Err(push_too_large(MAX_HOUSEHOLD_OPS));
                break;
            }
            match decode_change(bytes) {
                Ok(change) => list.push(Pushed {
                    bytes: bytes.clone(),
                    hash: change.hash(),
                    actor: change.actor_id().to_hex_string(),
                    ops: change.len(),
                }),
                Err(err) => {
                    *entry = Err(err.to_string());
                    break;
                }
            }
        }
    }
    households
}

/// The refusal of a household with a change of more than [`MAX_OPS_PER_CHANGE`] operations.
fn change_too_large() -> String {
    format!("单次修改过大（超过 {MAX_OPS_PER_CHANGE} 项操作），已拒收；请分次修改")
}

/// The refusal of a household past the operations one push may hold.
fn push_too_large(limit: usize) -> String {
    format!("本次同步的修改过多（一次最多 {limit} 项操作），本户已拒收；请更新应用后再同步")
}

/// A household's changes stored, waiting for their journal numbers at the end of the
/// transaction.
struct Journaled {
    household_id: String,
    village_id: String,
    changes: Vec<WrittenChange>,
}

/// A pushed household that the server now holds: what goes to the journal (nothing if it had
/// every change already) and its document, to keep in memory once the transaction commits.
struct Held {
    journaled: Option<Journaled>,
    household: StoredHousehold,
    /// Operations of the changes new to the server (counted against the push's limit).
    ops: usize,
}

/// Stores the pushed households in one transaction, each checked with the access rules and
/// written in a savepoint of its own, with an audit row for each; acknowledges each household
/// named in the push, with the server's new count of the device's stored pushes.
fn store_push(
    storage: &Storage,
    request: &SyncRequest,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(Vec<Ack>, u64), ExchangeError> {
    let households = by_household(&request.push);
    let (statuses, held, pushes) = storage.write(|conn| {
        // A device revoked while its request was under way writes nothing.
        if !accounts::device_active(conn, &session.device_id)? {
            return Ok(Err(ExchangeError::Unauthorized));
        }
        let mut statuses: BTreeMap<&str, AckStatus> = BTreeMap::new();
        let mut journaled = Vec::new();
        let mut held = Vec::new();
        let (mut written, mut refused) = (Vec::new(), Vec::new());
        let mut ops_left = MAX_PUSH_OPS;
        for (&id, changes) in &households {
            let count = changes.as_ref().map_or(0, Vec::len);
            let status = match changes {
                Err(reason) => AckStatus::Rejected {
                    reason: reason.clone(),
                },
                Ok(changes) => match conn.savepoint(|conn| {
                    store_counted(conn, storage, id, changes, session, now, ops_left)
                }) {
                    Ok(Held {
                        journaled: entry,
                        household,
                        ops,
                    }) => {
                        ops_left -= ops;
                        journaled.extend(entry);
                        held.push((id.to_string(), household));
                        AckStatus::Stored
                    }
                    Err(Refusal::Refused(status)) => status,
                    Err(Refusal::Failed(StorageError::Core(err))) => AckStatus::Rejected {
                        reason: err.to_string(),
                    },
                    // The same household would break the same constraint every time (an id
                    // another household's record already has): refused, not retried forever.
                    Err(Refusal::Failed(err)) if err.is_constraint() => AckStatus::Rejected {
                        reason:
                            "这一户中有记录的编号与其他户的记录重复，已拒收；请联系镇便民服务中心"
                                .into(),
                    },
                    Err(Refusal::Failed(err)) => return Err(err),
                },
            };
            match &status {
                AckStatus::Stored => written.push((id.to_string(), format!("{count} 条变更"))),
                AckStatus::Rejected { reason } => refused.push((id.to_string(), reason.clone())),
                AckStatus::MissingDependencies => {}
            }
            statuses.insert(id, status);
        }
        append_journal(conn, &session.scope, &session.device_id, &journaled)?;
        // The device's own changes are left out of what it is sent, as long as it has heard
        // of every push the server stored for it.
        let pushes = if journaled.is_empty() {
            session.pushes
        } else {
            accounts::count_push(conn, &session.device_id)?
        };
        let (user, device) = (&session.user.id, &session.device_id);
        accounts::audit(conn, user, device, "write", &written, now)?;
        accounts::audit(conn, user, device, "refused", &refused, now)?;
        refusals::record(conn, device, &written, &refused, now)?;
        Ok(Ok((statuses, held, pushes)))
    })??;
    for (id, household) in held {
        storage.cache().keep(id, household);
    }
    let acks = request
        .push
        .iter()
        .map(|doc| Ack {
            household_id: doc.household_id.clone(),
            status: statuses
                .get(doc.household_id.as_str())
                .cloned()
                .unwrap_or(AckStatus::MissingDependencies),
        })
        .collect();
    Ok((acks, pushes))
}

/// Why one household was not stored (what it wrote is rolled back either way).
enum Refusal {
    /// The household is refused (or waits for history), with what to answer.
    Refused(AckStatus),
    /// The storage failed.
    Failed(StorageError),
}

impl From<StorageError> for Refusal {
    fn from(err: StorageError) -> Refusal {
        Refusal::Failed(err)
    }
}

/// Length in hex of the actors phones write with (16 bytes); the server's own are longer.
const DEVICE_ACTOR_HEX: usize = 32;

/// Refuses one household with a reason.
fn refuse(reason: impl Into<String>) -> Refusal {
    Refusal::Refused(AckStatus::Rejected {
        reason: reason.into(),
    })
}

/// Stores one pushed household (see [`store_household`]); one new to the server counts against
/// the device's new households of the day (Beijing time), and beyond
/// [`NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY`] is refused before anything of it is read.
fn store_counted(
    conn: &mut dyn Conn,
    storage: &Storage,
    household_id: &str,
    changes: &[Pushed],
    session: &Session,
    now: DateTime<Utc>,
    ops_left: usize,
) -> Result<Held, Refusal> {
    let day = now.with_timezone(&shanghai()).date_naive().to_string();
    let new = documents::village_of(conn, household_id)?.is_none();
    let device = &session.device_id;
    if new && accounts::new_households(conn, device, &day)? >= NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY {
        return Err(refuse(format!(
            "本机今天新建的户已达 {NEW_HOUSEHOLDS_PER_DEVICE_PER_DAY} 户的上限，已拒收；\
             请明天再同步，或联系镇便民服务中心"
        )));
    }
    let held = store_household(conn, storage, household_id, changes, session, ops_left)?;
    if new {
        accounts::count_new_household(conn, device, &day)?;
    }
    Ok(held)
}

/// Merges one household's pushed changes into the server's copy, checks the result with the
/// core's rules, and stores it. The changes the server does not have yet must be the device's
/// own and of bounded size, within the `ops_left` the push has left, and the household
/// must stay under its size limits; a household of another village is refused before anything
/// of it is read.
fn store_household(
    conn: &mut dyn Conn,
    storage: &Storage,
    household_id: &str,
    changes: &[Pushed],
    session: &Session,
    ops_left: usize,
) -> Result<Held, Refusal> {
    if documents::village_of(conn, household_id)?.is_some_and(|v| !session.scope.contains(&v)) {
        return Err(refuse(out_of_scope().to_string()));
    }
    // The server never writes changes of its own to a pushed household.
    let actor = ActorId::random();
    let mut stored = documents::load(conn, storage.cache(), household_id, actor.clone())?
        .unwrap_or_else(|| StoredHousehold::new(actor));
    let new: Vec<&Pushed> = changes
        .iter()
        .filter(|c| !stored.doc.has_change(&c.hash))
        .collect();
    let mut actors: Vec<String> = new.iter().map(|c| c.actor.clone()).collect();
    actors.sort();
    actors.dedup();
    for actor in &actors {
        match accounts::actor_device(conn, actor)? {
            Some(device) if device == session.device_id => {}
            // A phone takes a new actor each time its store opens; a new one is bound to it.
            None if actor.len() == DEVICE_ACTOR_HEX => {
                accounts::bind_actor(conn, actor, &session.device_id)?
            }
            _ => {
                return Err(refuse(
                    "这一户的修改中有不是本机写的变更（作者与登记的设备不符），已拒收",
                ));
            }
        }
    }
    let new_ops: usize = new.iter().map(|c| c.ops).sum();
    if new_ops > ops_left {
        return Err(refuse(push_too_large(MAX_PUSH_OPS)));
    }
    if stored.doc.op_count() + new_ops > MAX_HOUSEHOLD_OPS {
        return Err(refuse(format!(
            "本户档案的修改记录将超过 {MAX_HOUSEHOLD_OPS} 项操作的上限，已拒收；请联系镇便民服务中心"
        )));
    }
    let added: usize = new.iter().map(|c| c.bytes.len()).sum();
    if stored.size() + added > MAX_HOUSEHOLD_BYTES {
        return Err(refuse(format!(
            "本户档案将超过 {} KB 的上限，已拒收；请联系镇便民服务中心",
            MAX_HOUSEHOLD_BYTES >> 10
        )));
    }
    // What the device wrote: the changes new to the server (all of them its own, checked
    // above). What else the push carries (another device's steps it received meanwhile) the
    // server already held, and counts as seen only if the device's own changes depend on it.
    let written: Vec<ChangeHash> = new.iter().map(|c| c.hash).collect();
    let bytes = changes.iter().map(|c| c.bytes.clone()).collect();
    let (outcome, read) = stored
        .doc
        .receive(household_id, vec![Incoming::Changes(bytes)]);
    let read = match (outcome, read) {
        (ApplyOutcome::Applied { .. }, Some(read)) => read,
        (ApplyOutcome::MissingDependencies { .. }, _) => {
            return Err(Refusal::Refused(AckStatus::MissingDependencies));
        }
        (ApplyOutcome::Rejected { reason }, _) => return Err(refuse(reason)),
        (ApplyOutcome::Applied { .. }, None) => {
            return Err(Refusal::Failed(StorageError::Schema(
                "合并后没有读出档案".into(),
            )));
        }
    };
    let unseen = if written.is_empty() {
        UnseenEvents::new()
    } else {
        stored
            .doc
            .events_unseen_by(&written)
            .map_err(|err| refuse(err.to_string()))?
    };
    let writer = Writer {
        user: &session.user,
        actors: &actors,
        villages: &session.scope.villages,
    };
    check_write(&writer, stored.current(), &read.0, &unseen)
        .map_err(|err: CoreError| refuse(err.to_string()))?;
    let new_changes = stored.new_changes();
    if new_changes.is_empty() && stored.is_stored() {
        return Ok(Held {
            journaled: None,
            household: stored,
            ops: 0,
        });
    }
    let village_id = read.0.household.village_id.clone();
    documents::save(conn, &mut stored, read)?;
    Ok(Held {
        journaled: Some(Journaled {
            household_id: household_id.to_string(),
            village_id,
            changes: new_changes,
        }),
        household: stored,
        ops: new_ops,
    })
}

/// Numbers the stored changes in each town's journal, towns in order, at the end of the
/// transaction (so each town's counter is held only until the commit that follows).
fn append_journal(
    conn: &mut dyn Conn,
    scope: &Scope,
    origin: &str,
    journaled: &[Journaled],
) -> Result<(), StorageError> {
    let mut by_town: BTreeMap<&str, Vec<JournalEntry<'_>>> = BTreeMap::new();
    for household in journaled {
        let town = scope
            .town_of(&household.village_id)
            .unwrap_or(&household.village_id);
        let entries = by_town.entry(town).or_default();
        for change in &household.changes {
            entries.push(JournalEntry {
                household_id: &household.household_id,
                village_id: &household.village_id,
                origin,
                change,
            });
        }
    }
    for (town, entries) in by_town {
        journal::append(conn, town, &entries)?;
    }
    Ok(())
}

/// What the device lacks, from one consistent read: journal entries after its cursors (or a
/// page of snapshots for a new device), then the households it asked for whole.
/// `pushes` is the server's count of the device's stored pushes: a device that has not heard of
/// them all (restored from an old copy, or an answer lost) is sent its own changes too.
fn answer(
    conn: &mut dyn Conn,
    request: &SyncRequest,
    scope: &Scope,
    pushes: u64,
) -> Result<SyncResponse, StorageError> {
    let budget = (request.budget as usize).clamp(1, MAX_BUDGET);
    let mut response = SyncResponse {
        acks: Vec::new(),
        changes: Vec::new(),
        snapshots: Vec::new(),
        next: request.position.clone(),
        remaining: 0,
        pushes,
    };
    let own = (request.pushes_seen >= pushes).then_some(request.device.as_str());
    let mut used = 0;
    match &request.position {
        Position::Changes { cursors } => {
            let page = journal::page(conn, scope, cursors, own, budget)?;
            used = page.bytes;
            response.changes = page
                .changes
                .into_iter()
                .map(|(household_id, changes)| DocChanges {
                    household_id,
                    changes,
                })
                .collect();
            response.next = Position::Changes {
                cursors: page.cursors,
            };
            response.remaining = page.remaining;
        }
        Position::Snapshots { base, after } => {
            let base = match base {
                Some(b) => b.clone(),
                None => journal::heads(conn, scope)?,
            };
            let mut last = after.clone();
            'pages: loop {
                let ids = documents::ids_in(conn, &scope.villages, last.as_deref(), SNAPSHOT_PAGE)?;
                if ids.is_empty() {
                    break;
                }
                for id in ids {
                    let Some(bytes) = documents::bytes(conn, &id)? else {
                        continue;
                    };
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
            let left = documents::count_in(conn, &scope.villages, last.as_deref())?;
            if left == 0 {
                // Everything is here; what changed during the download comes as changes.
                response.remaining = journal::count_scope_after(conn, scope, &base)?;
                response.next = Position::Changes { cursors: base };
            } else {
                response.next = Position::Snapshots {
                    base: Some(base),
                    after: last,
                };
                response.remaining = left;
            }
        }
    }
    response.remaining += add_wanted_snapshots(conn, request, scope, &mut response, used, budget)?;
    Ok(response)
}

/// Adds the snapshots the device asked for (households it could not store), if in its scope,
/// within what is left of the byte budget (at least one when nothing else was sent). Each is
/// read in the same transaction as the journal page, so it holds every change of that page:
/// the page's entry for the same household is dropped, and no household is named twice in one
/// answer. Returns how many asked-for snapshots did not fit (they count as remaining).
fn add_wanted_snapshots(
    conn: &mut dyn Conn,
    request: &SyncRequest,
    scope: &Scope,
    response: &mut SyncResponse,
    mut used: usize,
    budget: usize,
) -> Result<u64, StorageError> {
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
        let in_scope = documents::village_of(conn, id)?.is_some_and(|v| scope.contains(&v));
        if !in_scope {
            continue;
        }
        let Some(bytes) = documents::bytes(conn, id)? else {
            continue;
        };
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
