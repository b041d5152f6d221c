//! Reading a document (or one of its objects) into a tree of values, with the nesting bounded
//! by the documented shape: the deepest objects of a household document (a member's tags, a
//! job's events) sit three levels below the root, so an object any deeper is refused before it
//! is read. Documents arrive from the network; nothing read from them recurses without a bound.
//!
//! The tree is automerge's own `hydrate` value, built here object by object (automerge's
//! `hydrate` follows any nesting).

use automerge::hydrate::{List, Map, MapValue, Value};
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, ValueRef};

use crate::error::{CoreError, Result, invalid_doc};

/// How deep objects may nest below the root (root → collection → entity → tags or events).
pub const MAX_DEPTH: usize = 3;

fn too_deep(key: &str) -> CoreError {
    invalid_doc(format!(
        "字段 {key} 处对象嵌套超过 {MAX_DEPTH} 层，不符合户档案的格式"
    ))
}

fn text_object(key: &str) -> CoreError {
    invalid_doc(format!(
        "字段 {key} 是可协同编辑的文本对象（Text），本系统只接受普通字符串值，\
         写入方须按同步协议文档的“文档格式”把文字写成字符串"
    ))
}

/// Reads the object `obj` of type `kind`, which sits `depth` levels below the root (`key`
/// names it in errors).
pub(super) fn read<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    kind: ObjType,
    depth: usize,
    key: &str,
) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(too_deep(key));
    }
    let child = |value: ValueRef<'_>, id: ObjId, key: &str| -> Result<Value> {
        match value {
            ValueRef::Scalar(scalar) => Ok(Value::Scalar(ScalarValue::from(scalar))),
            ValueRef::Object(ObjType::Text) => Err(text_object(key)),
            ValueRef::Object(kind) => read(doc, &id, kind, depth + 1, key),
        }
    };
    match kind {
        ObjType::Map | ObjType::Table => {
            let mut map = Map::default();
            for item in doc.map_range(obj, ..) {
                let value = child(item.value.clone(), item.id(), &item.key)?;
                let conflict = item.conflict;
                map.insert(item.key.into_owned(), MapValue { value, conflict });
            }
            Ok(Value::Map(map))
        }
        ObjType::List => {
            let mut values = Vec::new();
            for item in doc.list_range(obj, ..) {
                values.push(child(item.value.clone(), item.id(), key)?);
            }
            Ok(Value::List(List::from(values)))
        }
        ObjType::Text => Err(text_object(key)),
    }
}
