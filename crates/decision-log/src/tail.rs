//! The tail state of a file log (`<log>.tail`): what the last acknowledged append left at the end
//! of the log — the number of records, the last record's sequence number, leaf hash and offset,
//! the count of direct production changes, and the Merkle frontier (the roots of the perfect
//! subtrees of the tree so far, at most one per bit of its size), so the root is known and extended
//! without reading the log.
//!
//! It is written and synced by every append after the log itself and before the append returns,
//! so it never claims a record that is not durable; a crash in between leaves it one append
//! behind, which the next append catches up by reading forward from the last record it names.
//! Two slots are written in turn, each with its own SHA-256, so a write torn by a crash leaves the
//! other slot readable. [`crate::verify`] compares the log with it: acknowledged records missing
//! from the end of the log are a truncation, whereas bytes past the last acknowledged record (an
//! interrupted append) are not a problem.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::frame;
use crate::lines::{Lines, RawLine};
use crate::merkle::{Hash, leaf_hash, node_hash};
use crate::record::Record;
use crate::verify::{Problem, Verification};

/// Bytes of one slot: a state with a frontier of 64 hashes fits with room to spare.
const SLOT: u64 = 8192;

/// The suffix of the tail state's file name, after the log's.
pub const SUFFIX: &str = ".tail";

/// The state of the end of a log after its last acknowledged append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailState {
    /// Incremented by every write, selecting the slot written.
    pub generation: u64,
    /// Records (Merkle leaves) acknowledged.
    pub records: u64,
    /// Sequence number of the last acknowledged record.
    pub last_seq: Option<u64>,
    /// Its leaf hash (zeros when there is none).
    #[serde(with = "hex_hash")]
    pub last_leaf: Hash,
    /// Its byte offset in the file.
    pub last_offset: u64,
    /// The offset just past it.
    pub end: u64,
    /// Marks recording a direct production change.
    pub direct_changes: u64,
    /// Roots of the perfect subtrees of the Merkle tree of the records, largest first.
    #[serde(with = "hex_hash::list")]
    pub frontier: Vec<Hash>,
    /// The last record an earlier state acknowledged that an append found missing or changed (the
    /// state was then rebuilt from the log, so appends go on): kept for `verify` to report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Acknowledged>,
}

/// An acknowledged record, as the tail state names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledged {
    /// Records acknowledged up to and including it.
    pub records: u64,
    /// Its sequence number.
    pub seq: u64,
    /// Its leaf hash.
    #[serde(with = "hex_hash")]
    pub leaf: Hash,
}

/// Hashes as hex strings.
mod hex_hash {
    use crate::merkle::Hash;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hash: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hash.to_hex())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Hash, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("not a 64-digit hex hash"))
    }

    /// Lists of hashes.
    pub(super) mod list {
        use crate::merkle::Hash;
        use serde::{Deserialize as _, Deserializer, Serializer};

        pub(in super::super) fn serialize<S: Serializer>(
            hashes: &[Hash],
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            serializer.collect_seq(hashes.iter().map(Hash::to_hex))
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Vec<Hash>, D::Error> {
            Vec::<String>::deserialize(deserializer)?
                .iter()
                .map(|text| {
                    Hash::from_hex(text)
                        .ok_or_else(|| serde::de::Error::custom("not a 64-digit hex hash"))
                })
                .collect()
        }
    }
}

impl Default for TailState {
    fn default() -> Self {
        Self {
            generation: 0,
            records: 0,
            last_seq: None,
            last_leaf: Hash::ZERO,
            last_offset: 0,
            end: 0,
            direct_changes: 0,
            frontier: Vec::new(),
            missing: None,
        }
    }
}

impl TailState {
    /// Adds a record written at `offset` whose line (without newline) is `line` and spans `span`
    /// bytes.
    pub fn push(&mut self, seq: u64, leaf: Hash, offset: u64, span: u64, record: &Record) {
        self.frontier.push(leaf);
        let mut size = self.records;
        while size & 1 == 1 {
            let (Some(right), Some(left)) = (self.frontier.pop(), self.frontier.pop()) else {
                break;
            };
            self.frontier.push(node_hash(&left, &right));
            size >>= 1;
        }
        self.records += 1;
        self.last_seq = Some(seq);
        self.last_leaf = leaf;
        self.last_offset = offset;
        self.end = offset + span;
        if matches!(record, Record::Mark(m) if m.direct_production_change) {
            self.direct_changes += 1;
        }
    }

    /// The Merkle root of the acknowledged records (RFC 9162), from the frontier.
    pub fn root(&self) -> Hash {
        let mut hashes = self.frontier.iter().rev();
        let Some(last) = hashes.next() else {
            return Hash::digest(b"");
        };
        hashes.fold(*last, |acc, left| node_hash(left, &acc))
    }

    fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        let json = serde_json::to_vec(self)?;
        let mut slot = json.clone();
        slot.push(b'\n');
        slot.extend_from_slice(Hash::digest(&json).to_hex().as_bytes());
        slot.push(b'\n');
        Ok(slot)
    }

    fn decode(slot: &[u8]) -> Option<Self> {
        let end = slot.iter().position(|&b| b == b'\n')?;
        let (json, rest) = slot.split_at(end);
        let sum = rest
            .get(1..65)
            .and_then(|hex| std::str::from_utf8(hex).ok())?;
        if Hash::from_hex(sum)? != Hash::digest(json) {
            return None;
        }
        serde_json::from_slice(json).ok()
    }
}

/// Why the tail state cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The file could not be read, written or synced.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The state could not be encoded or does not fit a slot.
    #[error("cannot encode the tail state: {0}")]
    Encode(String),
    /// The last acknowledged record is not in the log any more.
    #[error(
        "the log was truncated or rewritten: the record acknowledged as seq {seq} (offset {offset}, leaf {leaf}) is not there; run `tollgate audit verify`"
    )]
    Missing {
        /// Its sequence number.
        seq: u64,
        /// Its offset.
        offset: u64,
        /// Its leaf hash.
        leaf: Hash,
    },
}

/// The tail state file of the log at `log`.
pub fn path_for(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// Opens (creating) the tail state file for reading and writing; also says whether it was created.
pub(crate) fn open(path: &Path) -> std::io::Result<(File, bool)> {
    let existed = path.exists();
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    Ok((file, !existed))
}

/// The newest valid slot of the file, if any.
pub fn read_file(mut file: &File) -> std::io::Result<Option<TailState>> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.take(2 * SLOT).read_to_end(&mut bytes)?;
    let slots = bytes.chunks(usize::try_from(SLOT).unwrap_or(usize::MAX));
    Ok(slots
        .filter_map(TailState::decode)
        .max_by_key(|state| state.generation))
}

/// The tail state at `path`; `None` when the file is missing or holds no valid slot.
pub fn read(path: &Path) -> std::io::Result<Option<TailState>> {
    match File::open(path) {
        Ok(file) => read_file(&file),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// Writes `state` into the slot of its generation and syncs it.
pub(crate) fn write(mut file: &File, state: &TailState) -> Result<(), TailError> {
    let mut slot = state
        .encode()
        .map_err(|e| TailError::Encode(e.to_string()))?;
    if slot.len() as u64 > SLOT {
        return Err(TailError::Encode(format!(
            "{} bytes do not fit a slot of {SLOT}",
            slot.len()
        )));
    }
    slot.resize(usize::try_from(SLOT).unwrap_or(usize::MAX), 0);
    file.seek(SeekFrom::Start((state.generation % 2) * SLOT))?;
    file.write_all(&slot)?;
    file.sync_data()?;
    Ok(())
}

/// Brings `state` (a new state when `None`) up to the first `len` bytes of `log` by reading
/// forward from its last record, which must still be there: the records a crash left past the
/// state, or, without a state, the whole log. Lines that are not records are skipped as
/// verification skips them; an unterminated line at the end that is not a record (an interrupted
/// append) is not read.
pub(crate) fn catch_up(
    log: &File,
    state: Option<TailState>,
    len: u64,
) -> Result<TailState, TailError> {
    let mut state = state.unwrap_or_default();
    let mut start = 0;
    if let Some(seq) = state.last_seq {
        let found = crate::lines::read_line_at(log, state.last_offset)?;
        let intact = found.as_ref().is_some_and(|line| {
            state.last_offset + line.span() <= len && leaf_hash(&line.bytes) == state.last_leaf
        });
        if !intact {
            return Err(TailError::Missing {
                seq,
                offset: state.last_offset,
                leaf: state.last_leaf,
            });
        }
        start = state.end;
    }
    if start >= len {
        return Ok(state);
    }
    let mut lines = Lines::from_file(log.try_clone()?, start, 0)?;
    while let Some(line) = lines.next_line()? {
        if line.offset + line.span() > len {
            break;
        }
        push_line(&mut state, &line);
    }
    Ok(state)
}

fn push_line(state: &mut TailState, line: &RawLine) {
    if let Ok(entry) = frame::decode(&line.bytes) {
        let leaf = leaf_hash(&line.bytes);
        state.push(entry.seq, leaf, line.offset, line.span(), &entry.record);
    }
}

impl TailState {
    /// The last acknowledged record, if any.
    pub fn last(&self) -> Option<Acknowledged> {
        self.last_seq.map(|seq| Acknowledged {
            records: self.records,
            seq,
            leaf: self.last_leaf,
        })
    }
}

/// The problem of a log that lacks a record its tail state acknowledged: the one an append found
/// missing earlier, else the last one.
pub fn check(verification: &Verification, state: &TailState) -> Option<Problem> {
    [state.missing.clone(), state.last()]
        .into_iter()
        .flatten()
        .find_map(|acknowledged| check_one(verification, &acknowledged))
}

fn check_one(verification: &Verification, acknowledged: &Acknowledged) -> Option<Problem> {
    let present = verification
        .records
        .iter()
        .rev()
        .any(|r| r.seq == acknowledged.seq && r.leaf == acknowledged.leaf);
    // A record that is there but damaged is reported as modified, not as a truncation.
    let damaged = verification
        .problems
        .iter()
        .any(|p| matches!(p, Problem::Modified { seq: Some(seq), .. } if *seq >= acknowledged.seq));
    (!present && !damaged).then(|| Problem::TruncatedAcknowledged {
        acknowledged: acknowledged.records,
        last_seq: acknowledged.seq,
        log_size: verification.size(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle;

    #[test]
    fn the_frontier_gives_the_root_of_every_size() {
        let mut state = TailState::default();
        let mut leaves = Vec::new();
        assert_eq!(state.root(), merkle::root(&leaves));
        let record = Record::Unreadable(crate::record::UnreadableRecord {
            raw: serde_json::Value::Null,
            error: String::new(),
        });
        for i in 0..70u32 {
            let leaf = leaf_hash(&i.to_be_bytes());
            leaves.push(leaf);
            state.push(u64::from(i), leaf, 0, 1, &record);
            assert_eq!(state.root(), merkle::root(&leaves), "size {}", i + 1);
            assert_eq!(state.frontier.len() as u32, (i + 1).count_ones());
        }
    }

    #[test]
    fn a_torn_slot_leaves_the_other_one() {
        let state = TailState {
            generation: 7,
            records: 3,
            ..TailState::default()
        };
        let encoded = state.encode().unwrap();
        assert_eq!(TailState::decode(&encoded), Some(state.clone()));
        let mut torn = encoded.clone();
        torn[5] ^= 1;
        assert_eq!(TailState::decode(&torn), None);
    }
}
