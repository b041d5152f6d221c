//! Who may take which job step: the one place this rule is written. The phone checks it
//! before recording a step; the server checks every incoming change with the same function.

use super::catalogue::ItemTier;
use super::region::Role;
use super::step::JobStepKind;
use crate::error::{CoreError, Result};

const VILLAGE: &[Role] = &[Role::Agent, Role::VillageHead];
const TOWN: &[Role] = &[Role::TownStaff];
const DISTRICT: &[Role] = &[Role::District];
const HUB: &[Role] = &[Role::TownStaff, Role::District];
const CANCELLERS: &[Role] = &[Role::Agent, Role::VillageHead, Role::TownStaff];
const INFORMERS: &[Role] = &[Role::Agent, Role::VillageHead, Role::TownStaff];

/// The roles that may take `step` on an item finished at `tier`, and the rule in words.
pub fn allowed_roles(step: JobStepKind, tier: ItemTier) -> (&'static [Role], &'static str) {
    use JobStepKind as S;
    match step {
        S::Inform => (
            INFORMERS,
            "告知由代办员或轮值村长办理；热线、信箱和来电反映的诉求由镇便民服务中心登记",
        ),
        S::Accept | S::Supplement | S::SignOutParcel => (
            VILLAGE,
            "受理、补齐材料和领取政务包裹由代办员或轮值村长办理",
        ),
        S::HandUp => (
            VILLAGE,
            "转办由代办员或轮值村长交由轮值村长带到镇便民服务中心",
        ),
        S::Deliver | S::NobodyHome | S::Rate | S::Close => {
            (VILLAGE, "送达、回访评价和销号由代办员或轮值村长办理")
        }
        S::TownAccept => (TOWN, "只有镇便民服务中心工作人员可以接收转办件"),
        S::Approve => match tier {
            ItemTier::District => (DISTRICT, "区级事项只能由区级工作人员批准"),
            _ => (TOWN, "只有镇便民服务中心工作人员可以批准镇级事项"),
        },
        S::Return | S::Reject => (HUB, "退回和不予办理由镇或区工作人员决定"),
        S::Complete => match tier {
            ItemTier::Village => (VILLAGE, "村级事项由代办员或轮值村长办结"),
            ItemTier::Town => (TOWN, "镇级事项只能由镇便民服务中心工作人员办结"),
            ItemTier::District => (DISTRICT, "区级事项只能由区级工作人员办结"),
        },
        S::Cancel => (CANCELLERS, "撤销由代办员、轮值村长或镇工作人员办理"),
        S::Reconcile => (HUB, "只有镇或区工作人员可以处理办件冲突"),
    }
}

/// Checks that `role` may take `step` on an item finished at `tier`.
pub fn authorize(role: Role, step: JobStepKind, tier: ItemTier) -> Result<()> {
    let (roles, rule) = allowed_roles(step, tier);
    if roles.contains(&role) {
        Ok(())
    } else {
        Err(CoreError::RoleNotAllowed {
            role: role.label().to_string(),
            step: step.label().to_string(),
            rule: rule.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_accept_and_hand_up_but_do_not_approve() {
        assert!(authorize(Role::Agent, JobStepKind::Accept, ItemTier::Town).is_ok());
        assert!(authorize(Role::Agent, JobStepKind::HandUp, ItemTier::Town).is_ok());
        assert!(authorize(Role::VillageHead, JobStepKind::HandUp, ItemTier::District).is_ok());
        let err = authorize(Role::Agent, JobStepKind::Approve, ItemTier::Town).unwrap_err();
        assert!(
            err.to_string()
                .contains("只有镇便民服务中心工作人员可以批准")
        );
        assert!(authorize(Role::VillageHead, JobStepKind::Approve, ItemTier::Town).is_err());
    }

    #[test]
    fn completion_follows_the_item_tier() {
        assert!(authorize(Role::Agent, JobStepKind::Complete, ItemTier::Village).is_ok());
        assert!(authorize(Role::Agent, JobStepKind::Complete, ItemTier::Town).is_err());
        assert!(authorize(Role::TownStaff, JobStepKind::Complete, ItemTier::Town).is_ok());
        assert!(authorize(Role::TownStaff, JobStepKind::Complete, ItemTier::District).is_err());
        assert!(authorize(Role::District, JobStepKind::Complete, ItemTier::District).is_ok());
        assert!(authorize(Role::District, JobStepKind::Approve, ItemTier::District).is_ok());
        assert!(authorize(Role::TownStaff, JobStepKind::Approve, ItemTier::District).is_err());
    }

    #[test]
    fn hub_steps_are_for_hub_staff() {
        for step in [
            JobStepKind::TownAccept,
            JobStepKind::Return,
            JobStepKind::Reconcile,
        ] {
            assert!(authorize(Role::TownStaff, step, ItemTier::Town).is_ok());
            assert!(authorize(Role::Agent, step, ItemTier::Town).is_err());
        }
        assert!(authorize(Role::TownStaff, JobStepKind::Deliver, ItemTier::Town).is_err());
        // Needs from the hotline, the mailbox and calls are registered (informed) at the hub,
        // and accepted in the village.
        assert!(authorize(Role::TownStaff, JobStepKind::Inform, ItemTier::Village).is_ok());
        assert!(authorize(Role::TownStaff, JobStepKind::Accept, ItemTier::Village).is_err());
        assert!(authorize(Role::District, JobStepKind::Inform, ItemTier::Town).is_err());
        assert!(authorize(Role::District, JobStepKind::Cancel, ItemTier::Town).is_err());
    }

    #[test]
    fn every_step_has_at_least_one_role_on_every_tier() {
        for step in JobStepKind::ALL {
            for tier in ItemTier::ALL {
                assert!(!allowed_roles(*step, *tier).0.is_empty());
            }
        }
    }
}
