//! Households, their members and the special-group tags that bring them into the ledger.

use chrono::NaiveDate;

use super::codes::code_enum;

code_enum! {
    /// Special-group tags (特殊群体). A member may have several.
    pub enum SpecialTag {
        /// 独居老人.
        ElderlyAlone => ("elderly_alone", "独居老人"),
        /// 高龄老人 (80+).
        VeryOld => ("very_old", "高龄老人"),
        /// 残疾人.
        Disabled => ("disabled", "残疾人"),
        /// 特困供养（五保户）.
        FiveGuarantees => ("five_guarantees", "五保户"),
        /// 低保户.
        Subsistence => ("subsistence", "低保户"),
        /// 重病 / 慢病.
        SeriouslyIll => ("seriously_ill", "重病慢病"),
        /// 留守儿童.
        LeftBehindChild => ("left_behind_child", "留守儿童"),
        /// 外出务工 (served remotely by phone or video).
        MigrantWorker => ("migrant_worker", "外出务工"),
    }
}

impl SpecialTag {
    /// The tag's bit in a tag mask (query tables keep tags as one integer).
    pub fn bit(self) -> i64 {
        1 << (self as u32)
    }

    /// The mask of a set of tags.
    pub fn mask(tags: &[SpecialTag]) -> i64 {
        tags.iter().fold(0, |m, t| m | t.bit())
    }
}

code_enum! {
    /// A member's sex as recorded in the household register.
    pub enum Gender {
        /// 男.
        Male => ("male", "男"),
        /// 女.
        Female => ("female", "女"),
    }
}

code_enum! {
    /// Whether a member still lives in the household. Members are never deleted.
    pub enum MemberStatus {
        /// 在册.
        Present => ("present", "在册"),
        /// 已迁出.
        MovedOut => ("moved_out", "已迁出"),
        /// 已故.
        Deceased => ("deceased", "已故"),
    }
}

/// A household as kept in its document.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Household {
    /// Generated id.
    pub id: String,
    /// The village it belongs to.
    pub village_id: String,
    /// Village group (组), for example 三组.
    pub group_name: String,
    /// Address in Chinese.
    pub address: String,
    /// The household's contact phone, if any.
    pub phone: Option<String>,
}

/// Input for a new household.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewHousehold {
    /// The village it belongs to (required).
    pub village_id: String,
    /// Village group (组).
    pub group_name: String,
    /// Address (required).
    pub address: String,
    /// Contact phone, checked as a mobile number when given.
    pub phone: Option<String>,
}

/// A member of a household.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Member {
    /// Generated id.
    pub id: String,
    /// Chinese name.
    pub name: String,
    /// 18-character identity number, if known.
    pub id_number: Option<String>,
    /// Mobile number, if any.
    pub phone: Option<String>,
    /// Sex, if recorded.
    pub gender: Option<Gender>,
    /// Birth date (from the identity number when not given).
    pub birth_date: Option<NaiveDate>,
    /// Relation to the head of household, for example 户主, 配偶, 孙子.
    pub relation: String,
    /// Special-group tags, sorted.
    pub tags: Vec<SpecialTag>,
    /// Still in the household, moved out or deceased.
    pub status: MemberStatus,
}

/// Input for a new member.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct NewMember {
    /// Name (required).
    pub name: String,
    /// Identity number, checked with GB 11643 when given.
    pub id_number: Option<String>,
    /// Mobile number, checked when given.
    pub phone: Option<String>,
    /// Sex.
    pub gender: Option<Gender>,
    /// Birth date; taken from the identity number when absent.
    pub birth_date: Option<NaiveDate>,
    /// Relation to the head of household.
    pub relation: String,
    /// Special-group tags.
    pub tags: Vec<SpecialTag>,
}

/// A change to a member: only the fields that are `Some` are written, so two people editing
/// different fields never conflict.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MemberPatch {
    /// New name.
    pub name: Option<String>,
    /// New identity number.
    pub id_number: Option<String>,
    /// New mobile number.
    pub phone: Option<String>,
    /// New relation.
    pub relation: Option<String>,
    /// New status.
    pub status: Option<MemberStatus>,
    /// Tags to add.
    pub add_tags: Vec<SpecialTag>,
    /// Tags to remove.
    pub remove_tags: Vec<SpecialTag>,
}

/// A change to a household: only the fields that are `Some` are written.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HouseholdPatch {
    /// New village group.
    pub group_name: Option<String>,
    /// New address.
    pub address: Option<String>,
    /// New contact phone.
    pub phone: Option<String>,
}
