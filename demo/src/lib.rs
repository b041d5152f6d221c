//! A seeded generator of a realistic town: villages, agents and hub staff, special-group
//! households with Chinese names and valid identity numbers, ledgers, visits, jobs in every
//! state (written step by step by the people who would take them, each on their own device),
//! and a few concurrent edits left for hub staff to reconcile. The same seed gives the same town.

use automerge::ActorId;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use doorstep_core::document::{EditContext, HouseholdDoc};
use doorstep_core::domain::catalogue::{self, ItemTier, ServiceItem, ServiceMode};
use doorstep_core::domain::household::{Gender, MemberPatch, NewHousehold, NewMember, SpecialTag};
use doorstep_core::domain::job::NewJob;
use doorstep_core::domain::ledger::{NeedStatus, NewLedgerLine, Schedule, Urgency};
use doorstep_core::domain::region::{Region, RegionTier, Role, User};
use doorstep_core::domain::step::{JobStep, Location, Rating};
use doorstep_core::domain::visit::{VisitOutcome, VisitRecord};
use doorstep_core::error::Result;
use doorstep_core::ids::new_id;
use doorstep_core::time::{add_days, shanghai};
use doorstep_core::validate::id_check_char;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// The seed: the same seed gives the same town.
    pub seed: u64,
    /// Number of villages.
    pub villages: usize,
    /// Special-group households per village.
    pub households_per_village: usize,
    /// Average jobs per household.
    pub jobs_per_household: f64,
    /// The last day of the simulated history ("today").
    pub today: NaiveDate,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            seed: 2025,
            villages: 6,
            households_per_village: 60,
            jobs_per_household: 2.0,
            today: NaiveDate::from_ymd_opt(2026, 11, 20).expect("valid date"),
        }
    }
}

/// A user of the demo town and the automerge actor of their device.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoUser {
    /// The user.
    pub user: User,
    /// Their device's actor id.
    pub actor: ActorId,
}

/// A generated town.
#[derive(Debug, Clone)]
pub struct DemoTown {
    /// The district, the town and its villages.
    pub regions: Vec<Region>,
    /// Agents and village heads (two per village), town hub staff and a district officer.
    pub users: Vec<DemoUser>,
    /// One document per household.
    pub households: Vec<HouseholdDoc>,
}

impl DemoTown {
    /// The town's villages.
    pub fn villages(&self) -> impl Iterator<Item = &Region> {
        self.regions
            .iter()
            .filter(|r| r.tier == RegionTier::Village)
    }

    /// The first user with `role` in `region_id`.
    pub fn user(&self, role: Role, region_id: &str) -> Option<&DemoUser> {
        self.users
            .iter()
            .find(|u| u.user.role == role && u.user.region_ids.iter().any(|r| r == region_id))
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "田",
    "董", "袁", "潘", "杜", "程", "苏", "魏", "吕", "丁", "任", "姚", "卢", "姜", "崔", "贾", "雷",
    "侯", "史", "薛", "闫", "党", "惠", "寇", "权",
];
const OLD_MALE: &[&str] = &[
    "建国", "志强", "德胜", "福贵", "长生", "春生", "振华", "宝山", "天明", "有才", "忠厚", "金锁",
    "满仓", "丰收", "解放", "卫东", "文斌", "世荣", "兴旺", "根生",
];
const OLD_FEMALE: &[&str] = &[
    "桂兰", "秀英", "玉兰", "淑珍", "凤英", "秀兰", "玉珍", "桂芝", "素芬", "翠花", "金凤", "彩霞",
    "改样", "粉莲", "引弟", "菊花", "月娥", "春梅",
];
const YOUNG: &[&str] = &[
    "伟", "磊", "军", "勇", "静", "丽", "娜", "敏", "涛", "鹏", "超", "艳", "婷", "浩", "洋",
    "晓东", "海燕", "小龙", "亚楠", "佳琪",
];
const CHILD: &[&str] = &[
    "子涵", "浩然", "雨桐", "梓轩", "欣怡", "一诺", "思远", "佳怡", "俊熙", "诗涵", "沐阳", "梓萱",
    "宇航", "若曦",
];
const VILLAGES: &[&str] = &[
    "三兴村",
    "东王村",
    "西庄村",
    "杜桥村",
    "阎村",
    "崇凝村",
    "阳郭村",
    "故市村",
    "南塬村",
    "北田村",
    "河西村",
    "双创社区",
];
const GROUPS: &[&str] = &[
    "一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组",
];
/// 渭南市临渭区, the district of the Linwei article.
const DISTRICT_CODE: &str = "610502";
/// Roughly the town's position (for step locations).
const TOWN_LAT_LON: (f64, f64) = (34.50, 109.51);

struct Gen {
    rng: ChaCha8Rng,
    today: NaiveDate,
}

impl Gen {
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    fn id(&mut self) -> String {
        new_id(&mut self.rng)
    }

    fn actor(&mut self) -> ActorId {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        ActorId::from(bytes)
    }

    fn gender(&mut self, female: f64) -> Gender {
        if self.chance(female) {
            Gender::Female
        } else {
            Gender::Male
        }
    }

    fn name(&mut self, given: &[&str]) -> String {
        format!("{}{}", self.pick(SURNAMES), self.pick(given))
    }

    fn phone(&mut self) -> String {
        let prefix = *self.pick(&[
            "135", "137", "138", "139", "150", "152", "157", "158", "182", "187", "199",
        ]);
        format!("{prefix}{:08}", self.rng.random_range(0..100_000_000u32))
    }

    fn id_number(&mut self, birth: NaiveDate, gender: Gender) -> String {
        let seq = self.rng.random_range(0..50u32) * 20
            + self.rng.random_range(0..5u32) * 2
            + u32::from(gender == Gender::Male);
        let first17 = format!("{DISTRICT_CODE}{}{seq:03}", birth.format("%Y%m%d"));
        let digits: [u8; 17] = first17.as_bytes().try_into().expect("17 digits");
        format!("{first17}{}", id_check_char(&digits))
    }

    fn birth(&mut self, min_age: i32, max_age: i32) -> NaiveDate {
        let age = self.rng.random_range(min_age..=max_age);
        let days_back = age * 365 + self.rng.random_range(0..365);
        self.today - Duration::days(i64::from(days_back))
    }

    /// A device time on `date`, during working hours in Shanghai.
    fn at(&mut self, date: NaiveDate) -> DateTime<Utc> {
        let minutes = self.rng.random_range(8 * 60..18 * 60);
        let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).expect("valid time");
        date.and_time(time)
            .and_local_timezone(shanghai())
            .single()
            .expect("fixed offset")
            .with_timezone(&Utc)
    }

    fn location(&mut self) -> Location {
        Location {
            latitude: TOWN_LAT_LON.0 + self.rng.random_range(-0.05..0.05),
            longitude: TOWN_LAT_LON.1 + self.rng.random_range(-0.05..0.05),
        }
    }
}

/// Generates a town. Every document is written through the same checked API the phone uses.
pub fn generate(options: &DemoOptions) -> Result<DemoTown> {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        today: options.today,
    };
    let district = Region {
        id: "linwei".into(),
        name: "临渭区".into(),
        tier: RegionTier::District,
        parent_id: None,
    };
    let town = Region {
        id: "sanzhang".into(),
        name: "三张镇".into(),
        tier: RegionTier::Town,
        parent_id: Some(district.id.clone()),
    };
    let mut regions = vec![district.clone(), town.clone()];
    let mut users = vec![
        staff(&mut g, "town-staff-1", Role::TownStaff, &town.id),
        staff(&mut g, "town-staff-2", Role::TownStaff, &town.id),
        staff(&mut g, "district-1", Role::District, &district.id),
    ];
    let mut households = Vec::new();
    for v in 0..options.villages {
        let name = match VILLAGES.get(v) {
            Some(n) => n.to_string(),
            None => format!("第{}村", v + 1),
        };
        let village = Region {
            id: format!("{}-v{:02}", town.id, v + 1),
            name,
            tier: RegionTier::Village,
            parent_id: Some(town.id.clone()),
        };
        let agent = staff(
            &mut g,
            &format!("{}-agent", village.id),
            Role::Agent,
            &village.id,
        );
        let head = staff(
            &mut g,
            &format!("{}-head", village.id),
            Role::VillageHead,
            &village.id,
        );
        let cast = Cast {
            agent: agent.clone(),
            head: head.clone(),
            town: users[0].clone(),
            district: users[2].clone(),
        };
        for _ in 0..options.households_per_village {
            households.push(household(
                &mut g,
                &village,
                &cast,
                options.jobs_per_household,
            )?);
        }
        users.push(agent);
        users.push(head);
        regions.push(village);
    }
    Ok(DemoTown {
        regions,
        users,
        households,
    })
}

fn staff(g: &mut Gen, id: &str, role: Role, region: &str) -> DemoUser {
    let given = if g.chance(0.5) { YOUNG } else { OLD_MALE };
    DemoUser {
        user: User {
            id: id.to_string(),
            name: g.name(given),
            role,
            region_ids: vec![region.to_string()],
        },
        actor: g.actor(),
    }
}

/// The people who write a village's documents.
struct Cast {
    agent: DemoUser,
    head: DemoUser,
    town: DemoUser,
    district: DemoUser,
}

impl Cast {
    fn for_role(&self, role: Role) -> &DemoUser {
        match role {
            Role::Agent => &self.agent,
            Role::VillageHead => &self.head,
            Role::TownStaff => &self.town,
            Role::District => &self.district,
        }
    }
}

/// Writes with `who`'s device and name at `at`.
fn as_user<'a>(doc: &mut HouseholdDoc, who: &'a DemoUser, at: DateTime<Utc>) -> EditContext<'a> {
    doc.set_actor(who.actor.clone());
    EditContext {
        user: &who.user,
        at,
    }
}

fn household(
    g: &mut Gen,
    village: &Region,
    cast: &Cast,
    jobs_per_household: f64,
) -> Result<HouseholdDoc> {
    let id = g.id();
    let created = g.today - Duration::days(g.rng.random_range(150..400));
    let at = g.at(created);
    let group = *g.pick(GROUPS);
    let input = NewHousehold {
        village_id: village.id.clone(),
        group_name: group.to_string(),
        address: format!("{}{}{}号", village.name, group, g.rng.random_range(1..80)),
        phone: g.chance(0.6).then(|| g.phone()),
    };
    let ctx = EditContext {
        user: &cast.agent.user,
        at,
    };
    let mut doc = HouseholdDoc::create(&id, cast.agent.actor.clone(), &input, ctx)?;

    let mut members = Vec::new();
    for new in household_members(g) {
        let member_id = g.id();
        let ctx = as_user(&mut doc, &cast.agent, at);
        doc.add_member(&member_id, &new, ctx)?;
        members.push((member_id, new));
    }
    for (member_id, m) in &members {
        ledger_lines(g, &mut doc, cast, member_id, m, created)?;
    }
    let visits = visits(g, &mut doc, cast, created)?;
    let jobs = poisson_like(g, jobs_per_household);
    for _ in 0..jobs {
        let (member_id, m) = g.pick(&members).clone();
        job(
            g,
            &mut doc,
            cast,
            &member_id,
            &m,
            visits.first().map(String::as_str),
        )?;
    }
    if g.chance(0.04) {
        concurrent_phone_edit(g, &mut doc, cast, &members[0].0)?;
    }
    Ok(doc)
}

/// A count with mean `mean` (at least 0).
fn poisson_like(g: &mut Gen, mean: f64) -> usize {
    let whole = mean.floor();
    let extra = usize::from(g.chance(mean - whole));
    let spread = if whole >= 2.0 {
        g.rng.random_range(0..=2) as f64 - 1.0
    } else {
        0.0
    };
    (whole + spread).max(0.0) as usize + extra
}

/// The members of one special-group household (at least one has a tag).
fn household_members(g: &mut Gen) -> Vec<NewMember> {
    let mut out = Vec::new();
    let kind = g.rng.random_range(0..10);
    let elder_gender = g.gender(0.55);
    let elder_birth = g.birth(62, 94);
    let age = (g.today - elder_birth).num_days() / 365;
    let mut elder_tags = Vec::new();
    if age >= 80 {
        elder_tags.push(SpecialTag::VeryOld);
    }
    if g.chance(0.35) {
        elder_tags.push(SpecialTag::SeriouslyIll);
    }
    match kind {
        0..=3 => elder_tags.push(SpecialTag::ElderlyAlone),
        4 => elder_tags.push(SpecialTag::FiveGuarantees),
        5 => elder_tags.push(SpecialTag::Disabled),
        6 => elder_tags.push(SpecialTag::Subsistence),
        _ => {}
    }
    let given = if elder_gender == Gender::Female {
        OLD_FEMALE
    } else {
        OLD_MALE
    };
    let elder_name = g.name(given);
    let surname: String = elder_name.chars().take(1).collect();
    out.push(member(
        g,
        elder_name,
        elder_gender,
        elder_birth,
        "户主",
        elder_tags,
    ));
    if matches!(kind, 7..=9) {
        // Grandparent raising a left-behind child; a parent works away from home.
        let parent_gender = g.gender(0.5);
        let parent_birth = g.birth(28, 45);
        let parent_name = format!("{surname}{}", g.pick(YOUNG));
        out.push(member(
            g,
            parent_name,
            parent_gender,
            parent_birth,
            "儿子",
            vec![SpecialTag::MigrantWorker],
        ));
        let child_gender = g.gender(0.5);
        let child_birth = g.birth(5, 14);
        let child_name = format!("{surname}{}", g.pick(CHILD));
        out.push(member(
            g,
            child_name,
            child_gender,
            child_birth,
            "孙辈",
            vec![SpecialTag::LeftBehindChild],
        ));
    } else if kind == 5 && g.chance(0.5) {
        let spouse_gender = if elder_gender == Gender::Male {
            Gender::Female
        } else {
            Gender::Male
        };
        let spouse_birth = g.birth(60, 90);
        let given = if spouse_gender == Gender::Female {
            OLD_FEMALE
        } else {
            OLD_MALE
        };
        let spouse_name = g.name(given);
        out.push(member(
            g,
            spouse_name,
            spouse_gender,
            spouse_birth,
            "配偶",
            Vec::new(),
        ));
    }
    out
}

fn member(
    g: &mut Gen,
    name: String,
    gender: Gender,
    birth: NaiveDate,
    relation: &str,
    tags: Vec<SpecialTag>,
) -> NewMember {
    NewMember {
        id_number: Some(g.id_number(birth, gender)),
        phone: (relation != "孙辈" && g.chance(0.5)).then(|| g.phone()),
        name,
        gender: Some(gender),
        birth_date: None,
        relation: relation.to_string(),
        tags,
    }
}

fn urgency(g: &mut Gen) -> Urgency {
    match g.rng.random_range(0..10) {
        0..=1 => Urgency::Red,
        2..=4 => Urgency::Amber,
        _ => Urgency::Green,
    }
}

fn ledger_lines(
    g: &mut Gen,
    doc: &mut HouseholdDoc,
    cast: &Cast,
    member_id: &str,
    m: &NewMember,
    created: NaiveDate,
) -> Result<()> {
    let mut lines = Vec::new();
    if m.tags.contains(&SpecialTag::SeriouslyIll)
        || (m.tags.contains(&SpecialTag::ElderlyAlone) && g.chance(0.6))
    {
        let days = *g.pick(&[14u32, 30, 30, 60, 90]);
        let first_due = add_days(created, g.rng.random_range(1..=days));
        let title = *g.pick(&["降压药更换", "降糖药续方", "胰岛素领取", "慢病随访"]);
        lines.push((
            title.to_string(),
            Schedule::EveryNDays { days, first_due },
            Urgency::Amber,
        ));
    }
    let birthday_tags = [
        SpecialTag::FiveGuarantees,
        SpecialTag::VeryOld,
        SpecialTag::ElderlyAlone,
    ];
    if m.tags.iter().any(|t| birthday_tags.contains(t))
        && let Some(birth) = m
            .id_number
            .as_deref()
            .and_then(doorstep_core::validate::birth_date_from_id)
    {
        lines.push((
            "生日提醒".to_string(),
            Schedule::Yearly {
                month: birth.month(),
                day: birth.day(),
            },
            Urgency::Green,
        ));
    }
    if m.tags.contains(&SpecialTag::Disabled) {
        let status = *g.pick(&[NeedStatus::Open, NeedStatus::InProgress, NeedStatus::Done]);
        let due = add_days(g.today, g.rng.random_range(0..40)) - Duration::days(20);
        let title = *g.pick(&["轮椅申领", "助听器适配", "助行器申领", "护理床申请"]);
        lines.push((
            title.to_string(),
            Schedule::OneOff {
                status,
                due: Some(due),
            },
            Urgency::Red,
        ));
    }
    if m.tags.contains(&SpecialTag::LeftBehindChild) {
        lines.push((
            "放学后看护（六点半课堂）".to_string(),
            Schedule::EveryNDays {
                days: 7,
                first_due: add_days(created, 7),
            },
            Urgency::Amber,
        ));
    }
    for (title, schedule, default_urgency) in lines {
        let id = g.id();
        let urgency = if g.chance(0.3) {
            urgency(g)
        } else {
            default_urgency
        };
        let at = g.at(created);
        // A need handled already is written open and closed (销号) on its due date.
        let (written, closed_on) = match schedule {
            Schedule::OneOff {
                status: NeedStatus::Done,
                due,
            } => (
                Schedule::OneOff {
                    status: NeedStatus::Open,
                    due,
                },
                due.map(|d| d.clamp(created, g.today)),
            ),
            other => (other, None),
        };
        let ctx = as_user(doc, &cast.agent, at);
        doc.add_ledger_line(
            &id,
            &NewLedgerLine {
                member_id: member_id.to_string(),
                title,
                schedule: written,
                urgency,
                note: String::new(),
                visit_id: None,
            },
            ctx,
        )?;
        if let Some(day) = closed_on {
            let at = day
                .and_time(NaiveTime::from_hms_opt(16, 0, 0).expect("valid time"))
                .and_local_timezone(shanghai())
                .single()
                .expect("fixed offset")
                .with_timezone(&Utc);
            let ctx = as_user(doc, &cast.agent, at);
            doc.set_need_status(&id, NeedStatus::Done, ctx)?;
        }
        if schedule.kind_code() != "one_off" && g.chance(0.7) {
            let done = g.today - Duration::days(g.rng.random_range(0..45));
            let at = g.at(done);
            let ctx = as_user(doc, &cast.agent, at);
            doc.mark_reminder_done(&id, done, ctx)?;
        }
    }
    Ok(())
}

fn visits(
    g: &mut Gen,
    doc: &mut HouseholdDoc,
    cast: &Cast,
    created: NaiveDate,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for _ in 0..g.rng.random_range(1..=3) {
        let id = g.id();
        let span = (g.today - created).num_days().max(1);
        let date = created + Duration::days(g.rng.random_range(0..span));
        let outcome = *g.pick(&[
            VisitOutcome::Met,
            VisitOutcome::Met,
            VisitOutcome::MetFamily,
            VisitOutcome::NobodyHome,
            VisitOutcome::Remote,
        ]);
        let notes = *g.pick(&[
            "身体状况良好，按时服药",
            "反映腿脚不便，需要代办",
            "家中无人，已电话联系",
            "询问养老认证办理方式",
            "孙子放学后无人照看",
        ]);
        let record = VisitRecord {
            purpose: "季度走访".into(),
            outcome,
            notes: notes.into(),
            location: Some(g.location()),
        };
        let at = g.at(date);
        let ctx = as_user(doc, &cast.agent, at);
        doc.record_visit(&id, &record, ctx)?;
        ids.push(id);
    }
    if g.chance(0.3) {
        let id = g.id();
        let planned = add_days(g.today, g.rng.random_range(1..14));
        let at = g.at(g.today);
        let ctx = as_user(doc, &cast.agent, at);
        doc.plan_visit(&id, planned, "送达政务包裹并回访", ctx)?;
    }
    Ok(ids)
}

/// An item that fits the member's tags.
fn item_for(g: &mut Gen, m: &NewMember) -> &'static ServiceItem {
    let tags = &m.tags;
    let codes: &[&str] = if tags.contains(&SpecialTag::Disabled) {
        &[
            "disability-assistive-device",
            "disability-two-subsidies",
            "disability-certificate",
            "pension-certification",
        ]
    } else if tags.contains(&SpecialTag::LeftBehindChild) {
        &[
            "left-behind-child-care",
            "medical-insurance-payment",
            "hukou-certificate",
        ]
    } else if tags.contains(&SpecialTag::MigrantWorker) {
        &[
            "medical-insurance-payment",
            "social-security-card-activation",
            "medical-insurance-remote-filing",
            "resident-pension-enrolment",
        ]
    } else if tags.contains(&SpecialTag::Subsistence) || tags.contains(&SpecialTag::FiveGuarantees)
    {
        &[
            "minimum-living-allowance",
            "temporary-assistance",
            "extreme-poverty-support",
            "medical-assistance",
            "pension-certification",
        ]
    } else {
        &[
            "pension-certification",
            "pension-certification",
            "social-security-card-application",
            "social-security-card-activation",
            "elderly-preferential-card",
            "senior-age-allowance",
            "medical-insurance-payment",
            "chronic-disease-outpatient",
            "senior-bus-card",
        ]
    };
    let code = *g.pick(codes);
    catalogue::item(code).unwrap_or(&catalogue::catalogue()[0])
}

/// The steps of a job's whole life for `item`, with the variations the articles describe.
fn plan_steps(g: &mut Gen, item: &ServiceItem, head_name: &str) -> Vec<(JobStep, Role)> {
    let non_key: Vec<String> = item
        .materials
        .iter()
        .filter(|m| !m.key)
        .map(|m| m.name.clone())
        .collect();
    let missing = if !non_key.is_empty() && g.chance(0.25) {
        vec![non_key[0].clone()]
    } else {
        Vec::new()
    };
    let deadline = (!missing.is_empty()).then(|| add_days(g.today, 10));
    let mut steps = vec![(
        JobStep::Accept {
            missing_materials: missing.clone(),
            supplement_deadline: deadline,
        },
        Role::Agent,
    )];
    if g.chance(0.05) {
        steps.push((
            JobStep::Cancel {
                reason: "群众已自行办理".into(),
            },
            Role::Agent,
        ));
        if g.chance(0.5) {
            steps.push((JobStep::Close, Role::Agent));
        }
        return steps;
    }
    let supplement =
        (!missing.is_empty()).then_some((JobStep::Supplement { materials: missing }, Role::Agent));
    let approver = if item.tier == ItemTier::District {
        Role::District
    } else {
        Role::TownStaff
    };
    if item.tier == ItemTier::Village {
        steps.extend(supplement);
        steps.push((
            JobStep::Complete {
                result: format!("{}已办结", item.name),
            },
            Role::Agent,
        ));
    } else {
        let hand_up = (
            JobStep::HandUp {
                carrier: head_name.to_string(),
            },
            Role::VillageHead,
        );
        steps.push(hand_up.clone());
        if g.chance(0.1) {
            steps.push((
                JobStep::Return {
                    reason: "材料照片不清晰，请重新采集".into(),
                },
                Role::TownStaff,
            ));
            if g.chance(0.3) {
                // Still waiting for the agent to collect the materials again.
                return steps;
            }
            steps.push(hand_up);
        }
        steps.push((JobStep::TownAccept, Role::TownStaff));
        if g.chance(0.05) {
            steps.push((
                JobStep::Reject {
                    reason: "经核查不符合申请条件".into(),
                },
                approver,
            ));
            if g.chance(0.5) {
                steps.push((JobStep::Close, Role::Agent));
            }
            return steps;
        }
        steps.extend(supplement);
        steps.push((JobStep::Approve, approver));
        steps.push((
            JobStep::Complete {
                result: format!("{}已审批通过", item.name),
            },
            approver,
        ));
        steps.push((JobStep::SignOutParcel, Role::VillageHead));
    }
    if g.chance(0.15) {
        steps.push((
            JobStep::NobodyHome {
                reschedule_to: add_days(g.today, 2),
            },
            Role::Agent,
        ));
    }
    let signer = if g.chance(0.8) { "本人" } else { "家属" };
    steps.push((
        JobStep::Deliver {
            signed_by: signer.into(),
        },
        Role::Agent,
    ));
    let rating = *g.pick(&[
        Rating::Good,
        Rating::Good,
        Rating::Good,
        Rating::Good,
        Rating::Average,
        Rating::Bad,
    ]);
    steps.push((
        JobStep::Rate {
            rating,
            comment: String::new(),
        },
        Role::Agent,
    ));
    steps.push((JobStep::Close, Role::Agent));
    steps
}

fn job(
    g: &mut Gen,
    doc: &mut HouseholdDoc,
    cast: &Cast,
    member_id: &str,
    m: &NewMember,
    visit_id: Option<&str>,
) -> Result<()> {
    let item = item_for(g, m);
    let mode = if m.tags.contains(&SpecialTag::MigrantWorker)
        && item.modes.contains(&ServiceMode::Remote)
    {
        ServiceMode::Remote
    } else {
        *g.pick(&item.modes)
    };
    let job_id = g.id();
    let event_id = g.id();
    let mut day = g.today - Duration::days(g.rng.random_range(0..120));
    let at = g.at(day);
    let input = NewJob {
        member_id: member_id.to_string(),
        item_code: item.code.clone(),
        mode,
        urgency: urgency(g),
        note: format!("已告知{}所需材料", item.name),
        visit_id: visit_id.filter(|_| g.chance(0.3)).map(str::to_string),
    };
    let ctx = as_user(doc, &cast.agent, at);
    doc.add_job(&job_id, &event_id, &input, ctx)?;
    for (step, role) in plan_steps(g, item, &cast.head.user.name) {
        day += Duration::days(g.rng.random_range(0..=3));
        if day > g.today {
            break;
        }
        let event_id = g.id();
        let at = g.at(day);
        let location = Some(g.location());
        let ctx = as_user(doc, cast.for_role(role), at);
        doc.take_step(&job_id, &event_id, &step, location, ctx)?;
    }
    Ok(())
}

/// The agent and the village head change the same phone number on their own devices, offline,
/// and the documents merge: a conflict for hub staff to reconcile.
fn concurrent_phone_edit(
    g: &mut Gen,
    doc: &mut HouseholdDoc,
    cast: &Cast,
    member_id: &str,
) -> Result<()> {
    let fork_heads = doc.heads();
    let mut other = doc.clone();
    let at = g.at(g.today);
    let first = MemberPatch {
        phone: Some(g.phone()),
        ..MemberPatch::default()
    };
    let ctx = as_user(doc, &cast.agent, at);
    doc.update_member(member_id, &first, ctx)?;
    let second = MemberPatch {
        phone: Some(g.phone()),
        ..MemberPatch::default()
    };
    let ctx = as_user(&mut other, &cast.head, at);
    other.update_member(member_id, &second, ctx)?;
    let changes = other.changes_since(&fork_heads);
    doc.apply_changes(&changes)?;
    Ok(())
}
