//! Concurrent values of one field. Automerge keeps every value written concurrently and picks
//! one deterministically; here they are all listed, with who wrote each, and one can be chosen
//! (the choice is itself a change that syncs).

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use super::fields::{self, Fields, req_map};
use super::read::{HouseholdData, read_data};
use super::{EditContext, HouseholdDoc};
use crate::domain::catalogue::ServiceMode;
use crate::domain::codes::code_enum;
use crate::domain::household::{Gender, MemberStatus, SpecialTag};
use crate::domain::ledger::{NeedStatus, Urgency};
use crate::domain::region::Role;
use crate::domain::visit::VisitOutcome;
use crate::error::{CoreError, Result, invalid_doc};

code_enum! {
    /// The kind of record a conflicting field belongs to.
    pub enum EntityKind {
        /// The household itself.
        Household => ("household", "户"),
        /// A member.
        Member => ("member", "成员"),
        /// A ledger line.
        LedgerLine => ("ledger", "台账事项"),
        /// A job.
        Job => ("job", "办件"),
        /// A visit.
        Visit => ("visit", "走访"),
    }
}

impl EntityKind {
    /// The root collection holding this kind (`None` for the household map itself).
    fn collection(self) -> Option<&'static str> {
        match self {
            EntityKind::Household => None,
            EntityKind::Member => Some("members"),
            EntityKind::LedgerLine => Some("ledger"),
            EntityKind::Job => Some("jobs"),
            EntityKind::Visit => Some("visits"),
        }
    }
}

/// Prefix of a member's tag fields (`tags.disabled`).
const TAG_PREFIX: &str = "tags.";

/// One of the concurrent values of a field.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ConflictValue {
    /// Identifies this value for [`HouseholdDoc::resolve_conflict`].
    pub value_id: String,
    /// The value as text (empty text for a cleared field).
    pub value: String,
    /// Who wrote it: user id, if the author is known.
    pub author_id: Option<String>,
    /// Who wrote it: name, if the author is known.
    pub author_name: Option<String>,
    /// Who wrote it: role, if the author is known.
    pub author_role: Option<Role>,
    /// Whether this is the value currently shown (automerge's deterministic pick).
    pub current: bool,
}

/// A field with more than one concurrent value.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FieldConflict {
    /// The kind of record.
    pub entity: EntityKind,
    /// The record's id.
    pub entity_id: String,
    /// The field's stored name (`phone`, `tags.disabled`, ...).
    pub field: String,
    /// The field's name for people (电话, 特殊群体标签“残疾人”, ...).
    pub field_label: String,
    /// The values, each with its author.
    pub values: Vec<ConflictValue>,
}

/// Chinese names of the stored fields that can conflict.
const FIELD_LABELS: &[(&str, &str)] = &[
    ("name", "姓名"),
    ("phone", "电话"),
    ("address", "地址"),
    ("group_name", "所在组"),
    ("village_id", "所在村"),
    ("id_number", "身份证号"),
    ("birth_date", "出生日期"),
    ("gender", "性别"),
    ("relation", "与户主关系"),
    ("status", "状态"),
    ("title", "名称"),
    ("kind", "类型"),
    ("urgency", "紧急程度"),
    ("note", "备注"),
    ("notes", "走访情况"),
    ("purpose", "走访事由"),
    ("outcome", "走访结果"),
    ("visitor", "走访人"),
    ("planned_for", "计划日期"),
    ("done_at", "走访时间"),
    ("last_done", "上次完成"),
    ("due", "期限"),
    ("first_due", "首次到期"),
    ("days", "间隔天数"),
    ("month", "月"),
    ("day", "日"),
    ("mode", "办理方式"),
    ("item_code", "事项"),
    ("member_id", "成员"),
    ("visit_id", "关联走访"),
];

/// A stored field's name for people: `phone` → 电话, `tags.disabled` → 特殊群体标签“残疾人”;
/// an unknown field keeps its stored name.
fn field_label(field: &str) -> String {
    if let Some(code) = field.strip_prefix(TAG_PREFIX) {
        let tag = SpecialTag::from_code(code).map_or(code, |tag| tag.label());
        return format!("特殊群体标签“{tag}”");
    }
    FIELD_LABELS
        .iter()
        .find(|(name, _)| *name == field)
        .map_or_else(|| field.to_string(), |(_, label)| label.to_string())
}

/// A stored value as people read it: a code of a closed set by its label (在册, 紧急, ...), a
/// boolean as 是/否, a cleared field as empty text.
fn display(key: &str, value: &ScalarValue) -> String {
    match value {
        ScalarValue::Str(s) => code_label(key, s).map_or_else(|| s.to_string(), str::to_string),
        ScalarValue::Null => String::new(),
        ScalarValue::Boolean(b) => if *b { "是" } else { "否" }.to_string(),
        other => other.to_string(),
    }
}

/// The label of `code` when the field `key` holds one of the closed sets of codes.
fn code_label(key: &str, code: &str) -> Option<&'static str> {
    match key {
        "status" => MemberStatus::from_code(code)
            .map(MemberStatus::label)
            .or_else(|| NeedStatus::from_code(code).map(NeedStatus::label)),
        "urgency" => Urgency::from_code(code).map(Urgency::label),
        "outcome" => VisitOutcome::from_code(code).map(VisitOutcome::label),
        "mode" => ServiceMode::from_code(code).map(ServiceMode::label),
        "gender" => Gender::from_code(code).map(Gender::label),
        _ => None,
    }
}

impl HouseholdDoc {
    /// Every field that currently holds concurrent, differing values, in document order.
    pub fn conflicts(&self) -> Result<Vec<FieldConflict>> {
        let value = self.hydrate()?;
        self.conflicts_in(Fields::of(&value, "文档")?)
    }

    /// Reads the document and its conflicts from one hydrated copy.
    pub fn read_with_conflicts(&self) -> Result<(HouseholdData, Vec<FieldConflict>)> {
        let value = self.hydrate()?;
        let root = Fields::of(&value, "文档")?;
        Ok((read_data(root)?, self.conflicts_in(root)?))
    }

    /// Finds the conflicted fields in a hydrated copy; only those are looked up in detail.
    fn conflicts_in(&self, root: Fields<'_>) -> Result<Vec<FieldConflict>> {
        let mut flagged: Vec<(EntityKind, String, String)> = Vec::new();
        let hh = root.req_map("household")?;
        let hh_id = hh.req_str("id")?;
        for key in hh.conflicted_keys() {
            flagged.push((EntityKind::Household, hh_id.clone(), key.to_string()));
        }
        for kind in [
            EntityKind::Member,
            EntityKind::LedgerLine,
            EntityKind::Job,
            EntityKind::Visit,
        ] {
            let collection = kind.collection().unwrap_or_default();
            for (id, value) in root.req_map(collection)?.entries() {
                let entity = Fields::of(value, collection)?;
                for key in entity.conflicted_keys() {
                    flagged.push((kind, id.to_string(), key.to_string()));
                }
                if let (EntityKind::Member, Some(tags)) = (kind, entity.map("tags")?) {
                    for key in tags.conflicted_keys() {
                        flagged.push((kind, id.to_string(), format!("{TAG_PREFIX}{key}")));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (entity, entity_id, field) in flagged {
            let (obj, key) = self.field_location(entity, &entity_id, &field)?;
            let values = self.values(&obj, &key)?;
            let first = values.first().map(|v| &v.value);
            if values.iter().all(|v| Some(&v.value) == first) {
                continue;
            }
            out.push(FieldConflict {
                entity,
                entity_id,
                field_label: field_label(&field),
                field,
                values,
            });
        }
        Ok(out)
    }

    /// The concurrent scalar values of `obj[key]`, with their authors.
    fn values(&self, obj: &ObjId, key: &str) -> Result<Vec<ConflictValue>> {
        let d = &self.doc;
        let current = d.get(obj, key)?.map(|(_, id)| id);
        let authors = req_map(d, &ROOT, "authors")?;
        let mut out = Vec::new();
        for (value, id) in d.get_all(obj, key)? {
            let Value::Scalar(v) = value else { continue };
            let author = match &id {
                automerge::ObjId::Id(_, actor, _) => {
                    fields::child(d, &authors, &actor.to_hex_string(), ObjType::Map)?
                }
                automerge::ObjId::Root => None,
            };
            let read = |k: &str| -> Result<Option<String>> {
                Ok(match &author {
                    Some(a) => fields::live_str(d, a, k)?,
                    None => None,
                })
            };
            out.push(ConflictValue {
                value_id: id.to_string(),
                value: display(key, &v),
                author_id: read("user_id")?,
                author_name: read("user_name")?,
                author_role: read("role")?.and_then(|r| Role::from_code(&r)),
                current: current.as_ref() == Some(&id),
            });
        }
        Ok(out)
    }

    /// Settles a conflict by writing the chosen value again, after every concurrent value. The
    /// write is a real one, so that an edit made elsewhere at the same time conflicts with the
    /// choice instead of silently replacing it: automerge turns a put of the value currently
    /// shown into deletes of the others, so the field is first cleared, then written, in the
    /// same change.
    pub fn resolve_conflict(
        &mut self,
        entity: EntityKind,
        entity_id: &str,
        field: &str,
        value_id: &str,
        ctx: EditContext<'_>,
    ) -> Result<()> {
        let (obj, key) = self.field_location(entity, entity_id, field)?;
        let values = self.doc.get_all(&obj, key.as_str())?;
        if values.len() < 2 {
            return Err(CoreError::ConflictGone);
        }
        let chosen = values
            .into_iter()
            .find(|(_, id)| id.to_string() == value_id)
            .and_then(|(value, _)| value.into_scalar().ok())
            .ok_or(CoreError::ConflictGone)?;
        self.change(ctx, |this| {
            this.doc.put(&obj, key.as_str(), ScalarValue::Null)?;
            this.doc.put(&obj, key.as_str(), chosen)?;
            Ok(())
        })
    }

    /// The map and key that hold `field` of an entity.
    fn field_location(
        &self,
        entity: EntityKind,
        entity_id: &str,
        field: &str,
    ) -> Result<(ObjId, String)> {
        let d: &AutoCommit = &self.doc;
        let obj = match entity.collection() {
            None => req_map(d, &ROOT, "household")?,
            Some(coll) => self.entity(coll, entity_id, entity.label())?,
        };
        match field.strip_prefix(TAG_PREFIX) {
            Some(tag) if entity == EntityKind::Member => {
                Ok((req_map(d, &obj, "tags")?, tag.to_string()))
            }
            Some(_) => Err(invalid_doc(format!("{} 没有标签字段", entity.label()))),
            None => Ok((obj, field.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ScalarValue, display, field_label};

    #[test]
    fn values_are_shown_for_people() {
        let text = |s: &str| ScalarValue::Str(s.into());
        assert_eq!(display("status", &text("moved_out")), "已迁出");
        assert_eq!(display("status", &text("in_progress")), "办理中");
        assert_eq!(display("urgency", &text("red")), "紧急");
        assert_eq!(display("outcome", &text("nobody_home")), "无人在家");
        assert_eq!(display("phone", &text("13900000001")), "13900000001");
        assert_eq!(display("status", &text("unheard_of")), "unheard_of");
        assert_eq!(display("disabled", &ScalarValue::Boolean(true)), "是");
        assert_eq!(display("phone", &ScalarValue::Null), "");
    }

    #[test]
    fn fields_are_named_for_people() {
        assert_eq!(field_label("phone"), "电话");
        assert_eq!(field_label("tags.disabled"), "特殊群体标签“残疾人”");
        assert_eq!(field_label("tags.unknown"), "特殊群体标签“unknown”");
        assert_eq!(field_label("something_new"), "something_new");
    }
}
