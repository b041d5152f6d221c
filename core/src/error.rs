//! The one error type of the core, with messages a person can act on (in Chinese).

use thiserror::Error;

/// Everything that can go wrong in the core. Each message (the `Display` text, which the
/// bindings export) says in Chinese what is wrong and what to do; the fields say which input
/// and which rule. Text from SQLite or automerge is kept in `detail` fields for support staff
/// and never shown.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Error), uniffi::export(Display))]
pub enum CoreError {
    /// An identity number failed the GB 11643 checks.
    #[error("身份证号码无效：{reason}。请核对18位居民身份证号码后重新输入")]
    InvalidIdNumber {
        /// What exactly is wrong with it.
        reason: String,
    },
    /// A mobile number is not an 11-digit mainland number.
    #[error("手机号码无效：{value}。请输入以1开头的11位手机号码")]
    InvalidPhone {
        /// The rejected input.
        value: String,
    },
    /// A required field was left empty.
    #[error("“{field}”不能为空，请填写后再保存")]
    MissingField {
        /// The field's Chinese label.
        field: String,
    },
    /// A value is outside what the field accepts.
    #[error("“{field}”的值无效：{reason}")]
    InvalidValue {
        /// The field's Chinese label.
        field: String,
        /// Why the value is refused.
        reason: String,
    },
    /// A catalogue code that the shipped catalogue does not have.
    #[error("事项清单中没有编码为“{code}”的事项，请从事项清单中选择")]
    UnknownItem {
        /// The unknown code.
        code: String,
    },
    /// The item does not allow the chosen service mode.
    #[error("事项“{item}”不支持“{mode}”方式，可选方式：{allowed}")]
    ModeNotAllowed {
        /// Item name.
        item: String,
        /// The refused mode's label.
        mode: String,
        /// Labels of the modes the item allows.
        allowed: String,
    },
    /// The step is not possible from the job's current state.
    #[error("办件当前状态为“{state}”，不能执行“{step}”")]
    StepNotAllowed {
        /// Label of the step.
        step: String,
        /// Label of the current state.
        state: String,
    },
    /// The user's role may not take this step.
    #[error("“{role}”无权执行“{step}”：{rule}")]
    RoleNotAllowed {
        /// Label of the role.
        role: String,
        /// Label of the step.
        step: String,
        /// The rule that forbids it.
        rule: String,
    },
    /// A key material is missing: the job cannot be accepted without it (容缺 is for non-key materials).
    #[error("缺少要件“{material}”，不能容缺受理，请补齐后再受理")]
    KeyMaterialMissing {
        /// The missing material.
        material: String,
    },
    /// Materials are still missing where the step needs them all.
    #[error("还有容缺材料未补齐：{materials}。请先补齐材料")]
    MaterialsOutstanding {
        /// The materials still missing, joined.
        materials: String,
    },
    /// A household, member, ledger line, job or visit that is not in the store.
    #[error("找不到{kind}（编号 {id}）")]
    NotFound {
        /// What kind of record.
        kind: String,
        /// The id that was asked for.
        id: String,
    },
    /// A user tried to write what their role or villages do not allow.
    #[error("没有权限：{reason}")]
    Forbidden {
        /// What was refused.
        reason: String,
    },
    /// An edit was attempted before a user signed in on this device.
    #[error("请先登录：本设备还没有登录的用户，无法记录是谁办理的")]
    NotSignedIn,
    /// A conflicting value that was chosen no longer exists.
    #[error("该冲突已被处理或所选的值已不存在，请刷新冲突列表")]
    ConflictGone,
    /// The household changed after the person acting on it saw it: nothing was written.
    #[error(
        "该户档案在您打开页面后已有更新（可能刚同步了手机上的修改），未做改动；请核对最新内容后再操作"
    )]
    ChangedMeanwhile,
    /// The document was written by a newer version of the app.
    #[error("该户档案由更新版本的应用写入（格式版本 {found}，本应用支持 {supported}），请升级应用")]
    SchemaTooNew {
        /// The document's schema version.
        found: i64,
        /// The newest version this build understands.
        supported: i64,
    },
    /// The local database was written by a newer version of the app.
    #[error(
        "本机数据库由更新版本的应用写入（版本 {found}，本应用支持 {supported}），数据未被改动；请升级应用"
    )]
    StoreTooNew {
        /// The database's schema version.
        found: i64,
        /// The newest version this build understands.
        supported: i64,
    },
    /// The document's content does not follow the schema.
    #[error("户档案内容损坏或格式不符：{reason}")]
    InvalidDocument {
        /// What was found wrong, in Chinese.
        reason: String,
        /// The underlying library's words, if any (not shown).
        detail: String,
    },
    /// Changes received for a document could not be decoded or applied.
    #[error("收到的变更无法解析：{reason}")]
    InvalidChanges {
        /// Why decoding failed, in Chinese.
        reason: String,
        /// The underlying library's words, if any (not shown).
        detail: String,
    },
    /// The store could not be opened with the key given (or needs one and got none).
    #[error(
        "无法打开本机数据库：密钥不对，或数据库已损坏。数据未被改动；请重新登录后再试，如仍不行请联系镇便民服务中心"
    )]
    WrongKey,
    /// The app shell could not supply the database key.
    #[error("无法取得本机数据库的密钥：{reason}。请重新登录")]
    KeyUnavailable {
        /// Why, from the shell.
        reason: String,
    },
    /// The local database failed.
    #[error("本地数据库出错，数据未丢失，请重试；如反复出现请联系镇便民服务中心")]
    Storage {
        /// The underlying error, for support staff (not shown).
        detail: String,
    },
}

impl From<rusqlite::Error> for CoreError {
    fn from(err: rusqlite::Error) -> Self {
        storage(err)
    }
}

impl From<automerge::AutomergeError> for CoreError {
    fn from(err: automerge::AutomergeError) -> Self {
        unreadable_doc(err)
    }
}

/// Result with the core's error.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Shorthand for [`CoreError::MissingField`].
pub(crate) fn missing(field: &str) -> CoreError {
    CoreError::MissingField {
        field: field.to_string(),
    }
}

/// Shorthand for [`CoreError::NotFound`].
pub(crate) fn not_found(kind: &str, id: &str) -> CoreError {
    CoreError::NotFound {
        kind: kind.to_string(),
        id: id.to_string(),
    }
}

/// Shorthand for [`CoreError::InvalidDocument`] found by the core's own checks.
pub fn invalid_doc(reason: impl Into<String>) -> CoreError {
    CoreError::InvalidDocument {
        reason: reason.into(),
        detail: String::new(),
    }
}

/// A document automerge could not read or change, with automerge's words kept as the detail.
pub(crate) fn unreadable_doc(err: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidDocument {
        reason: "数据无法读取".into(),
        detail: err.to_string(),
    }
}

/// Changes that could not be decoded or applied: why in Chinese, the library's words as detail.
pub fn invalid_changes(reason: impl Into<String>, detail: impl std::fmt::Display) -> CoreError {
    CoreError::InvalidChanges {
        reason: reason.into(),
        detail: detail.to_string(),
    }
}

/// A failure of the local database (or of encoding what it keeps), with its words as detail.
pub(crate) fn storage(err: impl std::fmt::Display) -> CoreError {
    CoreError::Storage {
        detail: err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{HouseholdDoc, decode_change};
    use crate::sync::{SyncError, protocol};

    /// Whether a message a person reads has no Latin words (the libraries speak English).
    fn reads_as_chinese(message: &str) -> bool {
        !message.chars().any(|c| c.is_ascii_alphabetic())
    }

    #[test]
    fn library_failures_reach_people_in_chinese_with_the_words_kept_as_detail() {
        let sqlite = rusqlite::Connection::open_in_memory()
            .unwrap()
            .execute("INSERT INTO nowhere VALUES (1)", [])
            .unwrap_err();
        let garbage = b"not an automerge document";
        let failures = [
            CoreError::from(sqlite),
            HouseholdDoc::load(garbage, automerge::ActorId::random()).unwrap_err(),
            decode_change(garbage).unwrap_err(),
        ];
        for err in failures {
            assert!(reads_as_chinese(&err.to_string()), "{err}");
            let (CoreError::Storage { detail }
            | CoreError::InvalidDocument { detail, .. }
            | CoreError::InvalidChanges { detail, .. }) = &err
            else {
                panic!("unexpected {err:?}")
            };
            assert!(!detail.is_empty(), "{err:?}");
        }
        let mut cut_short = protocol::MAGIC.to_vec();
        cut_short.extend([protocol::PROTOCOL_VERSION, 0, 0xff, 0xff]);
        let corrupt = protocol::decode::<protocol::SyncRequest>(&cut_short).unwrap_err();
        let sync = SyncError::from(corrupt);
        assert!(reads_as_chinese(&sync.to_string()), "{sync}");
        assert!(
            matches!(&sync, SyncError::Protocol { detail, .. } if !detail.is_empty()),
            "{sync:?}"
        );
    }
}
