//! What a user may write, checked on every household a device pushes (and every edit hub staff
//! make on the server): the server applies the changes to its copy and calls [`check_write`]
//! with the household before and after, using the same job-step rules as the phone.

use std::collections::{HashMap, HashSet};

use crate::document::HouseholdData;
use crate::domain::catalogue;
use crate::domain::job::JobDetails;
use crate::domain::region::{Role, User};
use crate::domain::rules;
use crate::domain::step::JobEvent;
use crate::error::{CoreError, Result};
use crate::ids::is_id;

fn forbidden(reason: impl Into<String>) -> CoreError {
    CoreError::Forbidden {
        reason: reason.into(),
    }
}

/// Longest reason accepted for a full export.
pub const EXPORT_REASON_MAX_CHARS: usize = 200;

/// Checks a request to export identity and phone numbers in full (the default export masks
/// them): only town and district staff who were granted the permission, each time with a
/// reason (at most [`EXPORT_REASON_MAX_CHARS`] characters), which is returned trimmed for the
/// audit log.
pub fn check_full_export(user: &User, granted: bool, reason: &str) -> Result<String> {
    if !matches!(user.role, Role::TownStaff | Role::District) {
        return Err(forbidden(format!(
            "{}不能导出完整身份证号和电话",
            user.role.label()
        )));
    }
    if !granted {
        return Err(forbidden(
            "未获得完整导出权限，请联系系统管理员开通；也可导出脱敏的台账",
        ));
    }
    let reason = crate::validate::required(reason, "完整导出的理由")?;
    if reason.chars().count() > EXPORT_REASON_MAX_CHARS {
        return Err(CoreError::InvalidValue {
            field: "完整导出的理由".into(),
            reason: format!("不超过{EXPORT_REASON_MAX_CHARS}个字"),
        });
    }
    Ok(reason)
}

/// Why a household outside the writer's villages is refused: the same whether it exists or
/// not, and without naming its village.
pub fn out_of_scope() -> CoreError {
    forbidden("该户不在您负责的村，不能修改；如需办理请联系镇便民服务中心")
}

/// Who is writing: the user, the automerge actors (hex) of the changes they write, and the
/// villages they may write to.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// The signed-in user.
    pub user: &'a User,
    /// The actors of the new changes (all of the writer's own device or console).
    pub actors: &'a [String],
    /// The villages the user may write to.
    pub villages: &'a [String],
}

/// For each job, which events (in list order) the writer had not seen when writing the new
/// events placed before them (steps taken meanwhile elsewhere); see
/// `HouseholdDoc::events_unseen_by`.
pub type UnseenEvents = HashMap<String, Vec<bool>>;

/// Checks that `writer` made only allowed changes to a household:
///
/// - it stays in their villages, and in its own village;
/// - every id in it (household, member, ledger line, job, event, visit) has the generated
///   shape;
/// - no member, ledger line, job or visit disappears;
/// - a job keeps its item and its member;
/// - a job's events are never altered, removed or reordered, and each new event is added
///   after every event its writer had seen when writing it (`unseen` says which they had not);
/// - every new event is signed by the writer (id, name and role) and is a step their role may
///   take on that item;
/// - the writer's actors record only the writer as their author, and no other author record
///   changes.
pub fn check_write(
    writer: &Writer<'_>,
    before: Option<&HouseholdData>,
    after: &HouseholdData,
    unseen: &UnseenEvents,
) -> Result<()> {
    if !writer.villages.contains(&after.household.village_id) {
        return Err(out_of_scope());
    }
    ids_well_formed(after)?;
    if let Some(before) = before {
        if before.household.village_id != after.household.village_id {
            return Err(forbidden("不能把户迁到另一个村，请联系镇便民服务中心办理"));
        }
        nothing_removed(before, after)?;
    }
    authors_kept(writer, before, after)?;
    for job in &after.jobs {
        let old = before.and_then(|b| b.jobs.iter().find(|j| j.job.id == job.job.id));
        let unseen = unseen.get(&job.job.id).map(Vec::as_slice).unwrap_or(&[]);
        job_history_kept(writer, old, job, unseen)?;
    }
    Ok(())
}

/// Every id of the household has the generated shape ([`is_id`]): ids are shown in the console
/// and printed in exports and the audit log, so none may carry markup or a line break.
fn ids_well_formed(after: &HouseholdData) -> Result<()> {
    let jobs = after.jobs.iter().map(|j| &j.job);
    let ids = std::iter::once(&after.household.id)
        .chain(after.members.iter().map(|m| &m.id))
        .chain(after.ledger.iter().map(|l| &l.id))
        .chain(jobs.clone().map(|j| &j.id))
        .chain(jobs.flat_map(|j| j.events.iter().map(|e| &e.id)))
        .chain(after.visits.iter().map(|v| &v.id));
    match ids.into_iter().find(|id| !is_id(id)) {
        Some(_) => Err(forbidden(
            "记录编号格式不对（应为16位小写字母和数字），已拒收",
        )),
        None => Ok(()),
    }
}

/// No member, ledger line, job or visit of `before` is missing from `after`.
fn nothing_removed(before: &HouseholdData, after: &HouseholdData) -> Result<()> {
    let gone = |ids: Vec<&str>, kept: HashSet<&str>, what: &str| -> Result<()> {
        match ids.into_iter().find(|id| !kept.contains(id)) {
            Some(id) => Err(forbidden(format!("不能删除{what}（{id}）"))),
            None => Ok(()),
        }
    };
    gone(
        before.members.iter().map(|m| m.id.as_str()).collect(),
        after.members.iter().map(|m| m.id.as_str()).collect(),
        "成员",
    )?;
    gone(
        before.ledger.iter().map(|l| l.id.as_str()).collect(),
        after.ledger.iter().map(|l| l.id.as_str()).collect(),
        "台账事项",
    )?;
    gone(
        before.jobs.iter().map(|j| j.job.id.as_str()).collect(),
        after.jobs.iter().map(|j| j.job.id.as_str()).collect(),
        "办件",
    )?;
    gone(
        before.visits.iter().map(|v| v.id.as_str()).collect(),
        after.visits.iter().map(|v| v.id.as_str()).collect(),
        "走访记录",
    )
}

/// Author records: other devices' unchanged, the writer's own naming the writer.
fn authors_kept(
    writer: &Writer<'_>,
    before: Option<&HouseholdData>,
    after: &HouseholdData,
) -> Result<()> {
    let tampered = || forbidden("不能修改档案中其他设备的作者记录");
    let old = before.map_or(&[][..], |b| b.authors.as_slice());
    let own = |actor: &str| writer.actors.iter().any(|a| a == actor);
    for author in old {
        if !own(&author.actor) && !after.authors.contains(author) {
            return Err(tampered());
        }
    }
    for author in &after.authors {
        if own(&author.actor) {
            let user = writer.user;
            if author.user_id != user.id
                || author.user_name != user.name
                || author.role != user.role
            {
                return Err(forbidden("本机的作者记录与登记的用户不符"));
            }
        } else if !old.contains(author) {
            return Err(tampered());
        }
    }
    Ok(())
}

/// One job's history: `old` (the job before, if it existed) kept as it was and in order, new
/// events signed by the writer, allowed for their role, and placed after what they had seen.
fn job_history_kept(
    writer: &Writer<'_>,
    old: Option<&JobDetails>,
    job: &JobDetails,
    unseen: &[bool],
) -> Result<()> {
    let item = catalogue::item(&job.job.item_code)?;
    if let Some(old) = old
        && (old.job.item_code != job.job.item_code || old.job.member_id != job.job.member_id)
    {
        return Err(forbidden("办件开办后不能更改事项或办理对象"));
    }
    let mut ids = HashSet::new();
    if let Some(dup) = job.job.events.iter().find(|e| !ids.insert(e.id.as_str())) {
        return Err(forbidden(format!("办理记录编号重复（{}）", dup.id)));
    }
    let old_events: &[JobEvent] = old.map_or(&[], |o| o.job.events.as_slice());
    if old_events.iter().any(|e| !ids.contains(e.id.as_str())) {
        return Err(forbidden("不能删除办件的办理记录"));
    }
    let old_ids: HashSet<&str> = old_events.iter().map(|e| e.id.as_str()).collect();
    let mut kept = 0;
    let mut first_new: Option<usize> = None;
    for (index, event) in job.job.events.iter().enumerate() {
        if old_ids.contains(event.id.as_str()) {
            if old_events.get(kept) != Some(event) {
                return Err(forbidden("不能修改或调换办件已有的办理记录"));
            }
            kept += 1;
            let seen = !unseen.get(index).copied().unwrap_or(false);
            if first_new.is_some() && seen {
                return Err(forbidden(
                    "新的办理记录只能接在已有记录之后，不能插在办理记录中间",
                ));
            }
            continue;
        }
        first_new.get_or_insert(index);
        let actor = &event.actor;
        if actor.user_id != writer.user.id
            || actor.user_name != writer.user.name
            || actor.role != writer.user.role
        {
            return Err(forbidden(format!(
                "办理记录署名为“{}”，与登记的用户不符",
                actor.user_name
            )));
        }
        rules::authorize(writer.user.role, event.step.kind(), item.tier)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: "u".into(),
            name: "王芳".into(),
            role,
            region_ids: vec!["sanzhang".into()],
        }
    }

    #[test]
    fn a_full_export_needs_staff_a_grant_and_a_reason() {
        let staff = user(Role::TownStaff);
        assert_eq!(
            check_full_export(&staff, true, "  区民政局核对名单 ").unwrap(),
            "区民政局核对名单"
        );
        assert!(check_full_export(&staff, false, "核对").is_err());
        assert!(check_full_export(&staff, true, "   ").is_err());
        assert!(check_full_export(&staff, true, &"长".repeat(201)).is_err());
        assert!(check_full_export(&user(Role::Agent), true, "核对").is_err());
        assert!(check_full_export(&user(Role::District), true, "核对").is_ok());
    }
}
