//! What a user may write, checked on every household a device pushes: the server applies the
//! pushed changes to a copy and calls [`check_write`] with the household before and after,
//! using the same job-step rules as the phone.

use std::collections::HashMap;

use crate::document::HouseholdData;
use crate::domain::catalogue;
use crate::domain::region::User;
use crate::domain::rules;
use crate::domain::step::JobEvent;
use crate::error::{CoreError, Result};

fn forbidden(reason: impl Into<String>) -> CoreError {
    CoreError::Forbidden {
        reason: reason.into(),
    }
}

/// Checks that `user`, who may write to the households of `villages`, made only allowed
/// changes to a household: it stays in their villages (and in its village), no member, ledger
/// line, job or visit disappears, no step of a job's history is removed or altered, and every
/// new step is theirs and one their role may take.
pub fn check_write(
    user: &User,
    villages: &[String],
    before: Option<&HouseholdData>,
    after: &HouseholdData,
) -> Result<()> {
    let village = &after.household.village_id;
    if !villages.contains(village) {
        return Err(forbidden(format!("该户属于{village}，不在您负责的范围内")));
    }
    let mut old_events: HashMap<&str, &JobEvent> = HashMap::new();
    if let Some(before) = before {
        if before.household.village_id != *village {
            return Err(forbidden("不能把户迁到另一个村，请联系镇便民服务中心办理"));
        }
        let gone = |ids: Vec<&str>, kept: Vec<&str>, what: &str| -> Result<()> {
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
        )?;
        for job in &before.jobs {
            for event in &job.job.events {
                old_events.insert(event.id.as_str(), event);
            }
        }
    }
    let mut still_there = 0;
    for job in &after.jobs {
        let item = catalogue::item(&job.job.item_code)?;
        for event in &job.job.events {
            match old_events.get(event.id.as_str()) {
                Some(old) if *old == event => still_there += 1,
                Some(_) => return Err(forbidden("不能修改办件已有的办理记录")),
                None => {
                    if event.actor.user_id != user.id || event.actor.role != user.role {
                        return Err(forbidden(format!(
                            "办理记录署名为“{}”，与登记的用户不符",
                            event.actor.user_name
                        )));
                    }
                    rules::authorize(user.role, event.step.kind(), item.tier)?;
                }
            }
        }
    }
    if still_there != old_events.len() {
        return Err(forbidden("不能删除办件的办理记录"));
    }
    Ok(())
}
