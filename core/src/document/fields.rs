//! Typed access to document fields. Reads go through a hydrated copy of the document (one
//! pass over automerge's columns, much cheaper than a lookup per field) and never panic: a
//! missing field is `None`, a field of the wrong type is a [`CoreError::InvalidDocument`].
//! Writes go to the automerge document itself.

use automerge::hydrate::{List, Map, Value};
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue};
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{CoreError, Result, invalid_doc};
use crate::time::{from_millis, to_millis};

fn wrong_type(key: &str, expected: &str) -> CoreError {
    invalid_doc(format!("字段 {key} 应为{expected}"))
}

/// A hydrated map, read field by field.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    map: &'a Map,
}

impl<'a> Fields<'a> {
    /// The map in `value`, or an error naming `what`.
    pub fn of(value: &'a Value, what: &str) -> Result<Fields<'a>> {
        match value {
            Value::Map(map) => Ok(Fields { map }),
            _ => Err(invalid_doc(format!("{what} 应为对象"))),
        }
    }

    fn scalar(&self, key: &str) -> Result<Option<&'a ScalarValue>> {
        match self.map.get(key) {
            None | Some(Value::Scalar(ScalarValue::Null)) => Ok(None),
            Some(Value::Scalar(v)) => Ok(Some(v)),
            Some(Value::Text(_)) => Err(invalid_doc(format!(
                "字段 {key} 是可协同编辑的文本对象（Text），本系统只接受普通字符串值，\
                 写入方须按同步协议文档的“文档格式”把文字写成字符串"
            ))),
            Some(_) => Err(invalid_doc(format!("字段 {key} 应为值，实际为对象"))),
        }
    }

    /// A text field.
    pub fn opt_str(&self, key: &str) -> Result<Option<String>> {
        match self.scalar(key)? {
            None => Ok(None),
            Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
            Some(_) => Err(wrong_type(key, "文本")),
        }
    }

    /// A required text field.
    pub fn req_str(&self, key: &str) -> Result<String> {
        self.opt_str(key)?
            .ok_or_else(|| invalid_doc(format!("缺少字段 {key}")))
    }

    /// A text field that defaults to empty.
    pub fn str_or_empty(&self, key: &str) -> Result<String> {
        Ok(self.opt_str(key)?.unwrap_or_default())
    }

    /// An integer field.
    pub fn opt_int(&self, key: &str) -> Result<Option<i64>> {
        match self.scalar(key)? {
            None => Ok(None),
            Some(ScalarValue::Int(i)) => Ok(Some(*i)),
            Some(ScalarValue::Uint(u)) => i64::try_from(*u)
                .map(Some)
                .map_err(|_| wrong_type(key, "整数")),
            Some(_) => Err(wrong_type(key, "整数")),
        }
    }

    /// A float field.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>> {
        match self.scalar(key)? {
            None => Ok(None),
            Some(ScalarValue::F64(f)) => Ok(Some(*f)),
            Some(ScalarValue::Int(i)) => Ok(Some(*i as f64)),
            Some(_) => Err(wrong_type(key, "小数")),
        }
    }

    /// A date field, stored as `YYYY-MM-DD` text.
    pub fn opt_date(&self, key: &str) -> Result<Option<NaiveDate>> {
        self.opt_str(key)?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| wrong_type(key, "日期")))
            .transpose()
    }

    /// An instant field, stored as an automerge timestamp (milliseconds).
    pub fn opt_time(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        match self.scalar(key)? {
            None => Ok(None),
            Some(ScalarValue::Timestamp(ms)) | Some(ScalarValue::Int(ms)) => {
                Ok(Some(from_millis(*ms)))
            }
            Some(_) => Err(wrong_type(key, "时间")),
        }
    }

    /// A coded field decoded with `parse` (one of the domain's code enums).
    pub fn opt_code<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
        self.opt_str(key)?
            .map(|s| parse(&s).ok_or_else(|| invalid_doc(format!("字段 {key} 的值“{s}”无法识别"))))
            .transpose()
    }

    /// A required coded field.
    pub fn req_code<T>(&self, key: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
        self.opt_code(key, parse)?
            .ok_or_else(|| invalid_doc(format!("缺少字段 {key}")))
    }

    /// The child map at `key`, if present.
    pub fn map(&self, key: &str) -> Result<Option<Fields<'a>>> {
        self.map.get(key).map(|v| Fields::of(v, key)).transpose()
    }

    /// The required child map at `key`.
    pub fn req_map(&self, key: &str) -> Result<Fields<'a>> {
        self.map(key)?
            .ok_or_else(|| invalid_doc(format!("缺少 {key}")))
    }

    /// The child list at `key`, if present.
    pub fn list(&self, key: &str) -> Result<Option<&'a List>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(Value::List(list)) => Ok(Some(list)),
            Some(_) => Err(wrong_type(key, "列表")),
        }
    }

    /// Refuses a map holding a key outside `allowed` (`what` names the map in the message):
    /// documents keep their documented shape.
    pub fn only(&self, allowed: &[&str], what: &str) -> Result<()> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(key) => Err(invalid_doc(format!("{what}中有文档格式之外的字段“{key}”"))),
            None => Ok(()),
        }
    }

    /// The keys and values, in key order (maps keyed by generated ids list their entities).
    pub fn entries(&self) -> Vec<(&'a str, &'a Value)> {
        let mut entries: Vec<_> = self
            .map
            .iter()
            .map(|(k, v)| (k.as_str(), &v.value))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        entries
    }

    /// The keys that hold concurrent values, in key order.
    pub fn conflicted_keys(&self) -> Vec<&'a str> {
        let mut keys: Vec<_> = self
            .map
            .iter()
            .filter(|(_, v)| v.conflict && matches!(v.value, Value::Scalar(_)))
            .map(|(k, _)| k.as_str())
            .collect();
        keys.sort();
        keys
    }
}

/// Writes text, or deletes the field for `None`.
pub fn put_opt_str(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<&str>,
) -> Result<()> {
    match value {
        Some(v) => doc.put(obj, key, v)?,
        None => doc.delete(obj, key)?,
    }
    Ok(())
}

/// Writes a date as `YYYY-MM-DD`, or deletes the field for `None`.
pub fn put_opt_date(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    value: Option<NaiveDate>,
) -> Result<()> {
    put_opt_str(
        doc,
        obj,
        key,
        value.map(|d| d.format("%Y-%m-%d").to_string()).as_deref(),
    )
}

/// Writes an instant as an automerge timestamp.
pub fn put_time(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: DateTime<Utc>) -> Result<()> {
    doc.put(obj, key, ScalarValue::Timestamp(to_millis(value)))?;
    Ok(())
}

/// The child object at `obj[key]` of type `kind` in the live document (for write paths).
pub fn child(doc: &AutoCommit, obj: &ObjId, key: &str, kind: ObjType) -> Result<Option<ObjId>> {
    match doc.get(obj, key)? {
        None => Ok(None),
        Some((automerge::Value::Object(t), id)) if t == kind => Ok(Some(id)),
        Some(_) => Err(invalid_doc(format!("字段 {key} 应为{kind:?}对象"))),
    }
}

/// The required child map at `obj[key]` in the live document.
pub fn req_map(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<ObjId> {
    child(doc, obj, key, ObjType::Map)?.ok_or_else(|| invalid_doc(format!("缺少 {key}")))
}

/// A text field of the live document (for the few checks made while writing).
pub fn live_str(doc: &AutoCommit, obj: &ObjId, key: &str) -> Result<Option<String>> {
    match doc.get(obj, key)? {
        Some((automerge::Value::Scalar(v), _)) => Ok(v.as_str().map(str::to_string)),
        _ => Ok(None),
    }
}
