//! How many operations an encoded automerge change holds, read from its action column without
//! decoding a single operation. Automerge stores runs of equal values once, so a change of a
//! hundred bytes can hold a billion operations, and decoding it (which visits each one) would
//! keep a server core busy for minutes: a pushed change is measured here first, and decoded
//! only when it is within bounds.
//!
//! The layout is automerge's binary format: a chunk header (magic, checksum, type, length),
//! then for a change its dependencies, actor, sequence number, first operation, time, message
//! and other actors, then the operation columns' specifications and data. A change chunk may be
//! deflated as a whole (type 2), and each column on its own (bit 3 of its specification).

use std::io::Read;

use crate::error::{Result, invalid_changes};

/// The first bytes of every automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk types: a change, and a deflated change.
const CHANGE: u8 = 1;
const DEFLATED_CHANGE: u8 = 2;
/// The specification of the action column (id 4, unsigned integers), without the deflate bit.
const ACTION_COLUMN: u64 = (4 << 4) | 2;
/// The deflate bit of a column specification.
const DEFLATED_COLUMN: u64 = 1 << 3;
/// The most bytes a deflated change or column may inflate to here.
const MAX_INFLATED: u64 = 16 << 20;

/// Why a change could not be measured (it is then not a change automerge would read either).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unreadable;

/// What reading a change gives here.
type Measured<T> = std::result::Result<T, Unreadable>;

/// The number of operations `bytes` (one encoded change) holds; bytes that are not a change
/// are refused as automerge would refuse them.
pub fn ops_in_change(bytes: &[u8]) -> Result<u64> {
    measure(bytes).map_err(|Unreadable| invalid_changes("无法解码", "不是 automerge 变更的格式"))
}

fn measure(bytes: &[u8]) -> Measured<u64> {
    let mut input = Input(bytes);
    if input.take(4)? != MAGIC {
        return Err(Unreadable);
    }
    input.take(4)?; // checksum
    let kind = input.take(1)?[0];
    let length = usize::try_from(input.uleb()?).map_err(|_| Unreadable)?;
    let body = input.take(length)?;
    match kind {
        CHANGE => ops_in_body(body),
        DEFLATED_CHANGE => ops_in_body(&inflate(body)?),
        _ => Err(Unreadable),
    }
}

/// The operations of a change chunk's body: the length of its action column.
fn ops_in_body(body: &[u8]) -> Measured<u64> {
    let mut input = Input(body);
    let dependencies = input.uleb()?;
    input.take(
        usize::try_from(dependencies.checked_mul(32).ok_or(Unreadable)?).map_err(|_| Unreadable)?,
    )?;
    input.bytes()?; // actor
    input.uleb()?; // sequence number
    input.uleb()?; // first operation
    input.uleb()?; // time (signed, read as its bytes)
    input.bytes()?; // message
    for _ in 0..input.uleb()? {
        input.bytes()?; // another actor
    }
    let columns = input.uleb()?;
    let mut specs = Vec::new();
    for _ in 0..columns.min(64) {
        specs.push((input.uleb()?, input.uleb()?));
    }
    if columns > 64 {
        return Err(Unreadable);
    }
    for (spec, length) in specs {
        let data = input.take(usize::try_from(length).map_err(|_| Unreadable)?)?;
        if spec & !DEFLATED_COLUMN == ACTION_COLUMN {
            return if spec & DEFLATED_COLUMN != 0 {
                rows_in_integer_column(&inflate(data)?)
            } else {
                rows_in_integer_column(data)
            };
        }
    }
    // No action column: no operations.
    Ok(0)
}

/// The rows of a run-length encoded column of unsigned integers: runs of one repeated value
/// (a positive count), of literal values (a negative count), or of nulls (zero, then a count).
fn rows_in_integer_column(data: &[u8]) -> Measured<u64> {
    let mut input = Input(data);
    let mut rows: u64 = 0;
    while !input.0.is_empty() {
        let count = input.sleb()?;
        let run = if count > 0 {
            input.uleb()?; // the repeated value
            count.unsigned_abs()
        } else if count < 0 {
            let literals = count.unsigned_abs();
            for _ in 0..literals {
                input.uleb()?;
            }
            literals
        } else {
            input.uleb()?
        };
        rows = rows.checked_add(run).ok_or(Unreadable)?;
    }
    Ok(rows)
}

/// Inflates raw deflate data, refusing more than [`MAX_INFLATED`] bytes.
fn inflate(data: &[u8]) -> Measured<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::DeflateDecoder::new(data)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|_| Unreadable)?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(Unreadable);
    }
    Ok(out)
}

/// Bytes being read, front first.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> Measured<&'a [u8]> {
        if n > self.0.len() {
            return Err(Unreadable);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    /// A length-prefixed run of bytes.
    fn bytes(&mut self) -> Measured<&'a [u8]> {
        let n = usize::try_from(self.uleb()?).map_err(|_| Unreadable)?;
        self.take(n)
    }

    fn uleb(&mut self) -> Measured<u64> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f)
                .checked_shl(shift)
                .ok_or(Unreadable)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Unreadable)
    }

    fn sleb(&mut self) -> Measured<i64> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.take(1)?[0];
            if shift >= 64 {
                return Err(Unreadable);
            }
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1 << shift;
                }
                return Ok(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};
    use proptest::prelude::*;

    use super::*;

    fn last_change(doc: &mut AutoCommit) -> Vec<u8> {
        doc.get_last_local_change().unwrap().raw_bytes().to_vec()
    }

    proptest! {
        #[test]
        fn counts_what_automerge_counts(edits in proptest::collection::vec((0u8..4, 0u8..6, any::<u16>()), 1..300)) {
            let mut doc = AutoCommit::new();
            let list = doc.put_object(ROOT, "list", ObjType::List).unwrap();
            let map = doc.put_object(ROOT, "map", ObjType::Map).unwrap();
            for (what, key, value) in edits {
                let key = format!("k{key}");
                match what {
                    0 => { doc.put(&map, &key, value as i64).unwrap(); }
                    1 => { doc.put(&map, &key, format!("值{value}")).unwrap(); }
                    2 => { doc.insert(&list, 0, value as u64).unwrap(); }
                    _ => { let _ = doc.delete(&map, &key); }
                }
            }
            doc.commit();
            let bytes = last_change(&mut doc);
            let change = automerge::Change::from_bytes(bytes.clone()).unwrap();
            prop_assert_eq!(ops_in_change(&bytes).ok(), Some(change.len() as u64));
        }
    }

    #[test]
    fn a_small_change_of_many_operations_is_measured_without_reading_them() {
        // One field made a new map 20,000 times: every operation alike, no value bytes.
        let mut doc = AutoCommit::new();
        for _ in 0..20_000 {
            doc.put_object(ROOT, "household", ObjType::Map).unwrap();
        }
        doc.commit();
        let bytes = last_change(&mut doc);
        assert!(bytes.len() < 1_000, "{} bytes", bytes.len());
        let started = Instant::now();
        assert_eq!(ops_in_change(&bytes).ok(), Some(20_000));
        let measured = started.elapsed();
        let started = Instant::now();
        let decoded = automerge::Change::from_bytes(bytes).unwrap();
        let read = started.elapsed();
        assert_eq!(decoded.len(), 20_000);
        assert!(
            measured * 50 < read,
            "measured in {measured:?}, read in {read:?}"
        );
    }

    #[test]
    fn damaged_changes_are_unreadable_not_a_panic() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "a", 1).unwrap();
        doc.commit();
        let bytes = last_change(&mut doc);
        for cut in 0..bytes.len() {
            let _ = ops_in_change(&bytes[..cut]);
        }
        let refused = ops_in_change(b"not a change").unwrap_err().to_string();
        assert!(refused.contains("变更无法解析"), "{refused}");
        let mut wrong = bytes.clone();
        wrong[8] = 0; // a document chunk, not a change
        assert!(ops_in_change(&wrong).is_err());
    }
}
