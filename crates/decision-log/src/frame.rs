//! The line format of the log.
//!
//! Each record is one line of JSON, terminated by `\n`:
//!
//! ```text
//! {"v":1,"seq":N,"prev":"<64 hex>","record":{...},"sum":"<64 hex>"}
//! ```
//!
//! `seq` counts records from 0; `prev` is the Merkle leaf hash of the previous record's line (all
//! zeros for the first); `sum` is the SHA-256 of the line's bytes up to (not including) `,"sum":`.
//! The sum is checked on the exact bytes, so no JSON canonicalisation is involved, and a line
//! that was cut short by a crash can never pass for a record.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::merkle::Hash;
use crate::record::{Record, UnreadableRecord};

/// The format version written in every line.
pub const FORMAT_VERSION: u32 = 1;

const SUM_PREFIX: &str = ",\"sum\":\"";
/// `,"sum":"` + 64 hex digits + `"}`.
const SUM_SUFFIX_LEN: usize = SUM_PREFIX.len() + 64 + 2;

/// A decoded line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Sequence number.
    pub seq: u64,
    /// Leaf hash of the previous line.
    pub prev: Hash,
    /// The record.
    pub record: Record,
}

/// A line's fields; the record stays raw JSON until it is read once, as a [`Record`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Frame<'a> {
    v: u32,
    seq: u64,
    prev: String,
    #[serde(borrow)]
    record: &'a RawValue,
    /// Checked on the raw bytes before parsing.
    #[serde(rename = "sum")]
    _sum: IgnoredAny,
}

/// Encodes a record as a line, without the final newline.
pub fn encode(seq: u64, prev: &Hash, record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let record = serde_json::to_string(record)?;
    let mut line =
        format!("{{\"v\":{FORMAT_VERSION},\"seq\":{seq},\"prev\":\"{prev}\",\"record\":{record}");
    let sum = Hash::digest(line.as_bytes());
    line.push_str(SUM_PREFIX);
    line.push_str(&sum.to_hex());
    line.push_str("\"}");
    Ok(line.into_bytes())
}

/// The start of the reason [`decode`] gives for a line cut short: no checksum at its end.
pub const INCOMPLETE: &str = "incomplete line";

/// Why a line is not a record ([`decode`]).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The line was cut short: no checksum at its end (crash debris, not tampering).
    #[error("{INCOMPLETE}: no checksum at its end")]
    Incomplete,
    /// The checksum field does not hold 64 hex digits.
    #[error("the checksum is not 64 hex digits")]
    ChecksumDigits,
    /// The line's bytes do not match its checksum.
    #[error("checksum mismatch: the line was changed after it was written")]
    ChecksumMismatch,
    /// The checksum matches but the line is not a frame.
    #[error("checksum matches but {0}")]
    Json(#[source] serde_json::Error),
    /// The line is of a format version this crate does not read.
    #[error("unsupported format version {0}")]
    Version(u32),
    /// `prev` is not a hash.
    #[error("`prev` is not a 64-digit hex hash")]
    Prev,
}

/// Decodes a line (without its newline); the error says why it is not a record.
pub fn decode(line: &[u8]) -> Result<Entry, FrameError> {
    if line.len() < SUM_SUFFIX_LEN || !line.ends_with(b"\"}") {
        return Err(FrameError::Incomplete);
    }
    let split = line.len() - SUM_SUFFIX_LEN;
    let (body, suffix) = line.split_at(split);
    if !suffix.starts_with(SUM_PREFIX.as_bytes()) {
        return Err(FrameError::Incomplete);
    }
    let sum_hex = std::str::from_utf8(&suffix[SUM_PREFIX.len()..SUM_PREFIX.len() + 64])
        .ok()
        .and_then(Hash::from_hex)
        .ok_or(FrameError::ChecksumDigits)?;
    if Hash::digest(body) != sum_hex {
        return Err(FrameError::ChecksumMismatch);
    }
    let frame: Frame = serde_json::from_slice(line).map_err(FrameError::Json)?;
    if frame.v != FORMAT_VERSION {
        return Err(FrameError::Version(frame.v));
    }
    let prev = Hash::from_hex(&frame.prev).ok_or(FrameError::Prev)?;
    // An intact line whose record this version cannot read is still a record of the log.
    let raw = frame.record.get();
    let record = match serde_json::from_str::<Record>(raw) {
        Ok(record) => record,
        Err(error) => Record::Unreadable(UnreadableRecord {
            raw: serde_json::from_str(raw).map_err(FrameError::Json)?,
            error: error.to_string(),
        }),
    };
    Ok(Entry {
        seq: frame.seq,
        prev,
        record,
    })
}

/// The sequence number a damaged line claims, if its start is still readable.
pub fn seq_hint(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(format!("{{\"v\":{FORMAT_VERSION},\"seq\":").as_bytes())?;
    let digits: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}
