//! The form of each job step as a shell shows it: its fields, their Chinese labels, which must
//! be filled, and the choices (the materials that may be missing at acceptance, or are still
//! missing); and how a filled-in form becomes the step, checked with the reason in Chinese.
//! Written once here: the shells render these and list no field, label or rule of their own,
//! and the step's own checks ([`JobStep::check_fields`]) name the same labels.

use chrono::NaiveDate;

use super::catalogue::ServiceItem;
use super::codes::code_enum;
use super::progress::JobProgress;
use super::step::{JobStep, JobStepKind, Rating};
use crate::error::{CoreError, Result, missing};

code_enum! {
    /// What a field of a step's form asks for.
    pub enum StepFieldKind {
        /// A line of text.
        Text => ("text", "文字"),
        /// Materials to tick, from the field's choices.
        Materials => ("materials", "材料"),
        /// A date.
        Date => ("date", "日期"),
        /// The resident's rating (好评, 中评, 差评).
        Rating => ("rating", "评价"),
    }
}

/// One field of a step's form.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StepField {
    /// What it asks for.
    pub kind: StepFieldKind,
    /// Its label.
    pub label: String,
    /// Whether the step cannot be taken without it.
    pub required: bool,
    /// For materials, the ones that may be ticked; empty otherwise.
    pub choices: Vec<String>,
}

/// The form of one step of one job.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StepForm {
    /// The step.
    pub step: JobStepKind,
    /// Its title (the step's label).
    pub title: String,
    /// Its fields, in the order shown.
    pub fields: Vec<StepField>,
    /// Whether a phone takes this step (the hub's reconcile is taken in the console only).
    pub on_phone: bool,
}

/// What was filled in on a step's form; the parts the step does not use are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct StepInput {
    /// The text field.
    pub text: String,
    /// The materials ticked.
    pub materials: Vec<String>,
    /// The date field.
    pub date: Option<NaiveDate>,
    /// The rating chosen.
    pub rating: Option<Rating>,
}

impl JobStepKind {
    /// The label of the step's text field, if it has one.
    pub fn text_label(self) -> Option<&'static str> {
        Some(match self {
            JobStepKind::Inform => "告知内容",
            JobStepKind::HandUp => "带件的轮值村长",
            JobStepKind::Return => "退回原因",
            JobStepKind::Reject => "不予办理的原因",
            JobStepKind::Complete => "办理结果",
            JobStepKind::Deliver => "签收人",
            JobStepKind::Rate => "群众意见",
            JobStepKind::Cancel => "撤销原因",
            JobStepKind::Reconcile => "协调说明",
            _ => return None,
        })
    }

    /// The label of the step's date field, if it has one.
    pub fn date_label(self) -> Option<&'static str> {
        match self {
            JobStepKind::Accept => Some("容缺材料补齐期限"),
            JobStepKind::NobodyHome => Some("改约上门日期"),
            _ => None,
        }
    }

    /// The label of the step's materials field, if it has one.
    pub fn materials_label(self) -> Option<&'static str> {
        match self {
            JobStepKind::Accept => Some("暂缺的非要件材料（容缺受理）"),
            JobStepKind::Supplement => Some("补齐的材料"),
            _ => None,
        }
    }

    /// The form of this step for a job of `item` standing at `progress`.
    pub fn form(self, item: &ServiceItem, progress: &JobProgress) -> StepForm {
        let field = |kind, label: &str, required, choices| StepField {
            kind,
            label: label.to_string(),
            required,
            choices,
        };
        let mut fields = Vec::new();
        if let Some(label) = self.materials_label() {
            let choices = match self {
                // 容缺受理 is only for materials that are not key ones.
                JobStepKind::Accept => item
                    .materials
                    .iter()
                    .filter(|m| !m.key)
                    .map(|m| m.name.clone())
                    .collect(),
                _ => progress.missing_materials.clone(),
            };
            let required = self == JobStepKind::Supplement;
            fields.push(field(StepFieldKind::Materials, label, required, choices));
        }
        if let Some(label) = self.date_label() {
            // The supplement deadline is needed only when materials are ticked missing.
            let required = self == JobStepKind::NobodyHome;
            fields.push(field(StepFieldKind::Date, label, required, Vec::new()));
        }
        if self == JobStepKind::Rate {
            fields.push(field(StepFieldKind::Rating, "评价", true, Vec::new()));
        }
        if let Some(label) = self.text_label() {
            let required = !matches!(self, JobStepKind::Inform | JobStepKind::Rate);
            fields.push(field(StepFieldKind::Text, label, required, Vec::new()));
        }
        StepForm {
            step: self,
            title: self.label().to_string(),
            fields,
            on_phone: self != JobStepKind::Reconcile,
        }
    }

    /// The step a filled-in form stands for, checked ([`JobStep::check_fields`]).
    pub fn step_from(self, input: &StepInput) -> Result<JobStep> {
        let text = input.text.trim().to_string();
        let step = match self {
            JobStepKind::Inform => JobStep::Inform { note: text },
            JobStepKind::Accept => JobStep::Accept {
                supplement_deadline: input.date.filter(|_| !input.materials.is_empty()),
                missing_materials: input.materials.clone(),
            },
            JobStepKind::Supplement => JobStep::Supplement {
                materials: input.materials.clone(),
            },
            JobStepKind::HandUp => JobStep::HandUp { carrier: text },
            JobStepKind::TownAccept => JobStep::TownAccept,
            JobStepKind::Approve => JobStep::Approve,
            JobStepKind::Return => JobStep::Return { reason: text },
            JobStepKind::Reject => JobStep::Reject { reason: text },
            JobStepKind::Complete => JobStep::Complete { result: text },
            JobStepKind::SignOutParcel => JobStep::SignOutParcel,
            JobStepKind::Deliver => JobStep::Deliver { signed_by: text },
            JobStepKind::NobodyHome => JobStep::NobodyHome {
                reschedule_to: input.date.ok_or_else(|| missing("改约上门日期"))?,
            },
            JobStepKind::Rate => JobStep::Rate {
                rating: input.rating.ok_or_else(|| missing("评价"))?,
                comment: text,
            },
            JobStepKind::Close => JobStep::Close,
            JobStepKind::Cancel => JobStep::Cancel { reason: text },
            JobStepKind::Reconcile => {
                return Err(CoreError::InvalidValue {
                    field: self.label().into(),
                    reason: "由镇便民服务中心在工作台处理，手机上不能办理".into(),
                });
            }
        };
        step.check_fields()?;
        Ok(step)
    }
}
