//! The figures and the heat map against a small district counted by hand
//! (`doorstep_tests::hand_counted`), on the server's storage (SQLite, or PostgreSQL in the
//! PostgreSQL run) and on a phone's store holding the same documents: both count the same.

use chrono::NaiveDate;
use doorstep_core::figures::{Counts, Period};
use doorstep_sync_server::http::AppState;
use doorstep_sync_server::storage::accounts::scope_of_user;
use doorstep_tests::hand_counted::{self, V1, V2, X1};
use doorstep_tests::server_mirror;

fn march() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
    )
}

fn loaded(dir: &tempfile::TempDir) -> (String, AppState) {
    hand_counted::loaded(dir.path())
}

fn as_array(c: &Counts) -> [i64; 12] {
    [
        c.jobs_opened,
        c.special_needs,
        c.special_needs_responded,
        c.jobs_completed,
        c.completed_on_time,
        c.handling_millis / 3_600_000,
        c.rated_good,
        c.rated_average,
        c.rated_bad,
        c.visits_done,
        c.needs_raised,
        c.needs_closed,
    ]
}

#[test]
fn march_figures_match_the_hand_count_per_village_town_and_district() {
    let dir = tempfile::tempdir().unwrap();
    let (_, state) = loaded(&dir);
    let storage = &state.storage;
    let (from, to) = march();
    let all = vec![V1.to_string(), V2.to_string(), X1.to_string()];
    let tally = storage.tally(&all, Period::Whole, from, to).unwrap();
    for (village, expected) in hand_counted::expected() {
        let counts = tally.village(village);
        assert_eq!(as_array(&counts), expected, "{village}");
        assert_eq!(counts.handling_millis % 3_600_000, 0, "{village}");
    }
    let v1 = tally.village(V1);
    assert_eq!(v1.response_rate(), Some(2.0 / 3.0));
    assert_eq!(v1.on_time_rate(), Some(1.0 / 3.0));
    assert_eq!(v1.satisfaction_rate(), Some(2.0 / 3.0));
    assert_eq!(v1.average_handling_hours(), Some(482.0 / 3.0));
    assert_eq!(
        v1.items(),
        vec![
            ("pension-certification".into(), "养老认证".into(), 3),
            (
                "medical-insurance-payment".into(),
                "城乡居民医保缴费".into(),
                1
            ),
        ]
    );
    assert_eq!(v1.by_mode.get("help"), Some(&3));
    assert_eq!(v1.by_mode.get("proxy"), Some(&1));
    assert_eq!(tally.village(X1).response_rate(), None);

    // The district: rates divide the sums, not average the villages' rates.
    let district = tally.sum(|_, _| true);
    assert_eq!(district.jobs_opened, 6);
    assert_eq!(district.response_rate(), Some(3.0 / 4.0));
    assert_eq!(district.on_time_rate(), Some(2.0 / 4.0));
    assert_eq!(district.satisfaction_rate(), Some(3.0 / 4.0));
    assert_eq!(district.average_handling_hours(), Some(486.0 / 4.0));
    assert_eq!(district.visits_done, 3);

    // Only what a staff member may see: 三张镇's staff their two villages, the district all.
    let scope_of = |user_id: &str| {
        let user = hand_counted::district()
            .users
            .into_iter()
            .find(|u| u.user.id == user_id)
            .unwrap()
            .user;
        storage.read(|conn| scope_of_user(conn, &user)).unwrap()
    };
    let town = scope_of("town-staff-1");
    assert_eq!(town.villages, vec![V1.to_string(), V2.to_string()]);
    let town_tally = storage
        .tally(&town.villages, Period::Whole, from, to)
        .unwrap();
    assert_eq!(town_tally.sum(|_, _| true).jobs_opened, 5);
    let district_scope = scope_of("district-1");
    assert_eq!(district_scope.towns.len(), 2);
    assert_eq!(district_scope.villages.len(), 3);
    assert!(
        storage
            .tally(&[], Period::Whole, from, to)
            .unwrap()
            .cells
            .is_empty()
    );
    assert!(storage.tally(&all, Period::Whole, to, from).is_err());
}

#[test]
fn months_split_the_same_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (_, state) = loaded(&dir);
    let all = vec![V1.to_string(), V2.to_string(), X1.to_string()];
    let (from, to) = (NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(), march().1);
    let months = state.storage.tally(&all, Period::Month, from, to).unwrap();
    let february = months.sum(|v, m| v == V1 && m == "2026-02");
    assert_eq!(february.jobs_opened, 1, "J5 was told in February");
    assert_eq!(february.visits_done, 1);
    assert_eq!(february.jobs_completed, 0);
    let march_v1 = months.sum(|v, m| v == V1 && m == "2026-03");
    assert_eq!(as_array(&march_v1), hand_counted::expected()[0].1);
    let whole = state.storage.tally(&all, Period::Whole, from, to).unwrap();
    assert_eq!(months.sum(|_, _| true), whole.sum(|_, _| true));
}

#[test]
fn a_phone_counts_the_same_figures_from_its_own_tables() {
    let dir = tempfile::tempdir().unwrap();
    let (data, state) = loaded(&dir);
    let phone = server_mirror(&data, &dir.path().join("phone.db"));
    let (from, to) = march();
    let server = state
        .storage
        .tally(&[V1.to_string()], Period::Whole, from, to)
        .unwrap()
        .village(V1);
    let on_phone = phone.figures(V1, from, to).unwrap();
    assert_eq!(on_phone, doorstep_core::Figures::from(&server));
    assert_eq!(on_phone.jobs_opened, 4);
    assert_eq!(on_phone.needs_closed, 1);
    assert_eq!(on_phone.rated_bad, 1);
    assert_eq!(
        on_phone.jobs_by_mode.len(),
        doorstep_core::ServiceMode::ALL.len()
    );
}

#[test]
fn the_heat_map_counts_open_needs_by_urgency() {
    let dir = tempfile::tempdir().unwrap();
    let (_, state) = loaded(&dir);
    let all = vec![V1.to_string(), V2.to_string(), X1.to_string()];
    let needs = state.storage.open_needs(&all).unwrap();
    let expected: std::collections::BTreeMap<String, [i64; 3]> =
        hand_counted::expected_open_needs()
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect();
    assert_eq!(needs, expected, "东王村 has no open need and is absent");
    assert!(state.storage.open_needs(&[]).unwrap().is_empty());
}
