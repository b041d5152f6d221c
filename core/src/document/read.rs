//! Reading a whole household document into domain records, checking its schema on the way.

use automerge::hydrate::Value;
use automerge::{ObjType, ROOT};

use super::fields::Fields;
use super::jobs::{read_job, read_location};
use super::{HouseholdDoc, SCHEMA_VERSION};
use crate::domain::household::{Gender, Household, Member, MemberStatus, SpecialTag};
use crate::domain::job::JobDetails;
use crate::domain::ledger::{LedgerLine, NeedStatus, Schedule, Urgency};
use crate::domain::region::Role;
use crate::domain::visit::{Visit, VisitOutcome};
use crate::error::{CoreError, Result, invalid_doc};

/// Everything a household document holds, read into domain records (entities in id order).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HouseholdData {
    /// The household.
    pub household: Household,
    /// Its members.
    pub members: Vec<Member>,
    /// Its ledger lines.
    pub ledger: Vec<LedgerLine>,
    /// Its jobs, with derived progress.
    pub jobs: Vec<JobDetails>,
    /// Its visits.
    pub visits: Vec<Visit>,
    /// Who writes with each device that wrote to it (automerge actor → user).
    pub authors: Vec<DeviceAuthor>,
}

/// The user who writes with one device's automerge actor, as the document records it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct DeviceAuthor {
    /// The device's automerge actor id (hex).
    pub actor: String,
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The user's role.
    pub role: Role,
}

impl HouseholdData {
    /// The member with `id`, if present.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

fn to_u32(value: Option<i64>, key: &str) -> Result<u32> {
    value
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| invalid_doc(format!("字段 {key} 缺失或超出范围")))
}

/// Reads every entity of a root collection with `read`, in id order (`label` names one
/// entity in messages).
fn collection<T>(
    root: Fields<'_>,
    name: &str,
    label: &str,
    read: impl Fn(&str, Fields<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    root.req_map(name)?
        .entries()
        .into_iter()
        .map(|(id, value)| read(id, Fields::of(value, &format!("{label}（{id}）"))?))
        .collect()
}

impl HouseholdDoc {
    /// The whole document as a tree of values, nesting bounded by the documented shape.
    pub(super) fn hydrate(&self) -> Result<Value> {
        super::tree::read(&self.doc, &ROOT, ObjType::Map, 0, "文档")
    }

    /// The household's id, from the document.
    pub fn household_id(&self) -> Result<String> {
        let hh = super::fields::req_map(&self.doc, &ROOT, "household")?;
        super::fields::live_str(&self.doc, &hh, "id")?.ok_or_else(|| invalid_doc("缺少户编号"))
    }

    /// Reads the whole document. Fails if the schema is newer than this build or the content
    /// does not follow it.
    pub fn read(&self) -> Result<HouseholdData> {
        let value = self.hydrate()?;
        read_data(Fields::of(&value, "文档")?)
    }
}

/// Keys of the document's root.
const ROOT_KEYS: &[&str] = &[
    "schema",
    "household",
    "members",
    "ledger",
    "jobs",
    "visits",
    "authors",
];

/// Reads hydrated household data.
pub(super) fn read_data(root: Fields<'_>) -> Result<HouseholdData> {
    let schema = root.opt_int("schema")?.unwrap_or(0);
    if schema > SCHEMA_VERSION {
        return Err(CoreError::SchemaTooNew {
            found: schema,
            supported: SCHEMA_VERSION,
        });
    }
    if schema < 1 {
        return Err(invalid_doc("缺少格式版本"));
    }
    root.only(ROOT_KEYS, "文档根")?;
    let hh = root.req_map("household")?;
    hh.only(
        &["id", "village_id", "group_name", "address", "phone"],
        "户信息",
    )?;
    let household = Household {
        id: hh.req_str("id")?,
        village_id: hh.req_str("village_id")?,
        group_name: hh.str_or_empty("group_name")?,
        address: hh.str_or_empty("address")?,
        phone: hh.opt_str("phone")?,
    };
    Ok(HouseholdData {
        household,
        members: collection(root, "members", "成员", read_member)?,
        ledger: collection(root, "ledger", "台账事项", read_ledger_line)?,
        jobs: collection(root, "jobs", "办件", read_job)?,
        visits: collection(root, "visits", "走访记录", read_visit)?,
        authors: collection(root, "authors", "作者记录", read_author)?,
    })
}

fn read_author(actor: &str, a: Fields<'_>) -> Result<DeviceAuthor> {
    a.only(&["user_id", "user_name", "role"], "作者记录")?;
    Ok(DeviceAuthor {
        actor: actor.to_string(),
        user_id: a.req_str("user_id")?,
        user_name: a.req_str("user_name")?,
        role: a.req_code("role", Role::from_code)?,
    })
}

fn read_member(id: &str, m: Fields<'_>) -> Result<Member> {
    m.only(
        &[
            "name",
            "id_number",
            "phone",
            "gender",
            "birth_date",
            "relation",
            "status",
            "tags",
        ],
        "成员",
    )?;
    let mut tags: Vec<SpecialTag> = Vec::new();
    if let Some(t) = m.map("tags")? {
        for (code, value) in t.entries() {
            if !matches!(value, Value::Scalar(automerge::ScalarValue::Boolean(_))) {
                return Err(invalid_doc(format!("特殊群体标签 {code} 应为是/否")));
            }
            // Tags from a newer build that this one does not know are left out.
            tags.extend(SpecialTag::from_code(code));
        }
    }
    tags.sort();
    Ok(Member {
        id: id.to_string(),
        name: m.req_str("name")?,
        id_number: m.opt_str("id_number")?,
        phone: m.opt_str("phone")?,
        gender: m.opt_code("gender", Gender::from_code)?,
        birth_date: m.opt_date("birth_date")?,
        relation: m.str_or_empty("relation")?,
        tags,
        status: m
            .opt_code("status", MemberStatus::from_code)?
            .unwrap_or(MemberStatus::Present),
    })
}

fn read_ledger_line(id: &str, l: Fields<'_>) -> Result<LedgerLine> {
    l.only(
        &[
            "member_id",
            "title",
            "kind",
            "status",
            "due",
            "days",
            "first_due",
            "month",
            "day",
            "urgency",
            "note",
            "created_on",
            "last_done",
            "visit_id",
        ],
        "台账事项",
    )?;
    let kind = l.req_str("kind")?;
    let schedule = match kind.as_str() {
        "one_off" => Schedule::OneOff {
            status: l.req_code("status", NeedStatus::from_code)?,
            due: l.opt_date("due")?,
        },
        "every_n_days" => Schedule::EveryNDays {
            days: to_u32(l.opt_int("days")?, "days")?.max(1),
            first_due: l
                .opt_date("first_due")?
                .ok_or_else(|| invalid_doc("缺少 first_due"))?,
        },
        "yearly" => Schedule::Yearly {
            month: to_u32(l.opt_int("month")?, "month")?,
            day: to_u32(l.opt_int("day")?, "day")?,
        },
        other => return Err(invalid_doc(format!("未知的台账类型 {other}"))),
    };
    Ok(LedgerLine {
        id: id.to_string(),
        member_id: l.req_str("member_id")?,
        title: l.req_str("title")?,
        schedule,
        urgency: l.req_code("urgency", Urgency::from_code)?,
        note: l.str_or_empty("note")?,
        last_done: l.opt_date("last_done")?,
        created_on: l
            .opt_date("created_on")?
            .ok_or_else(|| invalid_doc("缺少 created_on"))?,
        visit_id: l.opt_str("visit_id")?,
    })
}

fn read_visit(id: &str, v: Fields<'_>) -> Result<Visit> {
    v.only(
        &[
            "planned_for",
            "purpose",
            "done_at",
            "outcome",
            "notes",
            "visitor",
            "lat",
            "lon",
        ],
        "走访记录",
    )?;
    Ok(Visit {
        id: id.to_string(),
        planned_for: v.opt_date("planned_for")?,
        purpose: v.str_or_empty("purpose")?,
        done_at: v.opt_time("done_at")?,
        outcome: v.opt_code("outcome", VisitOutcome::from_code)?,
        notes: v.str_or_empty("notes")?,
        visitor: v.opt_str("visitor")?,
        location: read_location(v)?,
    })
}
