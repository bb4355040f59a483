//! Seals: a writer's Ed25519 signature over the records of one append, appended right after them
//! in the same append (one write and one `fdatasync` for a file, one transaction for PostgreSQL).
//!
//! A seal names every record it covers by id and by the SHA-256 of the record's exact JSON bytes
//! as framed (what follows `"record":` in its line), so sealing does not depend on sequence
//! numbers or chain links. With writers configured, every decision, rejected, mark and access
//! record must be covered by exactly one valid seal of a listed writer key: whoever can only
//! write the log (a member of `tollgate_writer`, an account with write access to the file) can
//! append a well-formed, chained record, but not one that verifies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::checkpoint::{SigningKey, VerifierKey};
use crate::error::AuditError;
use crate::log::{Appended, RawLine};
use crate::project::{Project, ProjectError};
use crate::record::Record;
pub use crate::seal_record::{Cover, SealRecord};
use crate::store::AuditLog;
use crate::verify::{Problem, SealSummary, Verification};

/// Hex SHA-256 of a record's JSON bytes exactly as [`crate::frame::encode`] writes them.
pub fn record_digest(record: &Record) -> Result<String, AuditError> {
    let json = serde_json::to_string(record).map_err(|e| AuditError::Encode(e.to_string()))?;
    Ok(crate::Hash::digest(json.as_bytes()).to_hex())
}

/// The bytes of a framed line's record: after `,"record":`, before `,"sum":"`.
pub fn record_bytes(line: &[u8]) -> Option<&[u8]> {
    const RECORD: &[u8] = b",\"record\":";
    const SUM: &[u8] = b",\"sum\":\"";
    let start = line.windows(RECORD.len()).position(|w| w == RECORD)? + RECORD.len();
    let end = line.windows(SUM.len()).rposition(|w| w == SUM)?;
    line.get(start..end)
}

/// Whether a record must be sealed: everything but recoveries (written by the log itself) and
/// seals.
pub fn needs_seal(record: &Record) -> bool {
    !matches!(record, Record::Recovery(_) | Record::Seal(_))
}

/// A writer's seal key: seals the records of every append.
#[derive(Debug)]
pub struct Sealer {
    key: SigningKey,
}

impl Sealer {
    /// A sealer with the writer's signing key.
    pub fn new(key: SigningKey) -> Self {
        Self { key }
    }

    /// The writer's key name.
    pub fn name(&self) -> &str {
        self.key.name()
    }

    /// The seal of `records`.
    pub fn seal(&self, records: &[Record]) -> Result<SealRecord, AuditError> {
        let covers = records
            .iter()
            .map(|record| {
                Ok(Cover {
                    id: record.id().to_owned(),
                    sha256: record_digest(record)?,
                })
            })
            .collect::<Result<_, AuditError>>()?;
        let mut seal = SealRecord {
            id: crate::new_id(),
            recorded_at: crate::now(),
            writer: self.key.name().to_owned(),
            key_id: format!("{:08x}", self.key.id()),
            covers,
            signature: String::new(),
        };
        seal.signature = BASE64.encode(self.key.sign_message(&seal.signed_text()));
        Ok(seal)
    }
}

/// Appends `records` and, with a sealer, their seal right after them in the same append; returns
/// the records' [`Appended`] (not the seal's) once all are durable.
pub fn append_sealed(
    log: &AuditLog,
    sealer: Option<&Sealer>,
    records: &[Record],
) -> Result<Vec<Appended>, AuditError> {
    let Some(sealer) = sealer else {
        return log.append_all(records);
    };
    let mut batch = records.to_vec();
    batch.push(Record::Seal(sealer.seal(records)?));
    let mut appended = log.append_all(&batch)?;
    appended.truncate(records.len());
    Ok(appended)
}

/// The writers whose seals verification accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Writers {
    /// Their verifier keys.
    pub keys: Vec<VerifierKey>,
    /// Records with a smaller sequence number predate seals and need none.
    pub seals_from: Option<u64>,
}

impl Writers {
    /// The writers of `project`: its `audit.writers` key files (relative to the project
    /// directory) and `extra` ones (as given), with `seals_from` overriding `audit.seals_from`.
    /// None when no writer is listed: seals are not checked.
    pub fn of_project(
        project: &Project,
        extra: &[PathBuf],
        seals_from: Option<u64>,
    ) -> Result<Option<Self>, ProjectError> {
        let configured = project.config.writers.iter().map(|p| project.dir.join(p));
        let keys = configured
            .chain(extra.iter().cloned())
            .map(|path| read_verifier(&path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!keys.is_empty()).then(|| Self {
            keys,
            seals_from: seals_from.or(project.config.seals_from),
        }))
    }
}

fn read_verifier(path: &Path) -> Result<VerifierKey, ProjectError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ProjectError::Invalid(format!(
            "failed to read the writer key `{}`: {e}",
            path.display()
        ))
    })?;
    VerifierKey::parse(&text)
        .map_err(|e| ProjectError::Invalid(format!("invalid writer key `{}`: {e}", path.display())))
}

impl Sealer {
    /// The seal key of `project`'s writers: `path` (as given), else `audit.writer_key`
    /// (relative to the project directory); none when neither is set.
    pub fn of_project(
        project: &Project,
        path: Option<&Path>,
    ) -> Result<Option<Self>, ProjectError> {
        let path = path.map(Path::to_path_buf).or_else(|| {
            project
                .config
                .writer_key
                .as_ref()
                .map(|p| project.dir.join(p))
        });
        path.map(|path| project.signing_key(Some(&path)).map(Self::new))
            .transpose()
    }
}

/// A record still waiting for its seal.
struct Pending {
    index: usize,
    digest: Option<String>,
}

impl Verification {
    /// Checks that every record needing a seal ([`needs_seal`]) is covered by exactly one valid
    /// seal of `writers`, adding a problem for each one that is not and each bad seal. `lines`
    /// are the lines this verification was made from.
    pub fn check_seals(&mut self, lines: &[RawLine], writers: &Writers) -> SealSummary {
        let bytes_of: HashMap<u64, &[u8]> = lines
            .iter()
            .map(|l| (l.number, l.bytes.as_slice()))
            .collect();
        let mut summary = SealSummary::default();
        let mut problems = Vec::new();
        let mut pending: HashMap<String, Vec<Pending>> = HashMap::new();
        let mut sealed_at: HashMap<String, u64> = HashMap::new();
        let mut first_seal: Option<usize> = None;
        for (index, logged) in self.records.iter().enumerate() {
            let Record::Seal(seal) = &logged.record else {
                if needs_seal(&logged.record) {
                    let digest = bytes_of
                        .get(&logged.line)
                        .and_then(|line| record_bytes(line))
                        .map(|record| crate::Hash::digest(record).to_hex());
                    pending
                        .entry(logged.record.id().to_owned())
                        .or_default()
                        .push(Pending { index, digest });
                }
                continue;
            };
            let bad = |detail: String| Problem::BadSeal {
                line: logged.line,
                seq: logged.seq,
                detail,
            };
            let Some(key) = writers.keys.iter().find(|k| seal.verifies_with(k)) else {
                let listed = writers
                    .keys
                    .iter()
                    .any(|k| k.name() == seal.writer && format!("{:08x}", k.id()) == seal.key_id);
                problems.push(bad(if listed {
                    format!(
                        "its signature by writer `{}` does not verify: the seal was altered or signed by another key",
                        seal.writer
                    )
                } else {
                    format!(
                        "it is signed by `{}` (key id {}), which is not a configured writer",
                        seal.writer, seal.key_id
                    )
                }));
                continue;
            };
            summary.seals += 1;
            *summary.by_writer.entry(key.name().to_owned()).or_default() += 1;
            first_seal.get_or_insert(index);
            for cover in &seal.covers {
                if let Some(line) = sealed_at.get(&cover.id) {
                    problems.push(bad(format!(
                        "it covers record `{}` again (already sealed by the seal at line {line}): a replayed record",
                        cover.id
                    )));
                    continue;
                }
                let waiting = pending.get_mut(&cover.id);
                let Some(waiting) = waiting.filter(|w| !w.is_empty()) else {
                    problems.push(bad(format!(
                        "it covers record `{}`, which is not before it in the log: it was deleted or its id was changed",
                        cover.id
                    )));
                    continue;
                };
                let matched = waiting
                    .iter()
                    .position(|p| p.digest.as_deref() == Some(cover.sha256.as_str()));
                match matched {
                    Some(position) => {
                        waiting.remove(position);
                        summary.sealed += 1;
                        sealed_at.insert(cover.id.clone(), logged.line);
                    }
                    None => {
                        let changed = waiting.remove(0);
                        let record = &self.records[changed.index];
                        problems.push(bad(format!(
                            "record `{}` at line {} (seq {}) does not match it: the record was changed after it was sealed",
                            cover.id, record.line, record.seq
                        )));
                        sealed_at.insert(cover.id.clone(), logged.line);
                    }
                }
            }
        }
        let mut unsealed: Vec<usize> = pending.into_values().flatten().map(|p| p.index).collect();
        unsealed.sort_unstable();
        let mut before_first = Vec::new();
        for index in unsealed {
            let record = &self.records[index];
            if writers.seals_from.is_some_and(|from| record.seq < from) {
                summary.before_seals += 1;
            } else if writers.seals_from.is_none() && first_seal.is_none_or(|first| index < first) {
                before_first.push(index);
            } else {
                problems.push(Problem::Unsealed {
                    line: record.line,
                    seq: record.seq,
                    id: record.record.id().to_owned(),
                });
            }
        }
        if let (Some(&first), Some(&last)) = (before_first.first(), before_first.last()) {
            problems.push(Problem::UnsealedBeforeSeals {
                records: before_first.len() as u64,
                from_seq: self.records[first].seq,
                to_seq: self.records[last].seq,
                first_seal_seq: first_seal.map(|i| self.records[i].seq),
            });
        }
        problems.sort_by_key(|p| match p {
            Problem::BadSeal { line, .. } | Problem::Unsealed { line, .. } => *line,
            _ => 0,
        });
        self.problems.extend(problems);
        summary
    }
}

impl AuditLog {
    /// As [`AuditLog::verify`], and with `writers`, checks that every record is sealed by one of
    /// them ([`crate::seal`]).
    pub fn verify_sealed(
        &self,
        checkpoint: Option<&crate::checkpoint::Checkpoint>,
        writers: Option<&Writers>,
    ) -> Result<Verification, AuditError> {
        // Read before the lines: a state newer than the lines read is never taken for a truncation.
        let acknowledged = self.acknowledged()?;
        let lines = self.read_lines()?;
        let mut verification = crate::verify::verify(&lines, checkpoint);
        if let Some(problem) =
            acknowledged.and_then(|state| crate::tail::check(&verification, &state))
        {
            verification.problems.push(problem);
        }
        if let Some(writers) = writers {
            verification.seals = Some(verification.check_seals(&lines, writers));
        }
        Ok(verification)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_bytes_are_what_the_frame_wrote() {
        let record = Record::Recovery(crate::RecoveryRecord {
            id: "r".into(),
            recorded_at: crate::now(),
            offset: 1,
            length: 2,
            digest: "sha256:00".into(),
        });
        let line = crate::frame::encode(3, &crate::Hash::ZERO, &record).unwrap();
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(record_bytes(&line), Some(json.as_bytes()));
        assert_eq!(
            crate::Hash::digest(record_bytes(&line).unwrap()).to_hex(),
            record_digest(&record).unwrap()
        );
    }

    #[test]
    fn a_seal_verifies_only_with_its_writer_and_unaltered() {
        let key = SigningKey::from_seed("gateway-1", [3; 32]).unwrap();
        let other = SigningKey::from_seed("gateway-1", [4; 32]).unwrap();
        let sealer = Sealer::new(SigningKey::from_seed("gateway-1", [3; 32]).unwrap());
        let seal = sealer.seal(&[]).unwrap();
        assert!(seal.verifies_with(&key.verifier()));
        assert!(!seal.verifies_with(&other.verifier()));
        let mut altered = seal.clone();
        altered.covers.push(Cover {
            id: "forged".into(),
            sha256: "00".into(),
        });
        assert!(!altered.verifies_with(&key.verifier()));
    }
}
