//! Verification of a log: every line's checksum, the sequence numbers, the hash chain and, against
//! a signed checkpoint, the Merkle root and a consistency proof. Problems say which record.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::frame;
use crate::lines::RawLine;
use crate::merkle::{self, Hash, leaf_hash};
use crate::record::{Record, sha256_digest};

/// A valid record of the log, where it is and its hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRecord {
    /// Line number, from 1.
    pub line: u64,
    /// Byte offset.
    pub offset: u64,
    /// Sequence number the record carries.
    pub seq: u64,
    /// Its Merkle leaf index (its position among the valid records).
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The chain link it carries.
    pub prev: Hash,
    /// The record.
    pub record: Record,
}

/// Something verification found wrong, naming the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A line is not a valid record (checksum mismatch, bad JSON), or a record's hash does not match
    /// the link its successor carries.
    Modified {
        /// Line number.
        line: u64,
        /// Sequence number, when readable.
        seq: Option<u64>,
        /// What is wrong.
        detail: String,
    },
    /// Records are missing from the sequence.
    Deleted {
        /// First missing sequence number.
        from_seq: u64,
        /// Last missing sequence number.
        to_seq: u64,
    },
    /// A record was inserted: its sequence number is already taken or it is not linked into the chain.
    Inserted {
        /// Line number.
        line: u64,
        /// Sequence number it carries.
        seq: u64,
    },
    /// A record is out of order.
    Reordered {
        /// Line number.
        line: u64,
        /// Sequence number it carries.
        seq: u64,
    },
    /// The log has fewer records than a checkpoint covers.
    Truncated {
        /// Records the checkpoint covers.
        checkpoint_size: u64,
        /// Records in the log.
        log_size: u64,
    },
    /// With writers configured: a record no valid seal of a listed writer covers (a record
    /// written by someone without a writer key: forged).
    Unsealed {
        /// Line number.
        line: u64,
        /// Sequence number.
        seq: u64,
        /// Record id.
        id: String,
    },
    /// A seal that does not verify, is not by a listed writer, or does not match what it covers.
    BadSeal {
        /// Line number of the seal.
        line: u64,
        /// Sequence number of the seal.
        seq: u64,
        /// What is wrong.
        detail: String,
    },
    /// With writers configured and no `seals_from`: records before the log's first seal (a log
    /// started before seals were adopted), reported once.
    UnsealedBeforeSeals {
        /// How many.
        records: u64,
        /// The first one's sequence number.
        from_seq: u64,
        /// The last one's sequence number.
        to_seq: u64,
        /// The first valid seal's sequence number, if any.
        first_seal_seq: Option<u64>,
    },
    /// Records acknowledged to their writers (the tail state of a file log) are missing from the
    /// end of the log: it was truncated.
    TruncatedAcknowledged {
        /// Records acknowledged.
        acknowledged: u64,
        /// Sequence number of the last acknowledged record.
        last_seq: u64,
        /// Records in the log.
        log_size: u64,
    },
    /// The first records of the log do not hash to the checkpoint's root.
    CheckpointMismatch {
        /// Records the checkpoint covers.
        size: u64,
        /// Root in the checkpoint.
        expected_root: String,
        /// Root of the log's first `size` records.
        actual_root: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Modified { line, seq, detail } => {
                let seq = seq.map(|s| format!(" (seq {s})")).unwrap_or_default();
                write!(f, "record at line {line}{seq} was modified: {detail}")
            }
            Self::Deleted { from_seq, to_seq } if from_seq == to_seq => {
                write!(f, "record seq {from_seq} was deleted")
            }
            Self::Deleted { from_seq, to_seq } => {
                write!(f, "records seq {from_seq} to {to_seq} were deleted")
            }
            Self::Inserted { line, seq } => write!(
                f,
                "record at line {line} (seq {seq}) was inserted: it is not part of the hash chain"
            ),
            Self::Reordered { line, seq } => {
                write!(f, "record at line {line} (seq {seq}) is out of order")
            }
            Self::Truncated {
                checkpoint_size,
                log_size,
            } => write!(
                f,
                "log was truncated: the checkpoint covers {checkpoint_size} records, the log has {log_size}"
            ),
            Self::Unsealed { line, seq, id } => write!(
                f,
                "record at line {line} (seq {seq}, id `{id}`) is unsealed: no configured writer sealed it, so it was not written by a Tollgate writer (a forged record)"
            ),
            Self::BadSeal { line, seq, detail } => {
                write!(f, "bad seal at line {line} (seq {seq}): {detail}")
            }
            Self::UnsealedBeforeSeals {
                records,
                from_seq,
                to_seq,
                first_seal_seq,
            } => match first_seal_seq {
                Some(first) => write!(
                    f,
                    "{records} records (seq {from_seq} to {to_seq}) are unsealed, before the log's first seal (seq {first}): if they predate the adoption of seals, set `audit.seals_from` (or `--seals-from`) to the first sealed sequence number"
                ),
                None => write!(
                    f,
                    "{records} records (seq {from_seq} to {to_seq}) are unsealed and the log holds no valid seal: configure `audit.writer_key` on every writer, or set `audit.seals_from` for a log that predates seals"
                ),
            },
            Self::TruncatedAcknowledged {
                acknowledged,
                last_seq,
                log_size,
            } => write!(
                f,
                "log was truncated: {acknowledged} records were acknowledged to writers (the last, seq {last_seq}, per the tail state), the log holds {log_size} and not the last acknowledged one"
            ),
            Self::CheckpointMismatch {
                size,
                expected_root,
                actual_root,
            } => write!(
                f,
                "the first {size} records hash to {actual_root}, not to the checkpoint's root {expected_root}: records were modified, deleted, inserted or reordered"
            ),
        }
    }
}

/// Bytes of an interrupted append at the end of the file: not a record, and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TornTail {
    /// Line number.
    pub line: u64,
    /// Byte offset.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
}

/// Bytes of an interrupted append that a later append set aside with a recovery record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// First line of the torn bytes.
    pub line: u64,
    /// Byte offset.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Sequence number of the recovery record.
    pub recovery_seq: u64,
}

/// The comparison of the log with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointCheck {
    /// Checkpoint origin.
    pub origin: String,
    /// Records it covers.
    pub size: u64,
    /// Its root (hex).
    pub root: String,
    /// Whether the log's first `size` records hash to that root and the log extends it.
    pub consistent: bool,
    /// The RFC 9162 consistency proof from the checkpoint to the whole log (hex hashes), when
    /// consistent.
    pub consistency_proof: Vec<String>,
}

/// The result of verifying a log.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// Every valid record, in file order.
    pub records: Vec<LoggedRecord>,
    /// Merkle root over the valid records.
    pub root: Hash,
    /// What is wrong; empty when the log is intact.
    pub problems: Vec<Problem>,
    /// An interrupted append at the end of the file, if any (not a record; the next append sets
    /// it aside).
    pub torn_tail: Option<TornTail>,
    /// Earlier interrupted appends, set aside.
    pub recovered: Vec<Recovered>,
    /// The comparison with a checkpoint, if one was given.
    pub checkpoint: Option<CheckpointCheck>,
    /// The seal check, when writers were given ([`crate::seal`]).
    pub seals: Option<SealSummary>,
}

impl Verification {
    /// Whether no problem was found (a torn tail is not a problem: it was never acknowledged).
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Number of records (Merkle tree size).
    pub fn size(&self) -> u64 {
        self.records.len() as u64
    }

    /// The leaf hashes, in order.
    pub fn leaves(&self) -> Vec<Hash> {
        self.records.iter().map(|r| r.leaf).collect()
    }
}

/// A run of consecutive invalid lines.
struct Invalid<'a> {
    lines: Vec<(&'a RawLine, String)>,
}

impl Invalid<'_> {
    fn offset(&self) -> u64 {
        self.lines.first().map_or(0, |(l, _)| l.offset)
    }

    fn length(&self) -> u64 {
        self.lines.iter().map(|(l, _)| l.span()).sum()
    }

    fn digest(&self) -> String {
        let mut bytes = Vec::new();
        for (line, _) in &self.lines {
            bytes.extend_from_slice(&line.bytes);
            if line.terminated {
                bytes.push(b'\n');
            }
        }
        sha256_digest(&bytes)
    }
}

/// Verifies the lines of a log, optionally against a checkpoint whose signature was already
/// checked.
pub fn verify(lines: &[RawLine], checkpoint: Option<&Checkpoint>) -> Verification {
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut recovered = Vec::new();
    let mut malformed: Vec<(u64, Option<u64>)> = Vec::new();
    let mut run: Vec<(&RawLine, String)> = Vec::new();
    let modified = |line: &RawLine, detail: String| Problem::Modified {
        line: line.number,
        seq: frame::seq_hint(&line.bytes),
        detail,
    };
    for (line, (decoded, leaf)) in lines.iter().zip(decode_lines(lines)) {
        match decoded {
            Err(reason) => run.push((line, reason.to_string())),
            Ok(entry) => {
                let invalid = Invalid {
                    lines: std::mem::take(&mut run),
                };
                let covered = match &entry.record {
                    Record::Recovery(r) => {
                        let matches = !invalid.lines.is_empty()
                            && r.offset == invalid.offset()
                            && r.length == invalid.length()
                            && r.digest == invalid.digest();
                        if !matches {
                            problems.push(modified(
                                line,
                                "a recovery record that does not name the torn bytes before it"
                                    .to_owned(),
                            ));
                        }
                        matches
                    }
                    _ => false,
                };
                if covered {
                    if let Some((first, _)) = invalid.lines.first() {
                        recovered.push(Recovered {
                            line: first.number,
                            offset: invalid.offset(),
                            length: invalid.length(),
                            recovery_seq: entry.seq,
                        });
                    }
                    // A cut line is crash debris; a whole line (checksum at its end) that does
                    // not verify was damaged or tampered with, whoever set it aside.
                    for (bad, reason) in &invalid.lines {
                        if !reason.starts_with(frame::INCOMPLETE) {
                            malformed.push((bad.number, frame::seq_hint(&bad.bytes)));
                            problems.push(modified(
                                bad,
                                format!(
                                    "{reason} (set aside by the recovery record seq {}, but a whole line is damage or tampering, not an interrupted append)",
                                    entry.seq
                                ),
                            ));
                        }
                    }
                } else {
                    for (bad, reason) in invalid.lines {
                        malformed.push((bad.number, frame::seq_hint(&bad.bytes)));
                        problems.push(modified(bad, reason));
                    }
                }
                records.push(LoggedRecord {
                    line: line.number,
                    offset: line.offset,
                    seq: entry.seq,
                    index: records.len() as u64,
                    leaf,
                    prev: entry.prev,
                    record: entry.record,
                });
            }
        }
    }
    // An unterminated run at the very end is an interrupted append; anything else is damage.
    let mut torn_tail = None;
    if let [.., (last, _)] = run.as_slice() {
        if run.len() == 1 && !last.terminated {
            torn_tail = Some(TornTail {
                line: last.number,
                offset: last.offset,
                length: last.span(),
            });
        } else {
            for (bad, reason) in &run {
                malformed.push((bad.number, frame::seq_hint(&bad.bytes)));
                problems.push(modified(bad, reason.clone()));
            }
        }
    }
    problems.extend(sequence_problems(&records, &malformed));
    let leaves: Vec<Hash> = records.iter().map(|r| r.leaf).collect();
    let root = merkle::root(&leaves);
    let checkpoint = checkpoint.map(|c| check_checkpoint(c, &leaves, &root, &mut problems));
    Verification {
        records,
        root,
        problems,
        torn_tail,
        recovered,
        checkpoint,
        seals: None,
    }
}

/// Lines below which decoding stays on the calling thread.
const PARALLEL_FROM_LINES: usize = 512;

/// Every line decoded, with its leaf hash, in order. Lines are independent, so large logs are
/// decoded on every core: parsing and hashing the records is most of a verification's time.
fn decode_lines(lines: &[RawLine]) -> Vec<(Result<frame::Entry, frame::FrameError>, Hash)> {
    let decode = |line: &RawLine| (frame::decode(&line.bytes), leaf_hash(&line.bytes));
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if threads < 2 || lines.len() < PARALLEL_FROM_LINES {
        return lines.iter().map(decode).collect();
    }
    let chunk = lines.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = lines
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(decode).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| match part.join() {
                Ok(decoded) => decoded,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

fn check_checkpoint(
    checkpoint: &Checkpoint,
    leaves: &[Hash],
    root: &Hash,
    problems: &mut Vec<Problem>,
) -> CheckpointCheck {
    let size = checkpoint.size;
    let mut check = CheckpointCheck {
        origin: checkpoint.origin.clone(),
        size,
        root: checkpoint.root.to_hex(),
        consistent: false,
        consistency_proof: Vec::new(),
    };
    let Ok(old) = usize::try_from(size) else {
        return check;
    };
    if old > leaves.len() {
        problems.push(Problem::Truncated {
            checkpoint_size: size,
            log_size: leaves.len() as u64,
        });
        return check;
    }
    let actual = merkle::root(&leaves[..old]);
    if actual != checkpoint.root {
        problems.push(Problem::CheckpointMismatch {
            size,
            expected_root: checkpoint.root.to_hex(),
            actual_root: actual.to_hex(),
        });
        return check;
    }
    if let Some(proof) = merkle::consistency_proof(leaves, old) {
        check.consistent =
            merkle::verify_consistency(size, leaves.len() as u64, &checkpoint.root, root, &proof);
        check.consistency_proof = proof.iter().map(Hash::to_hex).collect();
    }
    check
}

/// Sequence numbers and chain links: which records were deleted, inserted, reordered or modified.
fn sequence_problems(records: &[LoggedRecord], malformed: &[(u64, Option<u64>)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut by_seq: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        by_seq.entry(r.seq).or_default().push(i);
    }
    let links_to = |seq: u64, leaf: &Hash| {
        by_seq
            .get(&(seq + 1))
            .is_some_and(|next| next.iter().any(|&j| records[j].prev == *leaf))
    };
    // One record per sequence number: the one the chain runs through.
    let mut kept: BTreeMap<u64, usize> = BTreeMap::new();
    for (&seq, candidates) in &by_seq {
        let expected_prev = if seq == 0 {
            Some(Hash::ZERO)
        } else {
            kept.get(&(seq - 1)).map(|&j| records[j].leaf)
        };
        let chosen = candidates
            .iter()
            .copied()
            .find(|&i| links_to(seq, &records[i].leaf))
            .or_else(|| {
                candidates
                    .iter()
                    .copied()
                    .find(|&i| Some(records[i].prev) == expected_prev)
            })
            .or_else(|| candidates.first().copied());
        if let Some(chosen) = chosen {
            kept.insert(seq, chosen);
            for &other in candidates.iter().filter(|&&i| i != chosen) {
                problems.push(Problem::Inserted {
                    line: records[other].line,
                    seq,
                });
            }
        }
    }
    // Records out of file order: those outside a longest increasing run of sequence numbers.
    let mut order: Vec<usize> = kept.values().copied().collect();
    order.sort_unstable();
    let in_order = longest_increasing(&order.iter().map(|&i| records[i].seq).collect::<Vec<_>>());
    let mut removed = BTreeSet::new();
    for (position, &i) in order.iter().enumerate() {
        if in_order.contains(&position) {
            continue;
        }
        let r = &records[i];
        let linked_back = if r.seq == 0 {
            r.prev == Hash::ZERO
        } else {
            kept.get(&(r.seq - 1))
                .is_some_and(|&j| records[j].leaf == r.prev)
        };
        if linked_back || links_to(r.seq, &r.leaf) {
            problems.push(Problem::Reordered {
                line: r.line,
                seq: r.seq,
            });
        } else {
            problems.push(Problem::Inserted {
                line: r.line,
                seq: r.seq,
            });
            removed.insert(r.seq);
        }
    }
    for seq in &removed {
        kept.remove(seq);
    }
    // Gaps in the sequence: deleted records, unless a damaged line sits where they were.
    let line_of = |seq: u64| kept.get(&seq).map(|&i| records[i].line);
    if let Some(&max) = kept.keys().next_back() {
        let mut seq = 0;
        while seq <= max {
            if kept.contains_key(&seq) {
                seq += 1;
                continue;
            }
            let from = seq;
            while seq <= max && !kept.contains_key(&seq) {
                seq += 1;
            }
            let to = seq - 1;
            let after = from.checked_sub(1).and_then(line_of).unwrap_or(0);
            let before = line_of(seq).unwrap_or(u64::MAX);
            let damaged_between = malformed
                .iter()
                .any(|&(line, _)| line > after && line < before);
            if !damaged_between {
                problems.push(Problem::Deleted {
                    from_seq: from,
                    to_seq: to,
                });
            }
        }
    }
    // Chain links: each record must carry its predecessor's leaf hash.
    for (&seq, &i) in &kept {
        let r = &records[i];
        if seq == 0 {
            if r.prev != Hash::ZERO {
                problems.push(Problem::Modified {
                    line: r.line,
                    seq: Some(0),
                    detail: "the first record does not start the chain".to_owned(),
                });
            }
            continue;
        }
        if let Some(&j) = kept.get(&(seq - 1))
            && records[j].leaf != r.prev
        {
            problems.push(Problem::Modified {
                line: records[j].line,
                seq: Some(seq - 1),
                detail: format!(
                    "its hash does not match the link in record seq {seq} (line {}): one of the two was rewritten",
                    r.line
                ),
            });
        }
    }
    problems
}

/// Positions of one longest strictly increasing subsequence.
fn longest_increasing(values: &[u64]) -> BTreeSet<usize> {
    // tails[k]: index of the smallest tail of an increasing run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut parent: Vec<Option<usize>> = vec![None; values.len()];
    for (i, &v) in values.iter().enumerate() {
        let k = tails.partition_point(|&t| values[t] < v);
        parent[i] = k.checked_sub(1).map(|p| tails[p]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut positions = BTreeSet::new();
    let mut cursor = tails.last().copied();
    while let Some(i) = cursor {
        positions.insert(i);
        cursor = parent[i];
    }
    positions
}

/// What the seal check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SealSummary {
    /// Seals that verify with a listed writer key.
    pub seals: u64,
    /// Records covered by one of them.
    pub sealed: u64,
    /// Records before `seals_from`, accepted unsealed.
    pub before_seals: u64,
    /// Valid seals per writer key name.
    pub by_writer: BTreeMap<String, u64>,
}
