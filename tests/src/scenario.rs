//! Randomized schedules of phones and a server: the phones of two villages (two devices of one
//! agent, the village heads, the other agent, whose clock is years off) and town hub staff on a
//! phone of their own make random valid edits of every kind while offline, sync at random
//! through a fault-injecting proxy, have their stores closed and reopened, while hub staff act
//! through the server itself and the server process is killed (SIGKILL) and restarted. At the
//! end, after quiet rounds of syncs without faults, every edit made anywhere must be on every
//! phone of its village, phones of one scope must hold identical documents and query tables,
//! the server's own tables must match the town's phone, and no phone may hold a household
//! outside its villages.
//!
//! With several server processes on one database, each sync goes to one of them at random: the
//! servers keep no state of their own.
//!
//! A schedule is fully determined by its seed (the server's own randomness, such as ids it
//! generates, does not change what the phones do).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use doorstep_core::domain::catalogue::item;
use doorstep_core::*;
use doorstep_demo::{DemoOptions, DemoTown};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::faults::{Fault, FaultProxy};
use crate::{ServerProcess, enroll_phone, prepare_server_data, quick_config, sync_now};
use doorstep_sync_server::storage::{Cols, Storage};

/// How a schedule runs.
#[derive(Debug, Clone)]
pub struct ScenarioOptions {
    /// Random steps before the quiet rounds.
    pub steps: usize,
    /// Households per village in the generated town.
    pub households_per_village: usize,
    /// Chance per step that the server is killed and restarted.
    pub restart_chance: f64,
    /// Chance per step that a phone's store is closed and reopened.
    pub reopen_chance: f64,
    /// Server processes sharing the database; each sync goes to one of them at random.
    pub servers: usize,
    /// Chance that an exchange between a phone and the server gets a fault (see [`Fault`]).
    pub fault_rate: f64,
    /// Chance per step that hub staff edit a household through the server.
    pub hub_chance: f64,
    /// Chance per step that a phone's store is copied away, or (once copied, and when all it
    /// has is on the server) restored from that old copy.
    pub backup_chance: f64,
}

impl Default for ScenarioOptions {
    fn default() -> Self {
        ScenarioOptions {
            steps: 60,
            households_per_village: 4,
            restart_chance: 0.05,
            reopen_chance: 0.05,
            servers: 1,
            fault_rate: 0.2,
            hub_chance: 0.08,
            backup_chance: 0.03,
        }
    }
}

/// What a schedule did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioReport {
    /// Edits made on phones.
    pub edits: usize,
    /// Syncs run (each to completion).
    pub syncs: usize,
    /// Server kills and restarts.
    pub restarts: usize,
    /// Phone stores closed and reopened.
    pub reopens: usize,
    /// Phone stores restored from an old copy.
    pub restores: usize,
    /// Edits hub staff made through the server.
    pub hub_edits: usize,
    /// Syncs that failed under faults (phones try again later).
    pub failed_syncs: usize,
    /// Records and job steps that had to be on every phone of their village at the end.
    pub checked_facts: usize,
    /// Exchanges through the proxy, by what it did to them.
    pub faults: BTreeMap<Fault, u64>,
}

impl ScenarioReport {
    /// Adds another schedule's figures to these.
    pub fn add(&mut self, other: &ScenarioReport) {
        self.edits += other.edits;
        self.hub_edits += other.hub_edits;
        self.syncs += other.syncs;
        self.failed_syncs += other.failed_syncs;
        self.restarts += other.restarts;
        self.reopens += other.reopens;
        self.restores += other.restores;
        self.checked_facts += other.checked_facts;
        for (fault, n) in &other.faults {
            *self.faults.entry(*fault).or_default() += n;
        }
    }
}

/// What went wrong in a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// An edit made somewhere is missing where it should be.
    Lost,
    /// Replicas that should agree do not.
    Diverged,
    /// An honest household was refused or set aside.
    Refused,
    /// A phone could not sync once the faults stopped.
    Stuck,
    /// Anything else (an edit the core refused, a server that would not start).
    Other,
}

/// A failed schedule.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The seed that reproduces it.
    pub seed: u64,
    /// Its kind.
    pub kind: FailureKind,
    /// What happened, and where.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seed {} ({:?}): {}", self.seed, self.kind, self.message)
    }
}

/// A failure of the kind `kind` with its message.
fn failure(kind: FailureKind, message: String) -> (FailureKind, String) {
    (kind, message)
}

/// A failure of no particular kind.
fn other(message: impl std::fmt::Display) -> (FailureKind, String) {
    (FailureKind::Other, message.to_string())
}

/// One phone in the schedule.
struct Phone {
    name: String,
    path: PathBuf,
    user: User,
    villages: Vec<String>,
    clock: ScheduleClock,
    store: Arc<Store>,
    /// An old copy of the store's files, if one was taken.
    backup: Option<PathBuf>,
}

/// A record or job step made somewhere, that must end up everywhere in its village.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Fact {
    village: String,
    household: String,
    what: &'static str,
    id: String,
}

/// The schedule's time, shared by every phone's store (it only moves forward), seen by one
/// phone `offset_ms` off.
#[derive(Clone)]
struct ScheduleClock {
    base: Arc<AtomicI64>,
    offset_ms: i64,
}

impl Clock for ScheduleClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.base.load(Ordering::Relaxed) + self.offset_ms)
            .unwrap_or_default()
    }
}

impl ScheduleClock {
    fn advance(&self, minutes: i64) {
        self.base.fetch_add(minutes * 60_000, Ordering::Relaxed);
    }

    /// The same time, seen `years` off.
    fn off_by_years(&self, years: i64) -> ScheduleClock {
        ScheduleClock {
            base: Arc::clone(&self.base),
            offset_ms: years * 365 * 24 * 3_600_000,
        }
    }
}

struct World {
    rng: ChaCha8Rng,
    clock: ScheduleClock,
    servers: Vec<ServerProcess>,
    proxy: FaultProxy,
    /// The server's database, for hub staff's edits.
    hub: Storage,
    staff: User,
    data: String,
    phones: Vec<Phone>,
    facts: BTreeSet<Fact>,
    report: ScenarioReport,
    /// The household and job a phone last took a step on: other phones often take their own
    /// step on the same job before hearing of it (concurrent steps from several devices).
    hot: Option<(String, String)>,
}

/// Runs the schedule of `seed` against the server executable `exe`, in a temporary folder.
/// `Err` says what went wrong and at which step.
pub fn run(exe: &Path, seed: u64, options: &ScenarioOptions) -> Result<ScenarioReport, Failure> {
    run_schedule(exe, seed, options).map_err(|(kind, message)| Failure {
        seed,
        kind,
        message,
    })
}

fn run_schedule(
    exe: &Path,
    seed: u64,
    options: &ScenarioOptions,
) -> Result<ScenarioReport, (FailureKind, String)> {
    let dir = tempfile::tempdir().map_err(other)?;
    let data = crate::test_data(dir.path());
    let demo = DemoOptions {
        seed,
        villages: 2,
        households_per_village: options.households_per_village,
        jobs_per_household: 1.0,
        ..DemoOptions::default()
    };
    let (town, state) = prepare_server_data(&data, &demo);
    let servers: Vec<ServerProcess> = (0..options.servers.max(1))
        .map(|_| ServerProcess::start(exe, &data))
        .collect();
    let now = DateTime::parse_from_rfc3339("2026-11-20T02:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    let clock = ScheduleClock {
        base: Arc::new(AtomicI64::new(now.timestamp_millis())),
        offset_ms: 0,
    };
    let proxy = FaultProxy::start(&servers[0].url, seed, options.fault_rate);
    let mut world = World {
        rng: ChaCha8Rng::seed_from_u64(seed),
        clock: clock.clone(),
        servers,
        proxy,
        hub: crate::open_storage(&data).map_err(other)?,
        staff: town_user(&town, "town-staff-2")?,
        data: data.clone(),
        phones: Vec::new(),
        facts: BTreeSet::new(),
        report: ScenarioReport::default(),
        hot: None,
    };
    let cast = [
        ("agent-1a", "sanzhang-v01-agent"),
        ("agent-1b", "sanzhang-v01-agent"),
        ("head-1", "sanzhang-v01-head"),
        ("agent-2", "sanzhang-v02-agent"),
        ("head-2", "sanzhang-v02-head"),
        ("town", "town-staff-1"),
    ];
    for (name, user_id) in cast {
        let user = town_user(&town, user_id)?;
        let path = dir.path().join(format!("{name}.db"));
        // One agent's phone runs years behind: nothing may depend on device clocks.
        let phone_clock = if name == "agent-2" {
            clock.off_by_years(-5)
        } else {
            clock.clone()
        };
        let store =
            Arc::new(Store::open_with_clock(&path, Arc::new(phone_clock.clone())).map_err(other)?);
        store.sign_in(user.clone()).map_err(other)?;
        let answer = enroll_phone(&state.storage, &world.servers[0].url, &store, &user.id);
        world.phones.push(Phone {
            name: name.to_string(),
            path,
            user,
            villages: answer.villages,
            clock: phone_clock,
            store,
            backup: None,
        });
    }
    drop(state);
    for step in 0..options.steps {
        world
            .step(options)
            .map_err(|(kind, e)| (kind, format!("step {step}: {e}")))?;
    }
    world
        .settle()
        .map_err(|(kind, e)| (kind, format!("quiet rounds: {e}")))?;
    world
        .check()
        .map_err(|(kind, e)| (kind, format!("final check: {e}")))?;
    world.report.faults = world.proxy.counts();
    Ok(world.report)
}

fn town_user(town: &DemoTown, id: &str) -> Result<User, (FailureKind, String)> {
    town.users
        .iter()
        .find(|u| u.user.id == id)
        .map(|u| u.user.clone())
        .ok_or_else(|| other(format!("no user {id} in the demo town")))
}

/// A step's outcome: fine, or a failure of some kind.
type Outcome = Result<(), (FailureKind, String)>;

impl World {
    fn step(&mut self, options: &ScenarioOptions) -> Outcome {
        self.clock.advance(self.rng.random_range(1..240));
        let roll: f64 = self.rng.random();
        if roll < options.restart_chance {
            let server = self.rng.random_range(0..self.servers.len());
            self.servers[server].restart();
            self.report.restarts += 1;
            return Ok(());
        }
        if roll < options.restart_chance + options.hub_chance {
            return self.hub_edit();
        }
        let phone = self.rng.random_range(0..self.phones.len());
        let mut chance = options.restart_chance + options.hub_chance;
        chance += options.reopen_chance;
        if roll < chance {
            return self.reopen(phone);
        }
        chance += options.backup_chance;
        if roll < chance {
            return self.backup_or_restore(phone);
        }
        if roll < 0.35 {
            return self.sync(phone, false);
        }
        self.edit(phone).map_err(other)
    }

    /// Syncs a phone with one of the servers, through the proxy. Under faults a sync may fail
    /// (the phone tries again later); once they have stopped (`quiet`) it must succeed. An
    /// honest household refused or set aside is a failure either way. Often the rounds are
    /// small (a tiny byte budget: one household pushed per round, received changes arriving
    /// between the pushes), and sometimes the agent edits during the sync: a round or two,
    /// an edit, then the rest.
    fn sync(&mut self, phone: usize, quiet: bool) -> Outcome {
        if !quiet && self.rng.random_bool(0.25) {
            let rounds = self.rng.random_range(1..=2);
            self.sync_rounds(phone, false, rounds)?;
            self.edit(phone).map_err(other)?;
        }
        self.sync_rounds(phone, quiet, u32::MAX)
    }

    /// One sync of at most `max_rounds` rounds (see [`World::sync`]).
    fn sync_rounds(&mut self, phone: usize, quiet: bool, max_rounds: u32) -> Outcome {
        let server = &self.servers[self.rng.random_range(0..self.servers.len())];
        self.proxy.set_upstream(&server.url);
        let p = &self.phones[phone];
        let mut config = quick_config(&self.proxy.url);
        // Sometimes the phone gives up at the first fault and tries again at a later step.
        config.retries = self.rng.random_range(0..=2);
        config.backoff = std::time::Duration::from_millis(5);
        config.timeout = std::time::Duration::from_secs(10);
        config.max_rounds = max_rounds.min(config.max_rounds);
        if self.rng.random_bool(0.5) {
            config.budget_bytes = self.rng.random_range(1..4096);
        }
        let mut refused = Vec::new();
        match sync_now(&p.store, config) {
            Ok(report) => {
                self.report.syncs += 1;
                refused = report.rejected;
            }
            Err(e) if quiet => {
                return Err(failure(
                    FailureKind::Stuck,
                    format!("{} could not sync: {e}", p.name),
                ));
            }
            Err(_) => self.report.failed_syncs += 1,
        }
        let status = p.store.sync_status().map_err(other)?;
        if status.rejected_households > 0 || status.set_aside_households > 0 {
            let set_aside = p.store.set_aside_households().map_err(other)?;
            return Err(failure(
                FailureKind::Refused,
                format!(
                    "{}: households refused or set aside: {status:?} refused {refused:?} set aside {set_aside:?}",
                    p.name
                ),
            ));
        }
        Ok(())
    }

    fn reopen(&mut self, phone: usize) -> Outcome {
        let p = &mut self.phones[phone];
        // What was committed is all a reopened store has, as after the app is killed.
        p.store = Arc::new(
            Store::open_with_clock(&p.path, Arc::new(p.clock.clone()))
                .map_err(|e| other(format!("{} could not reopen: {e}", p.name)))?,
        );
        self.report.reopens += 1;
        Ok(())
    }

    /// Copies a phone's store away, or, once copied, restores it from that old copy, as when a
    /// phone is restored from a backup. It is restored only once everything it holds is on
    /// the server (it syncs first), so what it loses is the server's to give back.
    fn backup_or_restore(&mut self, phone: usize) -> Outcome {
        let files = |path: &Path| -> Vec<PathBuf> {
            ["", "-wal", "-shm"]
                .iter()
                .map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())))
                .collect()
        };
        let copy = |from: &Path, to: &Path| -> std::io::Result<()> {
            for (f, t) in files(from).iter().zip(files(to)) {
                match std::fs::copy(f, &t) {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let _ = std::fs::remove_file(&t);
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        };
        let Some(backup) = self.phones[phone].backup.clone() else {
            let p = &mut self.phones[phone];
            let backup = p.path.with_extension("backup");
            copy(&p.path, &backup).map_err(other)?;
            p.backup = Some(backup);
            return Ok(());
        };
        self.sync(phone, false)?;
        let p = &mut self.phones[phone];
        if p.store.sync_status().map_err(other)?.pending_changes > 0 {
            return Ok(());
        }
        let spare = p.path.with_extension("spare");
        p.store = Arc::new(Store::open(&spare).map_err(other)?);
        copy(&backup, &p.path).map_err(other)?;
        p.store = Arc::new(
            Store::open_with_clock(&p.path, Arc::new(p.clock.clone()))
                .map_err(|e| other(format!("{} could not reopen its backup: {e}", p.name)))?,
        );
        p.backup = None;
        self.report.restores += 1;
        Ok(())
    }

    /// Hub staff act on a household through the server itself: a step on one of its jobs
    /// that their role may take now (settling contradicting steps first), a conflict settled,
    /// or a visit recorded.
    fn hub_edit(&mut self) -> Outcome {
        let ids: Vec<String> = self
            .hub
            .read(|conn| {
                conn.query(
                    "SELECT household_id FROM documents ORDER BY household_id",
                    &[],
                )?
                .into_iter()
                .map(|row| Cols::of(row).take()?.text())
                .collect()
            })
            .map_err(other)?;
        let Some(hh) = pick(&mut self.rng, &ids).cloned() else {
            return Ok(());
        };
        let bytes = self.hub.household_document(&hh).map_err(other)?;
        let doc = HouseholdDoc::load(&bytes.unwrap_or_default(), automerge::ActorId::random())
            .map_err(other)?;
        let data = doc.read().map_err(other)?;
        let village = data.household.village_id.clone();
        let now = self.clock.now();
        let choice = self.rng.random_range(0..100);
        // Ids come from the system's randomness, as on a real server: the schedule's own
        // stream is the demo generator's too, and would repeat the town's ids.
        let event_id = doorstep_core::ids::new_id(&mut rand::rng());
        let (what, id, mut change): (&'static str, String, HubEdit) = match choice {
            0..60 => {
                let Some(details) = pick(&mut self.rng, &data.jobs).cloned() else {
                    return Ok(());
                };
                let item = item(&details.job.item_code).map_err(other)?;
                let step = match reconcile(&details.progress) {
                    Some(step) => step,
                    None => {
                        let steps = details.progress.possible_steps(item, self.staff.role);
                        let Some(kind) = pick(&mut self.rng, &steps) else {
                            return Ok(());
                        };
                        step_of(*kind, &details.progress, &details.job, now)
                    }
                };
                let (job, event) = (details.job.id.clone(), event_id.clone());
                (
                    "event",
                    event_id,
                    Box::new(move |doc, ctx| {
                        doc.take_step(&job, &event, &step, None, ctx).map(|_| ())
                    }),
                )
            }
            60..80 => {
                let conflicts = doc.conflicts().map_err(other)?;
                let Some(c) = pick(&mut self.rng, &conflicts).cloned() else {
                    return Ok(());
                };
                let Some(value) = pick(&mut self.rng, &c.values).cloned() else {
                    return Ok(());
                };
                (
                    "",
                    String::new(),
                    Box::new(move |doc, ctx| {
                        doc.resolve_conflict(c.entity, &c.entity_id, &c.field, &value.value_id, ctx)
                    }),
                )
            }
            _ => {
                let record = VisitRecord::new("镇中心电话回访", VisitOutcome::Met);
                let visit = event_id.clone();
                (
                    "visit",
                    event_id,
                    Box::new(move |doc, ctx| doc.record_visit(&visit, &record, ctx)),
                )
            }
        };
        doorstep_sync_server::households::edit(&self.hub, &self.staff, &hh, now, |doc, ctx| {
            change(doc, ctx)
        })
        .map_err(|e| other(format!("hub staff on {hh}: {e}")))?;
        if !what.is_empty() {
            self.facts.insert(Fact {
                village,
                household: hh,
                what,
                id,
            });
        }
        self.report.hub_edits += 1;
        Ok(())
    }

    /// One random valid edit on a phone, with the phone's clock at the schedule's time.
    fn edit(&mut self, phone: usize) -> Result<(), String> {
        let now = self.clock.now();
        let p = &self.phones[phone];
        let households = p.store.household_ids().map_err(|e| e.to_string())?;
        if households.is_empty() {
            return Ok(());
        }
        // Half the time, the job another phone last took a step on, if this phone has it.
        let hot = self
            .hot
            .clone()
            .filter(|(hh, _)| households.contains(hh) && self.rng.random_bool(0.5));
        let hh = match &hot {
            Some((hh, _)) => hh.clone(),
            None => households[self.rng.random_range(0..households.len())].clone(),
        };
        let data = p.store.household(&hh).map_err(|e| e.to_string())?;
        let village = data.household.village_id.clone();
        let member = data.members[self.rng.random_range(0..data.members.len())]
            .id
            .clone();
        let store = Arc::clone(&p.store);
        let role = p.user.role;
        let who = p.name.clone();
        let fail = |what: &str, e: CoreError| format!("{who}: {what} on {hh}: {e}");
        let mut fact = |what: &'static str, id: String| {
            self.facts.insert(Fact {
                village: village.clone(),
                household: hh.clone(),
                what,
                id,
            });
        };
        let roll = match &hot {
            Some(_) => 60,
            None => self.rng.random_range(0..100),
        };
        let mut stepped: Option<String> = None;
        match roll {
            0..20 => {
                let record = VisitRecord::new(
                    format!("走访{}", self.rng.random::<u16>()),
                    VisitOutcome::Met,
                );
                let id = store
                    .record_visit(&hh, None, record)
                    .map_err(|e| fail("visit", e))?;
                fact("visit", id);
            }
            20..35 => {
                let number = format!("139{:08}", self.rng.random_range(0..100_000_000u32));
                let patch = MemberPatch {
                    phone: Some(number),
                    ..MemberPatch::default()
                };
                store
                    .update_member(&member, patch)
                    .map_err(|e| fail("member", e))?;
            }
            35..45 => {
                let line = NewLedgerLine {
                    member_id: member.clone(),
                    title: "降压药更换".into(),
                    schedule: Schedule::EveryNDays {
                        days: self.rng.random_range(7..60),
                        first_due: NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
                    },
                    urgency: Urgency::Amber,
                    note: String::new(),
                    visit_id: None,
                };
                let id = store.add_ledger_line(line).map_err(|e| fail("ledger", e))?;
                fact("ledger", id);
            }
            45..50 => {
                let new = NewMember {
                    name: "王小明".into(),
                    id_number: None,
                    phone: None,
                    gender: Some(Gender::Male),
                    birth_date: None,
                    relation: "孙子".into(),
                    tags: vec![SpecialTag::LeftBehindChild],
                };
                let id = store
                    .add_member(&hh, new)
                    .map_err(|e| fail("add member", e))?;
                fact("member", id);
            }
            50..60 if role != Role::TownStaff => {
                let code = ["pension-certification", "social-security-card-application"]
                    [self.rng.random_range(0..2)];
                let item = item(code).map_err(|e| e.to_string())?;
                let job = NewJob {
                    member_id: member.clone(),
                    item_code: code.into(),
                    mode: item.modes[0],
                    urgency: Urgency::Green,
                    note: String::new(),
                    visit_id: None,
                };
                let id = store.open_job(job).map_err(|e| fail("open job", e))?;
                let first = store.job(&id).map_err(|e| fail("job", e))?.job.events[0]
                    .id
                    .clone();
                fact("job", id.clone());
                fact("event", first);
                stepped = Some(id);
            }
            60..90 => {
                let hot_job = hot
                    .as_ref()
                    .and_then(|(_, job)| data.jobs.iter().find(|j| &j.job.id == job));
                let Some(details) = hot_job.or_else(|| pick(&mut self.rng, &data.jobs)) else {
                    return Ok(());
                };
                let job = details.job.id.clone();
                let steps = store.possible_steps(&job).map_err(|e| fail("steps", e))?;
                let step = reconcile(&details.progress)
                    .filter(|_| role == Role::TownStaff)
                    .or_else(|| {
                        pick(&mut self.rng, &steps)
                            .map(|kind| step_of(*kind, &details.progress, &details.job, now))
                    });
                let Some(step) = step else {
                    return Ok(());
                };
                let before = details.job.events.len();
                store
                    .take_step(&job, step, None)
                    .map_err(|e| fail("step", e))?;
                let after = store.job(&job).map_err(|e| fail("job", e))?.job.events;
                let added = after
                    .iter()
                    .map(|e| e.id.clone())
                    .filter(|id| !details.job.events.iter().any(|e| &e.id == id))
                    .collect::<Vec<_>>();
                if after.len() != before + 1 || added.len() != 1 {
                    return Err(format!("{who}: a step on {job} did not add one event"));
                }
                fact("event", added[0].clone());
                stepped = Some(job);
            }
            _ => {
                let conflicts = store.conflicts(&hh).map_err(|e| fail("conflicts", e))?;
                let Some(c) = pick(&mut self.rng, &conflicts) else {
                    return Ok(());
                };
                let Some(value) = pick(&mut self.rng, &c.values) else {
                    return Ok(());
                };
                store
                    .resolve_conflict(&hh, c.entity, &c.entity_id, &c.field, &value.value_id)
                    .map_err(|e| fail("resolve", e))?;
            }
        }
        if let Some(job) = stepped {
            self.hot = Some((hh, job));
        }
        self.report.edits += 1;
        Ok(())
    }

    /// Quiet rounds without faults: every phone syncs, three times over, with the server up.
    fn settle(&mut self) -> Outcome {
        self.proxy.set_rate(0.0);
        for _ in 0..3 {
            for phone in 0..self.phones.len() {
                self.sync(phone, true)?;
            }
        }
        Ok(())
    }

    fn check(&mut self) -> Outcome {
        let lost = |m: String| failure(FailureKind::Lost, m);
        let diverged = |m: String| failure(FailureKind::Diverged, m);
        let mut by_scope: BTreeMap<Vec<String>, Vec<usize>> = BTreeMap::new();
        for (i, p) in self.phones.iter().enumerate() {
            by_scope.entry(p.villages.clone()).or_default().push(i);
            let status = p.store.sync_status().map_err(other)?;
            if status.pending_changes > 0 || status.last_error.is_some() {
                return Err(failure(
                    FailureKind::Stuck,
                    format!("{} did not settle: {status:?}", p.name),
                ));
            }
            for hh in p.store.household_ids().map_err(other)? {
                let data = p.store.household(&hh).map_err(other)?;
                if !p.villages.contains(&data.household.village_id) {
                    return Err(other(format!("{} holds {hh} of another village", p.name)));
                }
            }
            for fact in self
                .facts
                .iter()
                .filter(|f| p.villages.contains(&f.village))
            {
                if !has(&p.store, fact).map_err(other)? {
                    return Err(lost(format!("{} lacks {fact:?}", p.name)));
                }
                self.report.checked_facts += 1;
            }
        }
        for members in by_scope.values() {
            let first = &self.phones[members[0]];
            let tables = first.store.dump_query_tables().map_err(other)?;
            for &next in &members[1..] {
                let p = &self.phones[next];
                if p.store.dump_query_tables().map_err(other)? != tables {
                    return Err(diverged(format!("{} and {} differ", first.name, p.name)));
                }
            }
        }
        // Households seen from two scopes (a village and the town) have the same heads, and
        // the town's phone matches the server's own copies and tables.
        let town = self
            .phones
            .iter()
            .find(|p| p.user.role == Role::TownStaff)
            .ok_or_else(|| other("no town phone"))?;
        for p in &self.phones {
            for hh in p.store.household_ids().map_err(other)? {
                let (mine, theirs) = (p.store.heads(&hh), town.store.heads(&hh));
                if mine.map_err(other)? != theirs.map_err(other)? {
                    return Err(diverged(format!("{} and the town differ on {hh}", p.name)));
                }
            }
        }
        for hh in town.store.household_ids().map_err(other)? {
            let bytes = self.hub.household_document(&hh).map_err(other)?;
            let mut server =
                HouseholdDoc::load(&bytes.unwrap_or_default(), automerge::ActorId::random())
                    .map_err(other)?;
            if server.heads() != town.store.heads(&hh).map_err(other)? {
                return Err(diverged(format!("the server and the town differ on {hh}")));
            }
        }
        if crate::server_tables(&self.data) != town.store.dump_query_tables().map_err(other)? {
            return Err(diverged(
                "the server's query tables differ from the town's".into(),
            ));
        }
        Ok(())
    }
}

/// An edit hub staff make on a household's document.
type HubEdit = Box<
    dyn FnMut(&mut HouseholdDoc, doorstep_core::document::EditContext<'_>) -> Result<(), CoreError>,
>;

/// Whether the phone holds what `fact` names.
fn has(store: &Store, fact: &Fact) -> Result<bool, String> {
    let data = match store.household(&fact.household) {
        Ok(data) => data,
        Err(CoreError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e.to_string()),
    };
    Ok(match fact.what {
        "visit" => data.visits.iter().any(|v| v.id == fact.id),
        "ledger" => data.ledger.iter().any(|l| l.id == fact.id),
        "member" => data.members.iter().any(|m| m.id == fact.id),
        "job" => data.jobs.iter().any(|j| j.job.id == fact.id),
        _ => data
            .jobs
            .iter()
            .any(|j| j.job.events.iter().any(|e| e.id == fact.id)),
    })
}

fn pick<'a, T>(rng: &mut impl Rng, items: &'a [T]) -> Option<&'a T> {
    if items.is_empty() {
        None
    } else {
        Some(&items[rng.random_range(0..items.len())])
    }
}

/// Hub staff's settling of a job's contradicting steps (voiding them), if it has any.
fn reconcile(progress: &JobProgress) -> Option<JobStep> {
    (!progress.conflicts.is_empty()).then(|| JobStep::Reconcile {
        void_event_ids: progress
            .conflicts
            .iter()
            .map(|c| c.event_id.clone())
            .collect(),
        note: "电话核实".into(),
    })
}

/// A step of `kind` with its fields filled as a person would.
fn step_of(kind: JobStepKind, progress: &JobProgress, job: &Job, now: DateTime<Utc>) -> JobStep {
    use JobStepKind as K;
    let today = now.date_naive();
    match kind {
        K::Accept => {
            let missing: Vec<String> = item(&job.item_code)
                .map(|i| {
                    i.materials
                        .iter()
                        .filter(|m| !m.key)
                        .map(|m| m.name.clone())
                        .collect()
                })
                .unwrap_or_default();
            JobStep::Accept {
                supplement_deadline: (!missing.is_empty()).then(|| today + Duration::days(7)),
                missing_materials: missing,
            }
        }
        K::Supplement => JobStep::Supplement {
            materials: progress.missing_materials.clone(),
        },
        K::HandUp => JobStep::HandUp {
            carrier: "王建国".into(),
        },
        K::TownAccept => JobStep::TownAccept,
        K::Approve => JobStep::Approve,
        K::Return => JobStep::Return {
            reason: "材料不清晰".into(),
        },
        K::Reject => JobStep::Reject {
            reason: "不符合条件".into(),
        },
        K::Complete => JobStep::Complete {
            result: "已办结".into(),
        },
        K::SignOutParcel => JobStep::SignOutParcel,
        K::Deliver => JobStep::Deliver {
            signed_by: "本人".into(),
        },
        K::NobodyHome => JobStep::NobodyHome {
            reschedule_to: today + Duration::days(2),
        },
        K::Rate => JobStep::Rate {
            rating: Rating::Good,
            comment: "满意".into(),
        },
        K::Close => JobStep::Close,
        K::Cancel => JobStep::Cancel {
            reason: "群众撤回".into(),
        },
        K::Inform | K::Reconcile => JobStep::Inform {
            note: String::new(),
        },
    }
}
