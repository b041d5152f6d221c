//! Helpers shared by the core's integration tests: users, stores on real files, and a dump of
//! the query tables read straight from the SQLite file.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_core::validate::id_check_char;
use doorstep_core::{FixedClock, NewHousehold, NewMember, Role, SpecialTag, Store, User};

pub const VILLAGE: &str = "sanzhang-v01";

pub fn user(id: &str, name: &str, role: Role) -> User {
    User {
        id: id.into(),
        name: name.into(),
        role,
        region_ids: vec![VILLAGE.into()],
    }
}

pub fn agent() -> User {
    user("agent-1", "李秀英", Role::Agent)
}

pub fn head() -> User {
    user("head-1", "王建国", Role::VillageHead)
}

pub fn town_staff() -> User {
    user("town-1", "张明", Role::TownStaff)
}

pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A store on a real file, signed in as `who`, with a clock fixed at `now`.
pub fn store_at(path: &Path, who: User, now: DateTime<Utc>) -> Store {
    let store = Store::open_with_clock(path, Arc::new(FixedClock(now))).unwrap();
    store.sign_in(who).unwrap();
    store
}

pub fn temp_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// A valid identity number for a birth date.
pub fn id_number(birth: &str, seq: u32) -> String {
    let first17 = format!("610502{birth}{seq:03}");
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", id_check_char(&digits))
}

/// Creates a household with one elderly member living alone; returns (household, member).
pub fn elderly_household(store: &Store, name: &str, phone: &str) -> (String, String) {
    let hh = store
        .create_household(NewHousehold {
            village_id: VILLAGE.into(),
            group_name: "三组".into(),
            address: "三兴村三组12号".into(),
            phone: None,
        })
        .unwrap();
    let member = store
        .add_member(
            &hh,
            NewMember {
                name: name.into(),
                id_number: Some(id_number("19400305", 22)),
                phone: Some(phone.into()),
                relation: "户主".into(),
                tags: vec![SpecialTag::ElderlyAlone, SpecialTag::VeryOld],
                ..NewMember::default()
            },
        )
        .unwrap();
    (hh, member)
}

/// Every query table as text, rows in id order, from the store file.
pub fn dump_projections(path: &Path) -> String {
    Store::open(path).unwrap().dump_query_tables().unwrap()
}

/// Copies every household's full change history from `from` into `to`.
pub fn sync_into(from: &Store, to: &Store) {
    let batch = from
        .household_ids()
        .unwrap()
        .into_iter()
        .map(|id| doorstep_core::IncomingChanges {
            changes: from.changes_since(&id, &[]).unwrap(),
            household_id: id,
        })
        .collect();
    for outcome in to.apply_changes(batch).unwrap() {
        assert!(
            matches!(outcome, doorstep_core::ApplyOutcome::Applied { .. }),
            "{outcome:?}"
        );
    }
}

/// The Accept step with every material in hand.
pub fn accept() -> doorstep_core::JobStep {
    doorstep_core::JobStep::Accept {
        missing_materials: vec![],
        supplement_deadline: None,
    }
}

/// Opens a job for `member` (at home, green) and returns its id.
pub fn open_job(store: &Store, member: &str, item_code: &str) -> String {
    store
        .open_job(doorstep_core::NewJob {
            member_id: member.into(),
            item_code: item_code.into(),
            mode: doorstep_core::ServiceMode::AtHome,
            urgency: doorstep_core::Urgency::Green,
            note: String::new(),
            visit_id: None,
        })
        .unwrap()
}
