//! A small district written step by step on fixed dates, so that its figures for March 2026
//! can be counted by hand (the counts are written next to the steps and in [`expected`]):
//! 临渭区 with 三张镇 (三兴村, 东王村) and 孝义镇 (孝义村), one household each.

use automerge::ActorId;
use chrono::{DateTime, NaiveDate, Utc};
use doorstep_core::document::{EditContext, HouseholdDoc};
use doorstep_core::validate::id_check_char;
use doorstep_core::{
    JobStep, NeedStatus, NewHousehold, NewJob, NewLedgerLine, NewMember, Rating, Region,
    RegionTier, Role, Schedule, ServiceMode, SpecialTag, Urgency, User, VisitOutcome, VisitRecord,
};
use doorstep_demo::{DemoTown, DemoUser};

/// 三兴村.
pub const V1: &str = "sanzhang-v01";
/// 东王村.
pub const V2: &str = "sanzhang-v02";
/// 孝义村 of 孝义镇.
pub const X1: &str = "xiaoyi-v01";
/// The household of 三兴村, with 张桂兰 (elderly alone) and 张明 (no tag).
pub const HOUSEHOLD_V1: &str = "hh-sanxing-1";
/// 张桂兰's identity number.
pub const ZHANG_ID: &str = "61052219470315002X";
/// 张桂兰's phone.
pub const ZHANG_PHONE: &str = "13800138000";

/// An instant in Beijing time on a day of 2026.
pub fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(2026, month, day)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
        .and_local_timezone(doorstep_core::time::shanghai())
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn id_number(first17: &str) -> String {
    let digits: [u8; 17] = first17.as_bytes().try_into().unwrap();
    format!("{first17}{}", id_check_char(&digits))
}

fn region(id: &str, name: &str, tier: RegionTier, parent: Option<&str>) -> Region {
    Region {
        id: id.into(),
        name: name.into(),
        tier,
        parent_id: parent.map(str::to_string),
    }
}

fn person(id: &str, name: &str, role: Role, region: &str) -> DemoUser {
    DemoUser {
        user: User {
            id: id.into(),
            name: name.into(),
            role,
            region_ids: vec![region.into()],
        },
        actor: ActorId::random(),
    }
}

/// Writes as `who` at `when`.
struct Writer<'a> {
    doc: HouseholdDoc,
    who: &'a DemoUser,
    next: u32,
}

impl<'a> Writer<'a> {
    fn ctx(&mut self, when: DateTime<Utc>) -> EditContext<'a> {
        let who = self.who;
        self.doc.set_actor(who.actor.clone());
        EditContext {
            user: &who.user,
            at: when,
        }
    }

    fn id(&mut self, kind: &str) -> String {
        self.next += 1;
        let hh = self.doc.household_id().unwrap();
        format!("{hh}-{kind}-{}", self.next)
    }

    fn member(&mut self, name: &str, id: Option<String>, tags: Vec<SpecialTag>) -> String {
        let member_id = self.id("m");
        let input = NewMember {
            name: name.into(),
            id_number: id,
            phone: Some(ZHANG_PHONE.into()),
            gender: None,
            birth_date: None,
            relation: "户主".into(),
            tags,
        };
        let ctx = self.ctx(at(1, 5, 10));
        self.doc.add_member(&member_id, &input, ctx).unwrap();
        member_id
    }

    /// Opens a job on `day` (informed at 10:00) and takes `steps` at their instants.
    fn job(
        &mut self,
        member: &str,
        item: &str,
        mode: ServiceMode,
        urgency: Urgency,
        informed: DateTime<Utc>,
        steps: &[(JobStep, DateTime<Utc>)],
    ) {
        let job_id = self.id("j");
        let event = self.id("e");
        let input = NewJob {
            member_id: member.into(),
            item_code: item.into(),
            mode,
            urgency,
            note: String::new(),
            visit_id: None,
        };
        let ctx = self.ctx(informed);
        self.doc.add_job(&job_id, &event, &input, ctx).unwrap();
        for (step, when) in steps {
            let event = self.id("e");
            let ctx = self.ctx(*when);
            self.doc
                .take_step(&job_id, &event, step, None, ctx)
                .unwrap();
        }
    }

    fn visit(&mut self, when: DateTime<Utc>) {
        let id = self.id("v");
        let record = VisitRecord::new("例行走访", VisitOutcome::Met);
        let ctx = self.ctx(when);
        self.doc.record_visit(&id, &record, ctx).unwrap();
    }

    fn need(
        &mut self,
        member: &str,
        title: &str,
        urgency: Urgency,
        created: DateTime<Utc>,
    ) -> String {
        let id = self.id("l");
        let line = NewLedgerLine {
            member_id: member.into(),
            title: title.into(),
            schedule: Schedule::OneOff {
                status: NeedStatus::Open,
                due: None,
            },
            urgency,
            note: String::new(),
            visit_id: None,
        };
        let ctx = self.ctx(created);
        self.doc.add_ledger_line(&id, &line, ctx).unwrap();
        id
    }
}

fn accept() -> JobStep {
    JobStep::Accept {
        missing_materials: vec![],
        supplement_deadline: None,
    }
}

fn complete() -> JobStep {
    JobStep::Complete {
        result: "已办结".into(),
    }
}

fn deliver() -> JobStep {
    JobStep::Deliver {
        signed_by: "本人".into(),
    }
}

fn rate(rating: Rating) -> JobStep {
    JobStep::Rate {
        rating,
        comment: String::new(),
    }
}

fn household<'a>(id: &str, village: &str, agent: &'a DemoUser) -> Writer<'a> {
    let input = NewHousehold {
        village_id: village.into(),
        group_name: "一组".into(),
        address: format!("{village}一组1号"),
        phone: Some(ZHANG_PHONE.into()),
    };
    let ctx = EditContext {
        user: &agent.user,
        at: at(1, 5, 9),
    };
    Writer {
        doc: HouseholdDoc::create(id, agent.actor.clone(), &input, ctx).unwrap(),
        who: agent,
        next: 0,
    }
}

/// The district, its people (an agent per village, 三张镇's hub staff `town-staff-1`, the
/// district's `district-1`) and its three households.
pub fn district() -> DemoTown {
    let regions = vec![
        region("linwei", "临渭区", RegionTier::District, None),
        region("sanzhang", "三张镇", RegionTier::Town, Some("linwei")),
        region(V1, "三兴村", RegionTier::Village, Some("sanzhang")),
        region(V2, "东王村", RegionTier::Village, Some("sanzhang")),
        region("xiaoyi", "孝义镇", RegionTier::Town, Some("linwei")),
        region(X1, "孝义村", RegionTier::Village, Some("xiaoyi")),
    ];
    let users = vec![
        person("agent-v1", "杜娜", Role::Agent, V1),
        person("agent-v2", "李解放", Role::Agent, V2),
        person("agent-x1", "王强", Role::Agent, X1),
        person("town-staff-1", "张卫东", Role::TownStaff, "sanzhang"),
        person("district-1", "刘建国", Role::District, "linwei"),
    ];
    let [a1, a2, ax, ..] = &users[..] else {
        unreachable!()
    };
    let (p, mode, u) = ("pension-certification", ServiceMode::Help, Urgency::Green);

    // 三兴村 in March: told 4 (J1, J2, J3, J4), 3 of them special (J1, J2, J4), 2 accepted;
    // completed 3 (J1 on time, J2 and J5 late), handling 26 + 240 + 216 hours; rated good
    // (J1), bad (J2), average (J5); visits 2; needs written 2, closed 1.
    let mut v1 = household(HOUSEHOLD_V1, V1, a1);
    let zhang = v1.member(
        "张桂兰",
        Some(ZHANG_ID.into()),
        vec![SpecialTag::ElderlyAlone],
    );
    let ming = v1.member("张明", Some(id_number("61052219750101001")), vec![]);
    // J1: accepted 3-02 10:00, due 3-03, completed 3-03 12:00 (26 h, on time), good 3-05.
    v1.job(
        &zhang,
        p,
        mode,
        u,
        at(3, 2, 10),
        &[
            (accept(), at(3, 2, 10)),
            (complete(), at(3, 3, 12)),
            (deliver(), at(3, 4, 10)),
            (rate(Rating::Good), at(3, 5, 10)),
        ],
    );
    // J2: accepted 3-10 10:00, due 3-11, completed 3-20 10:00 (240 h, late), bad 3-21.
    v1.job(
        &zhang,
        p,
        mode,
        u,
        at(3, 10, 10),
        &[
            (accept(), at(3, 10, 10)),
            (complete(), at(3, 20, 10)),
            (deliver(), at(3, 20, 15)),
            (rate(Rating::Bad), at(3, 21, 10)),
        ],
    );
    // J3: not special, accepted, waiting (amber): an open need now.
    v1.job(
        &ming,
        "medical-insurance-payment",
        ServiceMode::Proxy,
        Urgency::Amber,
        at(3, 15, 10),
        &[(accept(), at(3, 15, 10))],
    );
    // J4: special, told 3-25, not accepted (red): an open need now.
    v1.job(&zhang, p, mode, Urgency::Red, at(3, 25, 10), &[]);
    // J5: told and accepted 2-20 (February), completed 3-01 10:00 (216 h, late), average 3-02.
    v1.job(
        &zhang,
        p,
        mode,
        u,
        at(2, 20, 10),
        &[
            (accept(), at(2, 20, 10)),
            (complete(), at(3, 1, 10)),
            (deliver(), at(3, 1, 15)),
            (rate(Rating::Average), at(3, 2, 10)),
        ],
    );
    v1.visit(at(2, 10, 10));
    v1.visit(at(3, 2, 10));
    v1.visit(at(3, 10, 10));
    let wheelchair = v1.need(&zhang, "轮椅申领", Urgency::Amber, at(3, 2, 11));
    let ctx = v1.ctx(at(3, 12, 10));
    v1.doc
        .set_need_status(&wheelchair, NeedStatus::Done, ctx)
        .unwrap();
    v1.need(&zhang, "助听器适配", Urgency::Red, at(3, 5, 11));
    v1.need(&ming, "护理床申请", Urgency::Amber, at(2, 1, 11));

    // 东王村 in March: told 1, special, accepted 3-05 10:00, completed 14:00 (4 h, on time),
    // good 3-06. No open need.
    let mut v2 = household("hh-dongwang-1", V2, a2);
    let li = v2.member(
        "李秀英",
        Some(id_number("61052219500505002")),
        vec![SpecialTag::Disabled],
    );
    v2.job(
        &li,
        p,
        ServiceMode::AtHome,
        u,
        at(3, 5, 10),
        &[
            (accept(), at(3, 5, 10)),
            (complete(), at(3, 5, 14)),
            (deliver(), at(3, 5, 16)),
            (rate(Rating::Good), at(3, 6, 10)),
        ],
    );

    // 孝义村 in March: told 1, not special, accepted, waiting (green: an open need); visit 1.
    let mut x1 = household("hh-xiaoyi-1", X1, ax);
    let wang = x1.member("王五", Some(id_number("61052219600808001")), vec![]);
    x1.job(
        &wang,
        "medical-insurance-payment",
        ServiceMode::Proxy,
        u,
        at(3, 8, 10),
        &[(accept(), at(3, 8, 10))],
    );
    x1.visit(at(3, 8, 11));

    let households = vec![v1.doc, v2.doc, x1.doc];
    DemoTown {
        regions,
        users,
        households,
    }
}

/// The district written into a fresh test database (SQLite in `dir`, or PostgreSQL in the
/// PostgreSQL run): where its data is, and the server's state on it.
pub fn loaded(dir: &std::path::Path) -> (String, doorstep_sync_server::http::AppState) {
    let data = crate::test_data(dir);
    let state =
        doorstep_sync_server::http::AppState::open(&data, crate::test_key_file(&data).as_deref())
            .expect("server data");
    doorstep_sync_server::demo::load_town(&state.storage, &district()).expect("the district");
    (data, state)
}

/// March 2026's counts by hand, per village: (village, told, special, special accepted,
/// completed, on time, handling hours in all, good, average, bad, visits, needs written,
/// needs closed).
pub type Expected = (&'static str, [i64; 12]);

/// What [`district`] gives for 2026-03-01..=2026-03-31.
pub fn expected() -> [Expected; 3] {
    [
        (V1, [4, 3, 2, 3, 1, 26 + 240 + 216, 1, 1, 1, 2, 2, 1]),
        (V2, [1, 1, 1, 1, 1, 4, 1, 0, 0, 0, 0, 0]),
        (X1, [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
    ]
}

/// Open needs now, by village: red, amber, green.
pub fn expected_open_needs() -> [(&'static str, [i64; 3]); 2] {
    // 三兴村: 助听器适配 (red), 护理床申请 (amber), J3 (amber), J4 (red); 孝义村: J7 (green).
    [(V1, [2, 2, 0]), (X1, [0, 0, 1])]
}
