//! Screen data from the core: the household screen in one call, and each job step's form
//! (fields, labels, choices, what is required) with the step it becomes.

mod common;

use common::*;
use doorstep_core::*;

fn open_agent(dir: &tempfile::TempDir) -> Store {
    store_at(
        &temp_path(dir, "agent.db"),
        agent(),
        at("2026-03-02T01:00:00Z"),
    )
}

fn line(member: &str, title: &str, schedule: Schedule) -> NewLedgerLine {
    NewLedgerLine {
        member_id: member.into(),
        title: title.into(),
        schedule,
        urgency: Urgency::Amber,
        note: String::new(),
        visit_id: None,
    }
}

#[test]
fn the_household_screen_comes_in_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (hh, member) = elderly_household(&store, "张桂兰", "13800138000");
    let yearly = Schedule::Yearly { month: 6, day: 1 };
    let cycle = Schedule::EveryNDays {
        days: 30,
        first_due: date(2026, 2, 20),
    };
    let done = Schedule::OneOff {
        status: NeedStatus::Done,
        due: None,
    };
    for (title, schedule) in [("生日", yearly), ("降压药更换", cycle), ("轮椅申领", done)]
    {
        store
            .add_ledger_line(line(&member, title, schedule))
            .unwrap();
    }
    let job = open_job(&store, &member, "pension-certification");

    assert_eq!(
        store.today(),
        date(2026, 3, 2),
        "01:00 UTC is 09:00 in the town"
    );
    let screen = store.household_screen(&hh).unwrap();
    assert_eq!(screen.household.id, hh);
    assert_eq!(screen.members.len(), 1);
    let titles: Vec<&str> = screen
        .ledger
        .iter()
        .map(|r| r.line.title.as_str())
        .collect();
    assert_eq!(
        titles,
        ["降压药更换", "生日", "轮椅申领"],
        "soonest first, closed last"
    );
    assert_eq!(
        screen.ledger.iter().map(|r| r.due_now).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert!(screen.ledger.iter().all(|r| r.member_name == "张桂兰"));
    let row = &screen.jobs[0];
    assert_eq!(row.details.job.id, job);
    assert_eq!(row.item_name, "养老认证");
    assert_eq!(row.member_name, "张桂兰");
    assert_eq!(row.next_steps, store.possible_steps(&job).unwrap());
    assert!(screen.conflicts.is_empty());
    assert!(matches!(
        screen.sync_state,
        HouseholdSyncState::Pending { .. }
    ));
    assert!(matches!(
        store.household_screen("no-such-household"),
        Err(CoreError::NotFound { .. })
    ));
}

#[test]
fn step_forms_describe_their_fields_and_choices() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (_, member) = elderly_household(&store, "张桂兰", "13800138000");
    let job = open_job(&store, &member, "medical-insurance-payment");

    let accept = store.step_form(&job, JobStepKind::Accept).unwrap();
    assert_eq!(accept.title, "受理");
    let kinds: Vec<StepFieldKind> = accept.fields.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [StepFieldKind::Materials, StepFieldKind::Date]);
    assert_eq!(
        accept.fields[0].choices,
        ["社会保障卡", "户口簿"],
        "non-key materials only"
    );
    assert!(!accept.fields[0].required && !accept.fields[1].required);
    assert_eq!(accept.fields[1].label, "容缺材料补齐期限");

    let rate = store.step_form(&job, JobStepKind::Rate).unwrap();
    let required: Vec<(StepFieldKind, bool)> =
        rate.fields.iter().map(|f| (f.kind, f.required)).collect();
    assert_eq!(
        required,
        [(StepFieldKind::Rating, true), (StepFieldKind::Text, false)]
    );
    let nobody = store.step_form(&job, JobStepKind::NobodyHome).unwrap();
    assert_eq!(nobody.fields[0].label, "改约上门日期");
    assert!(nobody.fields[0].required);
    assert!(
        !store
            .step_form(&job, JobStepKind::Reconcile)
            .unwrap()
            .on_phone
    );
    assert!(
        store
            .step_form(&job, JobStepKind::Approve)
            .unwrap()
            .fields
            .is_empty()
    );

    // A form becomes its step, checked with the field's label.
    let missing = |kind: JobStepKind, input: StepInput| match kind.step_from(&input) {
        Err(CoreError::MissingField { field }) => field,
        other => panic!("expected a missing field, got {other:?}"),
    };
    assert_eq!(
        missing(JobStepKind::Return, StepInput::default()),
        "退回原因"
    );
    assert_eq!(
        missing(JobStepKind::NobodyHome, StepInput::default()),
        "改约上门日期"
    );
    assert_eq!(missing(JobStepKind::Rate, StepInput::default()), "评价");
    assert_eq!(
        missing(JobStepKind::Supplement, StepInput::default()),
        "补齐的材料"
    );
    assert!(
        JobStepKind::Reconcile
            .step_from(&StepInput::default())
            .is_err()
    );

    // 容缺受理: a material missing needs its deadline; then the supplement offers it.
    let some_missing = StepInput {
        materials: vec!["户口簿".into()],
        ..StepInput::default()
    };
    assert!(matches!(
        store.take_step_from_form(&job, JobStepKind::Accept, &some_missing, None),
        Err(CoreError::MissingField { field }) if field == "容缺材料补齐期限"
    ));
    let with_deadline = StepInput {
        date: Some(date(2026, 3, 9)),
        ..some_missing
    };
    let progress = store
        .take_step_from_form(&job, JobStepKind::Accept, &with_deadline, None)
        .unwrap();
    assert_eq!(progress.missing_materials, ["户口簿"]);
    let supplement = store.step_form(&job, JobStepKind::Supplement).unwrap();
    assert_eq!(supplement.fields[0].choices, ["户口簿"]);
    assert!(supplement.fields[0].required);
    let rated = StepInput {
        rating: Some(Rating::Good),
        ..StepInput::default()
    };
    assert!(matches!(
        store.take_step_from_form(&job, JobStepKind::Rate, &rated, None),
        Err(CoreError::StepNotAllowed { .. })
    ));
}

#[test]
fn deliveries_list_results_until_they_are_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (_, member) = elderly_household(&store, "张桂兰", "13800138000");
    let job = open_job(&store, &member, "pension-certification");
    let waiting = open_job(&store, &member, "pension-certification");
    store.take_step(&waiting, accept(), None).unwrap();
    let step = |kind: JobStepKind, input: StepInput| {
        store.take_step_from_form(&job, kind, &input, None).unwrap()
    };
    step(JobStepKind::Accept, StepInput::default());
    assert!(store.deliveries(Some(VILLAGE)).unwrap().is_empty());
    let text = |t: &str| StepInput {
        text: t.into(),
        ..StepInput::default()
    };
    step(JobStepKind::Complete, text("认证成功"));
    let listed = store.deliveries(Some(VILLAGE)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].job_id, job);
    assert_eq!(listed[0].state, JobState::Completed);
    // Nobody home: it stays on the list, with a new date; signed for: it leaves the list.
    let later = StepInput {
        date: Some(date(2026, 3, 4)),
        ..StepInput::default()
    };
    step(JobStepKind::NobodyHome, later);
    assert_eq!(store.deliveries(None).unwrap().len(), 1);
    step(JobStepKind::Deliver, text("本人"));
    assert!(store.deliveries(Some(VILLAGE)).unwrap().is_empty());
    assert!(store.deliveries(Some("other-village")).unwrap().is_empty());
}

#[test]
fn the_village_head_hands_up_a_groups_jobs_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_agent(&dir);
    let (_, third) = elderly_household(&store, "张桂兰", "13800138000");
    let first_group = store
        .create_household(NewHousehold {
            village_id: VILLAGE.into(),
            group_name: "一组".into(),
            address: "三兴村一组3号".into(),
            phone: None,
        })
        .unwrap();
    let first = store
        .add_member(
            &first_group,
            NewMember {
                name: "李秀英".into(),
                relation: "户主".into(),
                tags: vec![SpecialTag::Disabled],
                ..NewMember::default()
            },
        )
        .unwrap();
    let town_job = |member: &str| {
        let job = open_job(&store, member, "social-security-card-application");
        store.take_step(&job, accept(), None).unwrap();
        job
    };
    let (a, b, c) = (town_job(&third), town_job(&first), town_job(&third));
    store.sign_in(head()).unwrap();
    let groups = store.hand_up_groups(Some(VILLAGE)).unwrap();
    let shape: Vec<(&str, usize)> = groups
        .iter()
        .map(|g| (g.group_name.as_str(), g.jobs.len()))
        .collect();
    assert_eq!(shape, [("一组", 1), ("三组", 2)]);
    assert_eq!(groups[0].jobs[0].job_id, b);

    let outcomes = store.hand_up_jobs(&[a.clone(), b.clone(), "no-such-job".into()], "权兴旺");
    assert_eq!(outcomes[..2], [None, None]);
    assert!(
        outcomes[2].as_deref().unwrap().contains("找不到"),
        "{outcomes:?}"
    );
    assert_eq!(store.job(&a).unwrap().progress.state, JobState::HandedUp);
    let left = store.hand_up_groups(Some(VILLAGE)).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].jobs[0].job_id, c);
}

#[test]
fn today_and_the_month_start_are_counted_in_beijing_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.db");
    let date = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
    // 00:30 on 1 March in Beijing is still 28 February in UTC.
    let store = store_at(&path, agent(), at("2026-02-28T16:30:00Z"));
    assert_eq!(
        (store.today(), store.month_start()),
        (date("2026-03-01"), date("2026-03-01"))
    );
    drop(store);
    // 23:59 on 31 March in Beijing.
    let store = store_at(&path, agent(), at("2026-03-31T15:59:00Z"));
    assert_eq!(
        (store.today(), store.month_start()),
        (date("2026-03-31"), date("2026-03-01"))
    );
}
