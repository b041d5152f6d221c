//! Reading a whole household document into domain records, checking its schema on the way.

use automerge::ROOT;
use automerge::ReadDoc;
use automerge::hydrate::Value;

use super::fields::Fields;
use super::jobs::{read_job, read_location};
use super::{HouseholdDoc, SCHEMA_VERSION};
use crate::domain::household::{Gender, Household, Member, MemberStatus, SpecialTag};
use crate::domain::job::JobDetails;
use crate::domain::ledger::{LedgerLine, NeedStatus, Schedule, Urgency};
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

/// Reads every entity of a root collection with `read`, in id order.
fn collection<T>(
    root: Fields<'_>,
    name: &str,
    read: impl Fn(&str, Fields<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    root.req_map(name)?
        .entries()
        .into_iter()
        .map(|(id, value)| read(id, Fields::of(value, name)?))
        .collect()
}

impl HouseholdDoc {
    /// The whole document, hydrated in one pass.
    pub(super) fn hydrate(&self) -> Result<Value> {
        Ok(self.doc.hydrate(ROOT, None)?)
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
    let hh = root.req_map("household")?;
    let household = Household {
        id: hh.req_str("id")?,
        village_id: hh.req_str("village_id")?,
        group_name: hh.str_or_empty("group_name")?,
        address: hh.str_or_empty("address")?,
        phone: hh.opt_str("phone")?,
    };
    Ok(HouseholdData {
        household,
        members: collection(root, "members", read_member)?,
        ledger: collection(root, "ledger", read_ledger_line)?,
        jobs: collection(root, "jobs", read_job)?,
        visits: collection(root, "visits", read_visit)?,
    })
}

fn read_member(id: &str, m: Fields<'_>) -> Result<Member> {
    let mut tags: Vec<SpecialTag> = match m.map("tags")? {
        // Tags from a newer build that this one does not know are left out.
        Some(t) => t
            .entries()
            .into_iter()
            .filter_map(|(k, _)| SpecialTag::from_code(k))
            .collect(),
        None => Vec::new(),
    };
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
