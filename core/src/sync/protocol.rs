//! The sync protocol's messages and their framing, shared by the phone's client and the
//! server. See `docs/sync-protocol.md`.
//!
//! A body is `D` `S`, a protocol version byte, a flags byte, then the message in postcard (a
//! compact serde format), deflated when that makes it smaller (flag bit 0).

use std::io::{Read, Write};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The protocol version this build speaks (2: positions carry one cursor per town).
pub const PROTOCOL_VERSION: u8 = 2;
/// The first two bytes of every body.
pub const MAGIC: [u8; 2] = *b"DS";
/// Flag bit: the message is deflated.
const FLAG_DEFLATE: u8 = 1;
/// Messages shorter than this are sent as they are (deflate would not pay for its header).
const COMPRESS_FROM: usize = 200;
/// The largest body accepted on the wire.
pub const MAX_BODY_BYTES: usize = 8 << 20;
/// The largest message accepted after inflating (guards against deflate bombs).
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;
/// The most households one request may push (the client sends more in later rounds).
pub const MAX_PUSH_HOUSEHOLDS: usize = 1_000;
/// The most changes listed for one household in a request or an answer.
pub const MAX_CHANGES_PER_HOUSEHOLD: usize = 50_000;
/// The fewest bytes an encoded automerge change can have (its header alone is longer); shorter
/// entries are refused while decoding, so a small body cannot stand for millions of changes.
pub const MIN_CHANGE_BYTES: usize = 8;
/// The most changes one message may list in all (every household's together): decoding costs
/// memory per change, so this bounds it whatever the message is made of.
pub const MAX_MESSAGE_CHANGES: usize = 250_000;
/// The most operations the changes of one push may hold in all (the client sends more in later
/// rounds; a household whose own pending changes hold more is sent alone).
pub const MAX_PUSH_OPS: usize = 50_000;
/// The most operations a household's document may hold (each costs memory whenever the
/// household is loaded, however few bytes it takes stored).
pub const MAX_HOUSEHOLD_OPS: usize = 100_000;
/// The most households one request may ask for whole.
pub const MAX_WANTED_SNAPSHOTS: usize = 256;
/// The most entries (households changed or sent whole) one answer may hold.
pub const MAX_ANSWER_HOUSEHOLDS: usize = 100_000;
/// The most operations one change written by a device may hold.
pub const MAX_OPS_PER_CHANGE: usize = 5_000;
/// The largest a household's stored document may grow.
pub const MAX_HOUSEHOLD_BYTES: usize = 1 << 20;
/// The media type of request and response bodies.
pub const CONTENT_TYPE: &str = "application/x-doorstep-sync";
/// The path of the sync endpoint.
pub const SYNC_PATH: &str = "/v1/sync";
/// The path of the enrollment endpoint (JSON in and out).
pub const ENROLL_PATH: &str = "/v1/enroll";

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProtocolError {
    /// Not a Doorstep sync body at all.
    #[error("不是家门口办同步数据（开头标记不对）")]
    NotASyncBody,
    /// A version this build does not speak.
    #[error("同步协议版本 {found} 不受支持（支持版本 {supported}），请升级应用或服务器")]
    UnsupportedVersion {
        /// The version in the body.
        found: u8,
        /// The version this build speaks.
        supported: u8,
    },
    /// Larger than the limit.
    #[error("同步数据过大（超过 {limit} 字节），请分批同步")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Cut short or damaged.
    #[error("同步数据不完整或已损坏")]
    Corrupt {
        /// What failed, in the decoder's words (not shown).
        detail: String,
    },
    /// A list longer than its limit, or an empty change: refused while decoding.
    #[error("同步数据超出上限或含无效的项（如空的变更、过长的列表），已拒收；上限见同步协议文档")]
    OverLimits,
}

/// How far a device has read one town's journal (each town numbers its own entries).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TownCursor {
    /// The town.
    pub town: String,
    /// The last journal number of that town received and stored.
    pub seq: u64,
}

/// Where a device is in the server's stream of changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    /// Has every journal entry of its scope up to each town's cursor (a town not listed: none).
    Changes {
        /// One cursor per town, in town order.
        cursors: Vec<TownCursor>,
    },
    /// A new (or wiped) device downloading its scope as snapshots, in household-id order.
    Snapshots {
        /// The journal positions the download started at (fixed by the server on the first
        /// page).
        base: Option<Vec<TownCursor>>,
        /// The last household received.
        after: Option<String>,
    },
}

impl Position {
    /// Where a new device starts.
    pub fn start() -> Position {
        Position::Snapshots {
            base: None,
            after: None,
        }
    }
}

/// Changes of one household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocChanges {
    /// The household.
    pub household_id: String,
    /// Encoded automerge changes.
    #[serde(deserialize_with = "bounded::changes")]
    pub changes: Vec<Vec<u8>>,
}

/// A whole household document, compacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The household.
    pub household_id: String,
    /// The saved document.
    pub bytes: Vec<u8>,
}

/// What the server did with one household's push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckStatus {
    /// Stored durably (or already there).
    Stored,
    /// Refused as a whole, with the reason.
    Rejected {
        /// Why, in Chinese.
        reason: String,
    },
    /// The server lacks changes these depend on: send the household's whole history.
    MissingDependencies,
}

/// The answer for one pushed household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The household.
    pub household_id: String,
    /// What happened.
    pub status: AckStatus,
}

/// One exchange from a device: what it pushes, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// The device (its automerge actor id, hex).
    pub device: String,
    /// The villages it serves (named by the device until tokens carry the scope).
    pub scope: Vec<String>,
    /// Where it is in the server's stream.
    pub position: Position,
    /// Changes the server has not acknowledged yet.
    #[serde(deserialize_with = "bounded::seq::<_, _, MAX_PUSH_HOUSEHOLDS>")]
    pub push: Vec<DocChanges>,
    /// Households it needs whole (received changes it could not store: the repair path).
    #[serde(deserialize_with = "bounded::seq::<_, _, MAX_WANTED_SNAPSHOTS>")]
    pub want_snapshots: Vec<String>,
    /// How many bytes of changes and snapshots it wants in the response at most.
    pub budget: u32,
    /// The server's count of this device's stored pushes, as its last answer gave it. A device
    /// whose count is behind the server's (its store was restored from an old copy, or an
    /// answer was lost) is sent its own earlier changes too.
    pub pushes_seen: u64,
}

/// The server's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResponse {
    /// One per pushed household.
    #[serde(deserialize_with = "bounded::seq::<_, _, MAX_PUSH_HOUSEHOLDS>")]
    pub acks: Vec<Ack>,
    /// Changes the device lacks.
    #[serde(deserialize_with = "bounded::seq::<_, _, MAX_ANSWER_HOUSEHOLDS>")]
    pub changes: Vec<DocChanges>,
    /// Whole documents (for a new device).
    #[serde(deserialize_with = "bounded::seq::<_, _, MAX_ANSWER_HOUSEHOLDS>")]
    pub snapshots: Vec<Snapshot>,
    /// Where the device is once it has stored this response.
    pub next: Position,
    /// Entries (snapshots or changes) still to come after `next`; more rounds are needed when
    /// this is not zero.
    pub remaining: u64,
    /// How many pushes of this device the server has stored (see `SyncRequest::pushes_seen`).
    pub pushes: u64,
}

/// A phone's request to enroll with a one-time code (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The code hub staff gave the agent (dashes and case do not matter).
    pub code: String,
    /// The device (its automerge actor id, hex).
    pub device: String,
    /// A name for the device in listings, for example 李秀英的手机.
    pub device_name: String,
}

/// The longest device name an enrollment may give, in characters.
pub const MAX_DEVICE_NAME_CHARS: usize = 40;

/// Why an enrollment request is refused before its code is looked at.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnrollError {
    /// Not an enrollment request (bad JSON or missing fields).
    #[error("登记请求格式不对：{reason}")]
    Malformed {
        /// What the JSON parser said.
        reason: String,
    },
    /// The device id is not a phone's automerge actor id.
    #[error("设备编号格式不对（应为本机的32位十六进制编号），请更新应用后重试")]
    BadDeviceId,
    /// The device name is empty, too long or holds control characters or direction marks.
    #[error(
        "设备名称应为1到{MAX_DEVICE_NAME_CHARS}个字，且不含控制字符或改变文字方向、不可见的字符"
    )]
    BadDeviceName,
}

impl EnrollRequest {
    /// Reads a request body (JSON). Its fields are checked by [`EnrollRequest::check`].
    pub fn from_json(body: &[u8]) -> Result<EnrollRequest, EnrollError> {
        serde_json::from_slice(body).map_err(|e| EnrollError::Malformed {
            reason: e.to_string(),
        })
    }

    /// Checks the device id (16 bytes as 32 lower-case hex digits) and the name (1 to
    /// [`MAX_DEVICE_NAME_CHARS`] characters, not blank, no control characters, no direction or
    /// zero-width marks that would let it pass for another name).
    pub fn check(&self) -> Result<(), EnrollError> {
        let hex = self.device.len() == 32
            && self
                .device
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hex {
            return Err(EnrollError::BadDeviceId);
        }
        let name = &self.device_name;
        if name.trim().is_empty()
            || name.chars().count() > MAX_DEVICE_NAME_CHARS
            || name
                .chars()
                .any(|c| c.is_control() || crate::validate::is_direction_mark(c))
        {
            return Err(EnrollError::BadDeviceName);
        }
        Ok(())
    }

    /// The code as typed, normalised: upper case, without spaces or dashes.
    pub fn normalised_code(&self) -> String {
        self.code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }
}

/// The server's answer to an enrollment (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    /// The device token (256 random bits, hex): sent as `Authorization: Bearer` on every sync.
    pub token: String,
    /// The user the device now belongs to.
    pub user: crate::User,
    /// The villages the user may read and write.
    pub villages: Vec<String>,
}

/// Lists read with a bound on their length, so that decoding costs memory in proportion to
/// the bytes received.
mod bounded {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserializer;
    use serde::de::{Deserialize, Error, SeqAccess, Visitor};

    use std::cell::Cell;

    use super::{MAX_CHANGES_PER_HOUSEHOLD, MAX_MESSAGE_CHANGES, MIN_CHANGE_BYTES};

    thread_local! {
        /// Changes the message being decoded on this thread may still list.
        static CHANGES_LEFT: Cell<usize> = const { Cell::new(MAX_MESSAGE_CHANGES) };
    }

    /// Starts a message: it may list [`MAX_MESSAGE_CHANGES`] changes in all.
    pub fn start_message() {
        CHANGES_LEFT.with(|left| left.set(MAX_MESSAGE_CHANGES));
    }

    /// Counts one change of the message, `false` once it lists too many.
    fn take_change() -> bool {
        CHANGES_LEFT.with(|left| match left.get().checked_sub(1) {
            Some(rest) => {
                left.set(rest);
                true
            }
            None => false,
        })
    }

    /// A list of at most `MAX` entries, each passing `accept` as it is read.
    struct Bounded<T, const MAX: usize> {
        accept: fn(&T) -> bool,
        _entries: PhantomData<T>,
    }

    impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for Bounded<T, MAX> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a list of at most {MAX} entries")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX).min(1024));
            while let Some(item) = seq.next_element()? {
                if out.len() == MAX {
                    return Err(A::Error::custom(format!("列表超过 {MAX} 项")));
                }
                if !(self.accept)(&item) {
                    return Err(A::Error::custom("列表中有无效的项（如空的变更）"));
                }
                out.push(item);
            }
            Ok(out)
        }
    }

    /// A list of at most `MAX` entries.
    pub fn seq<'de, D: Deserializer<'de>, T: Deserialize<'de>, const MAX: usize>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(Bounded::<T, MAX> {
            accept: |_| true,
            _entries: PhantomData,
        })
    }

    /// A household's encoded changes: a bounded list, each at least [`MIN_CHANGE_BYTES`], and
    /// at most [`MAX_MESSAGE_CHANGES`] in the whole message.
    pub fn changes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        d.deserialize_seq(Bounded::<Vec<u8>, MAX_CHANGES_PER_HOUSEHOLD> {
            accept: |change| change.len() >= MIN_CHANGE_BYTES && take_change(),
            _entries: PhantomData,
        })
    }
}

/// Frames a message: header, postcard, deflated when that pays.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    let plain = postcard::to_allocvec(message).expect("protocol messages always serialise");
    let mut out = Vec::with_capacity(plain.len().min(1 << 16) + 4);
    out.extend_from_slice(&MAGIC);
    out.push(PROTOCOL_VERSION);
    if plain.len() >= COMPRESS_FROM {
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        deflater.write_all(&plain).expect("writing to memory");
        let packed = deflater.finish().expect("writing to memory");
        if packed.len() < plain.len() {
            out.push(FLAG_DEFLATE);
            out.extend_from_slice(&packed);
            return out;
        }
    }
    out.push(0);
    out.extend_from_slice(&plain);
    out
}

/// Reads a framed message, checking the version and the size limits.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ProtocolError::TooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    if body.len() < 4 || body[..2] != MAGIC {
        return Err(ProtocolError::NotASyncBody);
    }
    if body[2] != PROTOCOL_VERSION {
        return Err(ProtocolError::UnsupportedVersion {
            found: body[2],
            supported: PROTOCOL_VERSION,
        });
    }
    let payload = &body[4..];
    let inflated;
    let plain = if body[3] & FLAG_DEFLATE != 0 {
        let mut out = Vec::new();
        flate2::read::DeflateDecoder::new(payload)
            .take(MAX_MESSAGE_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| ProtocolError::Corrupt {
                detail: e.to_string(),
            })?;
        if out.len() > MAX_MESSAGE_BYTES {
            return Err(ProtocolError::TooLarge {
                limit: MAX_MESSAGE_BYTES,
            });
        }
        inflated = out;
        &inflated[..]
    } else {
        payload
    };
    bounded::start_message();
    postcard::from_bytes(plain).map_err(|e| match e {
        postcard::Error::SerdeDeCustom => ProtocolError::OverLimits,
        other => ProtocolError::Corrupt {
            detail: other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_name_that_could_pass_for_another_is_refused() {
        let named = |name: &str| EnrollRequest {
            code: "ABCD-EFGH".into(),
            device: "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
            device_name: name.into(),
        };
        assert_eq!(named("杜娜的手机").check(), Ok(()));
        for bad in [
            "\u{202e}机手的娜杜",
            "杜娜\u{200b}的手机",
            "\u{2066}杜娜",
            "杜娜\n的手机",
            "  ",
        ] {
            assert_eq!(
                named(bad).check(),
                Err(EnrollError::BadDeviceName),
                "{bad:?}"
            );
        }
    }

    fn request(push: Vec<DocChanges>) -> SyncRequest {
        SyncRequest {
            device: "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into(),
            scope: vec!["sanzhang-v01".into()],
            position: Position::Changes {
                cursors: vec![TownCursor {
                    town: "sanzhang".into(),
                    seq: 123_456,
                }],
            },
            push,
            want_snapshots: vec![],
            budget: 256 * 1024,
            pushes_seen: 3,
        }
    }

    #[test]
    fn round_trips_small_and_large_messages() {
        let small = request(vec![]);
        let bytes = encode(&small);
        assert_eq!(bytes[3], 0, "small messages are not deflated");
        assert!(bytes.len() < 80, "a no-op request is {} bytes", bytes.len());
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), small);
        let large = request(vec![DocChanges {
            household_id: "h".repeat(16),
            changes: vec![vec![7u8; 5000]],
        }]);
        let bytes = encode(&large);
        assert_eq!(bytes[3], FLAG_DEFLATE);
        assert!(bytes.len() < 500);
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), large);
    }

    #[test]
    fn refuses_bad_bodies_with_clear_errors() {
        let good = encode(&request(vec![]));
        assert_eq!(
            decode::<SyncRequest>(b"GET / HTTP/1.1"),
            Err(ProtocolError::NotASyncBody)
        );
        assert_eq!(decode::<SyncRequest>(b""), Err(ProtocolError::NotASyncBody));
        let mut future = good.clone();
        future[2] = 9;
        let err = decode::<SyncRequest>(&future).unwrap_err();
        assert_eq!(
            err,
            ProtocolError::UnsupportedVersion {
                found: 9,
                supported: PROTOCOL_VERSION
            }
        );
        assert!(err.to_string().contains("请升级"));
        let truncated = &good[..good.len() - 5];
        assert!(matches!(
            decode::<SyncRequest>(truncated),
            Err(ProtocolError::Corrupt { .. })
        ));
        let mut bomb = encode(&request(vec![DocChanges {
            household_id: "h".into(),
            changes: vec![vec![0u8; MAX_MESSAGE_BYTES + 10]],
        }]));
        assert_eq!(bomb[3], FLAG_DEFLATE);
        assert!(bomb.len() < MAX_BODY_BYTES);
        assert_eq!(
            decode::<SyncRequest>(&bomb),
            Err(ProtocolError::TooLarge {
                limit: MAX_MESSAGE_BYTES
            })
        );
        bomb.truncate(10);
        assert!(decode::<SyncRequest>(&bomb).is_err());
    }

    #[test]
    fn a_message_lists_a_bounded_number_of_changes_in_all() {
        let households = |count: usize| {
            (0..count)
                .map(|i| DocChanges {
                    household_id: format!("h{i:015}"),
                    changes: vec![vec![1u8; MIN_CHANGE_BYTES]; MAX_CHANGES_PER_HOUSEHOLD],
                })
                .collect::<Vec<_>>()
        };
        let within = MAX_MESSAGE_CHANGES / MAX_CHANGES_PER_HOUSEHOLD;
        let body = encode(&request(households(within)));
        assert!(decode::<SyncRequest>(&body).is_ok(), "at the limit");
        assert!(
            decode::<SyncRequest>(&body).is_ok(),
            "each message counts afresh"
        );
        let over = encode(&request(households(within + 1)));
        assert!(over.len() < 100_000, "a small body ({} bytes)", over.len());
        assert_eq!(decode::<SyncRequest>(&over), Err(ProtocolError::OverLimits));
    }
}
