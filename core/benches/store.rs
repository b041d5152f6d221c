//! Benchmarks of the phone's store on a generated town of 1,000 households and 10,000 jobs
//! (and 6,000 households for the due-date rebuild). Run: `cargo bench -p doorstep-core`.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use doorstep_core::{IncomingChanges, Store, VisitOutcome, VisitRecord};
use doorstep_demo::{DemoOptions, DemoTown, generate};

/// A store file holding a generated town, signed in as the first village's agent.
fn build_store(dir: &Path, name: &str, options: &DemoOptions) -> (PathBuf, DemoTown) {
    let town = generate(options).expect("demo town");
    let path = dir.join(name);
    let store = Store::open(&path).expect("open");
    store
        .import_documents(town.households.clone())
        .expect("import");
    let agent = town
        .users
        .iter()
        .find(|u| u.user.role == doorstep_core::Role::Agent)
        .unwrap();
    store.sign_in(agent.user.clone()).expect("sign in");
    (path, town)
}

fn visit(n: usize) -> VisitRecord {
    VisitRecord {
        purpose: format!("第{n}次走访"),
        outcome: VisitOutcome::Met,
        notes: "身体良好，按时服药".into(),
        location: None,
    }
}

/// Copies a store file as another device would hold it (its own actor id).
fn copy_as_other_device(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy");
    let conn = rusqlite::Connection::open(to).expect("open copy");
    conn.execute("DELETE FROM meta WHERE key = 'actor'", [])
        .expect("new actor");
}

fn thousand_households(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        villages: 10,
        households_per_village: 100,
        jobs_per_household: 10.0,
        ..DemoOptions::default()
    };
    let (path, _town) = build_store(dir.path(), "town.db", &options);
    let today = options.today;

    let mut group = c.benchmark_group("store_1000_households");
    group.sample_size(30);
    group.bench_function("open", |b| {
        b.iter(|| black_box(Store::open(&path).unwrap()))
    });

    let store = Store::open(&path).unwrap();
    group.bench_function("today_work_one_village", |b| {
        b.iter(|| black_box(store.today_work(today, Some("sanzhang-v01"), 500).unwrap()))
    });
    group.bench_function("today_work_all_first_100", |b| {
        b.iter(|| black_box(store.today_work(today, None, 100).unwrap()))
    });
    group.bench_function("search_name", |b| {
        b.iter(|| black_box(store.search("桂兰", 50).unwrap()))
    });
    group.bench_function("search_phone_tail", |b| {
        b.iter(|| black_box(store.search("1234", 50).unwrap()))
    });
    let ids = store.household_ids().unwrap();
    let mut n = 0;
    group.bench_function("record_visit", |b| {
        b.iter(|| {
            // Walk from house to house: each visit is to the next household.
            n += 1;
            let hh = &ids[(n * 7) % ids.len()];
            black_box(store.record_visit(hh, None, visit(n)).unwrap())
        })
    });
    drop(store);

    // 2,000 changes made on another device (10 visits in each of 200 households).
    let other_path = dir.path().join("other.db");
    copy_as_other_device(&path, &other_path);
    let base = Store::open(&path).unwrap();
    let other = Store::open(&other_path).unwrap();
    let batch: Vec<IncomingChanges> = ids
        .iter()
        .take(200)
        .map(|hh| {
            let heads = base.heads(hh).unwrap();
            for k in 0..10 {
                other.record_visit(hh, None, visit(k)).unwrap();
            }
            IncomingChanges {
                household_id: hh.clone(),
                changes: other.changes_since(hh, &heads).unwrap(),
            }
        })
        .collect();
    assert_eq!(batch.iter().map(|b| b.changes.len()).sum::<usize>(), 2000);
    drop(base);
    let scratch = dir.path().join("scratch.db");
    group.sample_size(10);
    group.bench_function("merge_2000_changes", |b| {
        b.iter_batched(
            || {
                let _ = std::fs::remove_file(scratch.with_extension("db-wal"));
                std::fs::copy(&path, &scratch).unwrap();
                (Store::open(&scratch).unwrap(), batch.clone())
            },
            |(store, batch)| black_box(store.apply_changes(batch).unwrap()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn six_thousand_households(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        villages: 60,
        households_per_village: 100,
        jobs_per_household: 2.0,
        ..DemoOptions::default()
    };
    let (path, _town) = build_store(dir.path(), "district.db", &options);
    let store = Store::open(&path).unwrap();
    let mut group = c.benchmark_group("store_6000_households");
    group.sample_size(10);
    group.bench_function("rebuild_due_dates", |b| {
        b.iter(|| store.rebuild_projections().unwrap())
    });
    group.bench_function("due_list_all", |b| {
        b.iter(|| black_box(store.today_work(options.today, None, 500).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, thousand_households, six_thousand_households);
criterion_main!(benches);
