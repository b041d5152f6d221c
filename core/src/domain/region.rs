//! Region tiers, roles and users.

use serde::{Deserialize, Serialize};

use super::codes::code_enum;

code_enum! {
    /// The administrative tiers, from the district down to a village group.
    pub enum RegionTier {
        /// 区（县）.
        District => ("district", "区"),
        /// 镇 / 街道.
        Town => ("town", "镇（街道）"),
        /// 村 / 社区.
        Village => ("village", "村（社区）"),
        /// 村民小组.
        Group => ("group", "组"),
    }
}

code_enum! {
    /// What a user does, which decides the job steps they may take.
    pub enum Role {
        /// 代办员 / 网格员: walks the village, accepts jobs, delivers results.
        Agent => ("agent", "代办员"),
        /// 轮值村长: like an agent, and carries jobs up to the town.
        VillageHead => ("village_head", "轮值村长"),
        /// 镇便民服务中心工作人员: accepts, approves and completes town-tier jobs.
        TownStaff => ("town_staff", "镇便民服务中心工作人员"),
        /// 区级统筹: approves and completes district-tier jobs, reads figures.
        District => ("district", "区级工作人员"),
    }
}

impl Role {
    /// Whether this role works in a village (agent or village head).
    pub fn is_village(self) -> bool {
        matches!(self, Role::Agent | Role::VillageHead)
    }
}

/// A place in the region tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Region {
    /// Stable id, for example `linwei.sanzhang.dongcun`.
    pub id: String,
    /// Chinese name, for example 东村.
    pub name: String,
    /// Its tier.
    pub tier: RegionTier,
    /// The region it belongs to (`None` only for a district).
    pub parent_id: Option<String>,
}

/// A person using the software, with their role and the regions they work in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct User {
    /// Stable user id.
    pub id: String,
    /// Chinese name, shown on every step they take.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Ids of the regions they may read (villages for agents, a town for hub staff, ...).
    pub region_ids: Vec<String>,
}
