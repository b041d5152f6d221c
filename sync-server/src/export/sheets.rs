//! What an export holds: five tables (户, 成员, 台账事项, 办件, 办理过程), their columns, and
//! the rows one household gives each, with identity and phone numbers masked unless the export
//! is full.

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_core::HouseholdData;
use doorstep_core::domain::catalogue::item_name;
use doorstep_core::validate::{mask_id_number, mask_phone};

/// One cell of an export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (identity numbers too: 18 digits do not fit a spreadsheet number).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A date, or empty.
    Date(Option<NaiveDate>),
    /// An instant (shown in Beijing time), or empty.
    Time(Option<DateTime<Utc>>),
}

impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}

/// A table of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sheet {
    /// One row per household.
    Households,
    /// One row per member, with special-group tags.
    Members,
    /// One row per ledger line, with its due dates.
    Ledger,
    /// One row per job.
    Jobs,
    /// One row per step of a job: when and who.
    Steps,
}

/// A column: its header and its width in spreadsheet character units (a Chinese character
/// takes two).
pub type Column = (&'static str, f64);

impl Sheet {
    /// Every table, in workbook order.
    pub const ALL: [Sheet; 5] = [
        Sheet::Households,
        Sheet::Members,
        Sheet::Ledger,
        Sheet::Jobs,
        Sheet::Steps,
    ];

    /// The table's code (in addresses and file names).
    pub fn code(self) -> &'static str {
        match self {
            Sheet::Households => "households",
            Sheet::Members => "members",
            Sheet::Ledger => "ledger",
            Sheet::Jobs => "jobs",
            Sheet::Steps => "steps",
        }
    }

    /// The table with this code.
    pub fn from_code(code: &str) -> Option<Sheet> {
        Sheet::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The table's name (the worksheet's name).
    pub fn name(self) -> &'static str {
        match self {
            Sheet::Households => "户",
            Sheet::Members => "成员",
            Sheet::Ledger => "台账事项",
            Sheet::Jobs => "办件",
            Sheet::Steps => "办理过程",
        }
    }

    /// The table's columns.
    pub fn columns(self) -> &'static [Column] {
        match self {
            Sheet::Households => &[
                ("村", 12.0),
                ("户编号", 30.0),
                ("村民小组", 12.0),
                ("地址", 30.0),
                ("户联系电话", 15.0),
                ("成员数", 8.0),
            ],
            Sheet::Members => &[
                ("村", 12.0),
                ("户编号", 30.0),
                ("地址", 30.0),
                ("姓名", 10.0),
                ("身份证号", 21.0),
                ("联系电话", 15.0),
                ("性别", 6.0),
                ("出生日期", 12.0),
                ("与户主关系", 10.0),
                ("特殊群体", 24.0),
                ("状态", 8.0),
            ],
            Sheet::Ledger => &[
                ("村", 12.0),
                ("地址", 30.0),
                ("姓名", 10.0),
                ("事项", 24.0),
                ("类型", 10.0),
                ("状态", 8.0),
                ("紧急程度", 9.0),
                ("下次到期", 12.0),
                ("上次完成或销号", 14.0),
                ("登记日期", 12.0),
                ("备注", 30.0),
            ],
            Sheet::Jobs => &[
                ("办件编号", 30.0),
                ("村", 12.0),
                ("地址", 30.0),
                ("办理对象", 10.0),
                ("身份证号", 21.0),
                ("服务事项", 22.0),
                ("办理方式", 9.0),
                ("紧急程度", 9.0),
                ("状态", 10.0),
                ("告知时间", 17.0),
                ("受理时间", 17.0),
                ("承诺办结日期", 13.0),
                ("办结时间", 17.0),
                ("按时办结", 9.0),
                ("评价", 6.0),
            ],
            Sheet::Steps => &[
                ("办件编号", 30.0),
                ("村", 12.0),
                ("办理对象", 10.0),
                ("服务事项", 22.0),
                ("步骤", 12.0),
                ("时间（手机记录）", 17.0),
                ("经办人", 10.0),
                ("角色", 12.0),
                ("说明", 40.0),
            ],
        }
    }
}

/// How numbers that identify a person are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbers {
    /// Masked (the default).
    Masked,
    /// In full (a separate permission, with a reason).
    Full,
}

impl Numbers {
    fn id(self, value: Option<&str>) -> Cell {
        let value = value.unwrap_or_default();
        match self {
            Numbers::Masked => mask_id_number(value).into(),
            Numbers::Full => value.into(),
        }
    }

    fn phone(self, value: Option<&str>) -> Cell {
        let value = value.unwrap_or_default();
        match self {
            Numbers::Masked => mask_phone(value).into(),
            Numbers::Full => value.into(),
        }
    }
}

fn yes_no(value: Option<bool>) -> Cell {
    match value {
        Some(true) => "是".into(),
        Some(false) => "否".into(),
        None => "".into(),
    }
}

/// The rows `data` gives `sheet`; `village` is the village's name.
pub fn rows(sheet: Sheet, data: &HouseholdData, village: &str, numbers: Numbers) -> Vec<Vec<Cell>> {
    let hh = &data.household;
    let member_name = |id: &str| data.member(id).map_or_else(String::new, |m| m.name.clone());
    match sheet {
        Sheet::Households => vec![vec![
            village.into(),
            hh.id.as_str().into(),
            hh.group_name.as_str().into(),
            hh.address.as_str().into(),
            numbers.phone(hh.phone.as_deref()),
            Cell::Int(data.members.len() as i64),
        ]],
        Sheet::Members => data
            .members
            .iter()
            .map(|m| {
                vec![
                    village.into(),
                    hh.id.as_str().into(),
                    hh.address.as_str().into(),
                    m.name.as_str().into(),
                    numbers.id(m.id_number.as_deref()),
                    numbers.phone(m.phone.as_deref()),
                    m.gender.map_or("", |g| g.label()).into(),
                    Cell::Date(m.birth_date),
                    m.relation.as_str().into(),
                    m.tags
                        .iter()
                        .map(|t| t.label())
                        .collect::<Vec<_>>()
                        .join("、")
                        .into(),
                    m.status.label().into(),
                ]
            })
            .collect(),
        Sheet::Ledger => data
            .ledger
            .iter()
            .map(|l| {
                let (kind, status) = match l.schedule {
                    doorstep_core::Schedule::OneOff { status, .. } => {
                        ("一次性需求", status.label())
                    }
                    doorstep_core::Schedule::EveryNDays { .. } => ("周期提醒", ""),
                    doorstep_core::Schedule::Yearly { .. } => ("每年提醒", ""),
                };
                vec![
                    village.into(),
                    hh.address.as_str().into(),
                    member_name(&l.member_id).into(),
                    l.title.as_str().into(),
                    kind.into(),
                    status.into(),
                    l.urgency.label().into(),
                    Cell::Date(l.next_due()),
                    Cell::Date(l.last_done),
                    Cell::Date(Some(l.created_on)),
                    l.note.as_str().into(),
                ]
            })
            .collect(),
        Sheet::Jobs => data
            .jobs
            .iter()
            .map(|details| {
                let (job, p) = (&details.job, &details.progress);
                let member = data.member(&job.member_id);
                vec![
                    job.id.as_str().into(),
                    village.into(),
                    hh.address.as_str().into(),
                    member_name(&job.member_id).into(),
                    numbers.id(member.and_then(|m| m.id_number.as_deref())),
                    item_name(&job.item_code).into(),
                    job.mode.label().into(),
                    job.urgency.label().into(),
                    p.state.label().into(),
                    Cell::Time(job.events.first().map(|e| e.at)),
                    Cell::Time(p.accepted_at),
                    Cell::Date(p.promised_due),
                    Cell::Time(p.completed_at),
                    yes_no(p.on_time()),
                    p.rating.map_or("", |r| r.label()).into(),
                ]
            })
            .collect(),
        Sheet::Steps => data
            .jobs
            .iter()
            .flat_map(|details| {
                let job = &details.job;
                job.events.iter().map(move |e| {
                    vec![
                        job.id.as_str().into(),
                        village.into(),
                        member_name(&job.member_id).into(),
                        item_name(&job.item_code).into(),
                        e.step.kind().label().into(),
                        Cell::Time(Some(e.at)),
                        e.actor.user_name.as_str().into(),
                        e.actor.role.label().into(),
                        e.step.detail().into(),
                    ]
                })
            })
            .collect(),
    }
}
