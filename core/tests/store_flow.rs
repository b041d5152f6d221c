//! The store as an agent's app uses it: households, members, ledger, jobs, visits, queries,
//! checks with typed errors, persistence across reopening.

mod common;

use common::*;
use doorstep_core::*;

fn today() -> chrono::NaiveDate {
    date(2026, 3, 2)
}

fn open_agent(dir: &tempfile::TempDir) -> Store {
    store_at(
        &temp_path(dir, "agent.db"),
        agent(),
        at("2026-03-02T01:00:00Z"),
    )
}

#[test]
fn bad_input_gives_typed_errors_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "a.db");
    let unsigned = Store::open(&path).unwrap();
    assert_eq!(
        unsigned.create_household(NewHousehold::default()),
        Err(CoreError::NotSignedIn)
    );
    drop(unsigned);
    let store = open_agent(&dir);
    let missing_address = NewHousehold {
        village_id: VILLAGE.into(),
        ..NewHousehold::default()
    };
    assert!(matches!(
        store.create_household(missing_address),
        Err(CoreError::MissingField { field }) if field == "住址"
    ));
    let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
    let before = store.household(&hh).unwrap();
    let bad_id = NewMember {
        name: "张三".into(),
        id_number: Some("610502194003050221".into()),
        ..NewMember::default()
    };
    let err = store.add_member(&hh, bad_id).unwrap_err();
    assert!(matches!(err, CoreError::InvalidIdNumber { .. }));
    assert!(err.to_string().contains("身份证号码无效"));
    let bad_phone = MemberPatch {
        phone: Some("1234".into()),
        ..MemberPatch::default()
    };
    assert!(matches!(
        store.update_member(&member, bad_phone),
        Err(CoreError::InvalidPhone { .. })
    ));
    let unknown_item = NewJob {
        member_id: member.clone(),
        item_code: "moon-landing".into(),
        mode: ServiceMode::Proxy,
        urgency: Urgency::Green,
        note: String::new(),
        visit_id: None,
    };
    assert!(matches!(
        store.open_job(unknown_item),
        Err(CoreError::UnknownItem { .. })
    ));
    assert!(matches!(
        store.update_member("no-such-member", MemberPatch::default()),
        Err(CoreError::NotFound { .. })
    ));
    assert_eq!(store.household(&hh).unwrap(), before);
}

#[test]
fn a_job_walks_from_inform_to_close_and_leaves_todays_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
    let job = store
        .open_job(NewJob {
            member_id: member.clone(),
            item_code: "social-security-card-application".into(),
            mode: ServiceMode::Proxy,
            urgency: Urgency::Red,
            note: "需带身份证".into(),
            visit_id: None,
        })
        .unwrap();
    let work = store.today_work(today(), None, 500).unwrap();
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].kind, WorkKind::Job);
    assert_eq!(work[0].title, "社保卡申领");
    assert_eq!(work[0].member_name, "张桂兰");

    store.take_step(&job, accept(), None).unwrap();
    assert_eq!(store.jobs_to_hand_up(Some(VILLAGE)).unwrap().len(), 1);
    // An agent may not approve: a typed error, nothing written.
    let err = store.take_step(&job, JobStep::Approve, None).unwrap_err();
    assert!(matches!(err, CoreError::RoleNotAllowed { .. }), "{err}");
    let p = store
        .take_step(
            &job,
            JobStep::HandUp {
                carrier: "王建国".into(),
            },
            Some(Location {
                latitude: 34.5,
                longitude: 109.5,
            }),
        )
        .unwrap();
    assert_eq!(p.state, JobState::HandedUp);
    assert!(store.jobs_to_hand_up(None).unwrap().is_empty());

    // Town staff take the town's steps on their own device; the household travels by changes.
    let town = store_at(
        &temp_path(&dir, "town.db"),
        town_staff(),
        at("2026-03-03T02:00:00Z"),
    );
    sync_into(&store, &town);
    for step in [
        JobStep::TownAccept,
        JobStep::Approve,
        JobStep::Complete {
            result: "已制卡".into(),
        },
    ] {
        town.take_step(&job, step, None).unwrap();
    }
    sync_into(&town, &store);
    for step in [
        JobStep::SignOutParcel,
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
        JobStep::Rate {
            rating: Rating::Good,
            comment: "不用跑镇上了".into(),
        },
        JobStep::Close,
    ] {
        store.take_step(&job, step, None).unwrap();
    }
    let details = store.job(&job).unwrap();
    assert_eq!(details.progress.state, JobState::Closed);
    assert_eq!(details.job.events.len(), 10);
    assert_eq!(details.job.events[4].actor.role, Role::TownStaff);
    assert_eq!(
        details.job.events[2].location.map(|l| l.latitude),
        Some(34.5)
    );
    assert!(store.today_work(today(), None, 500).unwrap().is_empty());
    assert_eq!(store.household(&hh).unwrap().jobs.len(), 1);
}

#[test]
fn reminders_needs_and_visits() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
    let visit = store
        .record_visit(
            &hh,
            None,
            VisitRecord {
                purpose: "季度走访".into(),
                outcome: VisitOutcome::Met,
                notes: "降压药快吃完了".into(),
                location: None,
            },
        )
        .unwrap();
    let pills = store
        .add_ledger_line(NewLedgerLine {
            member_id: member.clone(),
            title: "降压药更换".into(),
            schedule: Schedule::EveryNDays {
                days: 30,
                first_due: date(2026, 3, 1),
            },
            urgency: Urgency::Amber,
            note: String::new(),
            visit_id: Some(visit.clone()),
        })
        .unwrap();
    let wheelchair = store
        .add_ledger_line(NewLedgerLine {
            member_id: member.clone(),
            title: "轮椅申领".into(),
            schedule: Schedule::OneOff {
                status: NeedStatus::Open,
                due: Some(date(2026, 3, 2)),
            },
            urgency: Urgency::Red,
            note: String::new(),
            visit_id: None,
        })
        .unwrap();
    store
        .add_ledger_line(NewLedgerLine {
            member_id: member.clone(),
            title: "生日提醒".into(),
            schedule: Schedule::Yearly { month: 3, day: 5 },
            urgency: Urgency::Green,
            note: String::new(),
            visit_id: None,
        })
        .unwrap();
    let work = store.today_work(today(), None, 500).unwrap();
    let titles: Vec<_> = work.iter().map(|w| (w.title.as_str(), w.kind)).collect();
    // Red first, then amber; the birthday is not due yet.
    assert_eq!(
        titles,
        vec![
            ("轮椅申领", WorkKind::Need),
            ("降压药更换", WorkKind::Reminder)
        ]
    );
    assert_eq!(work[1].days_overdue, 1);
    let in_a_week = store.today_work(date(2026, 3, 9), None, 500).unwrap();
    assert_eq!(in_a_week.len(), 3);
    let first_page = store.today_work(date(2026, 3, 9), None, 2).unwrap();
    assert_eq!(first_page, in_a_week[..2].to_vec());

    store.mark_reminder_done(&pills, date(2026, 3, 2)).unwrap();
    store
        .set_need_status(&wheelchair, NeedStatus::Done)
        .unwrap();
    assert!(store.today_work(today(), None, 500).unwrap().is_empty());
    let data = store.household(&hh).unwrap();
    let line = data.ledger.iter().find(|l| l.id == pills).unwrap();
    assert_eq!(line.next_due(), Some(date(2026, 4, 1)));
    assert_eq!(line.visit_id.as_deref(), Some(visit.as_str()));
    assert!(matches!(
        store.mark_reminder_done(&wheelchair, today()),
        Err(CoreError::InvalidValue { .. })
    ));
    let bad_cycle = NewLedgerLine {
        member_id: member,
        title: "复查".into(),
        schedule: Schedule::EveryNDays {
            days: 0,
            first_due: today(),
        },
        urgency: Urgency::Green,
        note: String::new(),
        visit_id: None,
    };
    assert!(matches!(
        store.add_ledger_line(bad_cycle),
        Err(CoreError::InvalidValue { .. })
    ));

    let planned = store.plan_visit(&hh, date(2026, 3, 6), "送药").unwrap();
    store
        .record_visit(
            &hh,
            Some(&planned),
            VisitRecord::new("送药", VisitOutcome::NobodyHome),
        )
        .unwrap();
    let visits = store.household(&hh).unwrap().visits;
    assert_eq!(visits.len(), 2);
    let done = visits.iter().find(|v| v.id == planned).unwrap();
    assert_eq!(done.planned_for, Some(date(2026, 3, 6)));
    assert_eq!(done.outcome, Some(VisitOutcome::NobodyHome));
    assert_eq!(done.visitor.as_deref(), Some("李秀英"));
}

#[test]
fn search_by_chinese_name_phone_tail_and_id_tail_and_roster_by_tag() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (hh, _) = elderly_household(&store, "欧阳桂兰", "13800138000");
    elderly_household(&store, "张秀英", "13912345678");
    store
        .add_member(
            &hh,
            NewMember {
                name: "欧阳子涵".into(),
                relation: "孙女".into(),
                tags: vec![SpecialTag::LeftBehindChild],
                ..NewMember::default()
            },
        )
        .unwrap();
    let names = |q: &str| -> Vec<String> {
        store
            .search(q, 20)
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect()
    };
    assert_eq!(names("桂兰"), vec!["欧阳桂兰"]);
    assert_eq!(names("欧阳"), vec!["欧阳子涵", "欧阳桂兰"]);
    assert_eq!(names("5678"), vec!["张秀英"]);
    let id_tail = &id_number("19400305", 22)[14..];
    assert_eq!(names(id_tail).len(), 2);
    assert!(names("%").is_empty());
    assert!(names("  ").is_empty());
    let hit = &store.search("欧阳桂兰", 5).unwrap()[0];
    assert_eq!(
        hit.id_number_masked.as_deref(),
        Some(format!("610502********{}", id_tail).as_str())
    );

    let children = store
        .roster(VILLAGE, &[SpecialTag::LeftBehindChild])
        .unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].name, "欧阳子涵");
    assert_eq!(store.roster(VILLAGE, &[]).unwrap().len(), 3);
    assert_eq!(
        store
            .roster(VILLAGE, &[SpecialTag::ElderlyAlone, SpecialTag::VeryOld])
            .unwrap()
            .len(),
        2
    );
    assert!(store.roster("other-village", &[]).unwrap().is_empty());
}

#[test]
fn figures_for_a_village_and_period() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (_, member) = elderly_household(&store, "张桂兰", "13800138000");
    let open = |item: &str| open_job(&store, &member, item);
    let done = open("pension-certification");
    for step in [
        accept(),
        JobStep::Complete {
            result: "认证成功".into(),
        },
        JobStep::Deliver {
            signed_by: "本人".into(),
        },
        JobStep::Rate {
            rating: Rating::Bad,
            comment: "等太久".into(),
        },
    ] {
        store.take_step(&done, step, None).unwrap();
    }
    let waiting = open("pension-certification");
    store.take_step(&waiting, accept(), None).unwrap();
    open("elderly-preferential-card");

    let f = store
        .figures(VILLAGE, date(2026, 3, 1), date(2026, 3, 31))
        .unwrap();
    assert_eq!(f.jobs_opened, 3);
    assert_eq!(f.special_needs, 3);
    assert_eq!(f.special_needs_responded, 2);
    assert_eq!(f.response_rate, Some(2.0 / 3.0));
    assert_eq!(f.jobs_completed, 1);
    assert_eq!(f.on_time_rate, Some(1.0));
    assert_eq!(f.satisfaction_rate, Some(0.0));
    assert_eq!(f.average_handling_hours, Some(0.0));
    assert_eq!(f.jobs_by_item[0].item_name, "养老认证");
    assert_eq!(f.jobs_by_item[0].jobs, 2);
    let empty = store
        .figures(VILLAGE, date(2025, 1, 1), date(2025, 1, 31))
        .unwrap();
    assert_eq!(empty.jobs_opened, 0);
    assert_eq!(empty.response_rate, None);
    assert!(
        store
            .figures(VILLAGE, date(2026, 4, 1), date(2026, 3, 1))
            .is_err()
    );
}

#[test]
fn everything_survives_reopening_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = temp_path(&dir, "agent.db");
    let (hh, member, actor, before, dump) = {
        let store = store_at(&path, agent(), at("2026-03-02T01:00:00Z"));
        let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
        // Enough edits to compact the chunks into a snapshot more than once.
        for n in 0..80 {
            let phone = format!("138{:08}", n);
            store
                .update_member(
                    &member,
                    MemberPatch {
                        phone: Some(phone),
                        ..MemberPatch::default()
                    },
                )
                .unwrap();
        }
        let data = store.household(&hh).unwrap();
        (
            hh,
            member,
            store.device_actor(),
            data,
            dump_projections(&path),
        )
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.device_actor(), actor);
    assert_eq!(store.current_user(), Some(agent()));
    let data = store.household(&hh).unwrap();
    assert_eq!(data, before);
    assert_eq!(
        data.member(&member).unwrap().phone.as_deref(),
        Some("13800000079")
    );
    assert_eq!(dump_projections(&path), dump);
    let chunks: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM doc_chunks", [], |r| r.get(0))
        .unwrap();
    assert!(chunks < 33, "chunks are compacted, found {chunks}");
    // A new store on another file gets a different actor.
    let other = Store::open(temp_path(&dir, "other.db")).unwrap();
    assert_ne!(other.device_actor(), actor);
}

#[test]
fn received_changes_that_do_not_decode_are_rejected_without_blocking_others() {
    let dir = tempfile::tempdir().unwrap();
    let source = open_agent(&dir);
    let (good, _) = elderly_household(&source, "张桂兰", "13800138000");
    let target = store_at(&temp_path(&dir, "t.db"), head(), at("2026-03-02T01:00:00Z"));
    let outcomes = target
        .apply_changes(vec![
            IncomingChanges {
                household_id: "garbage".into(),
                changes: vec![b"not an automerge change".to_vec()],
            },
            IncomingChanges {
                household_id: good.clone(),
                changes: source.changes_since(&good, &[]).unwrap(),
            },
        ])
        .unwrap();
    assert!(matches!(outcomes[0], ApplyOutcome::Rejected { .. }));
    assert!(matches!(outcomes[1], ApplyOutcome::Applied { new_changes } if new_changes > 0));
    assert_eq!(target.household_ids().unwrap(), vec![good.clone()]);
    // Applying the same changes again is a no-op.
    let again = target
        .apply_changes(vec![IncomingChanges {
            household_id: good.clone(),
            changes: source.changes_since(&good, &[]).unwrap(),
        }])
        .unwrap();
    assert_eq!(again, vec![ApplyOutcome::Applied { new_changes: 0 }]);
    // Changes that name the wrong household are refused.
    let wrong = target
        .apply_changes(vec![IncomingChanges {
            household_id: "someone-else".into(),
            changes: source.changes_since(&good, &[]).unwrap(),
        }])
        .unwrap();
    assert!(matches!(wrong[0], ApplyOutcome::Rejected { .. }));
    // Only the tail of the history, without its start: waits for the missing changes.
    let all = source.changes_since(&good, &[]).unwrap();
    let fresh = store_at(&temp_path(&dir, "f.db"), head(), at("2026-03-02T01:00:00Z"));
    let partial = fresh
        .apply_changes(vec![IncomingChanges {
            household_id: good.clone(),
            changes: all[1..].to_vec(),
        }])
        .unwrap();
    assert!(matches!(
        partial[0],
        ApplyOutcome::MissingDependencies { .. }
    ));
    assert!(fresh.household_ids().unwrap().is_empty());
}
