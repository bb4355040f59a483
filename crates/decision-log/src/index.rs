//! The lookup index of a file log (`<log>.index/`): record id → record, sequence number → record,
//! change id → its first approved decision and its latest decision, so `tollgate audit mark`,
//! `POST /v1/marks` and `audit show` find a record in O(log² n) reads, whatever the log's length.
//!
//! The log stays the source of truth: the index only says where to look, and every record it
//! names is read from the log and checked (checksum, sequence number, id or change) before it is
//! used. An index that names a record wrongly, does not match the log's records any more (a
//! rewritten log) or cannot be read is deleted and rebuilt from the log.
//!
//! Layout (a log-structured merge of sorted runs): entries of 32 bytes (a 16-byte key, the
//! sequence number and the offset, big-endian, so byte order sorts them); a `journal` of checksummed
//! batches, appended without syncing and read whole (at most [`JOURNAL_CAP`] entries); sorted
//! `run-N` files, each written, synced and renamed into place, merged two by two while the older is
//! at most twice the newer (so there are O(log n) runs); and a `manifest` (runs and how far into
//! the log they cover) replaced atomically. A batch lost or torn by a crash is read again from the
//! log. Memory stays bounded by the journal and a read buffer, whatever the log's length.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{BufReader, BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::frame;
use crate::lines::{Lines, read_line_at};
use crate::merkle::{Hash, leaf_hash};
use crate::record::{Record, RecordedOutcome};

/// The suffix of the index directory's name, after the log's.
pub const SUFFIX: &str = ".index";

/// Entries the journal holds before they are sorted into a run.
pub const JOURNAL_CAP: usize = 4096;

/// Bytes of log an appender indexes after its append; a longer gap is left to the next lookup.
const APPEND_CATCH_UP: u64 = 16 << 20;

const ENTRY: usize = 32;
const BATCH_MAGIC: &[u8; 4] = b"TGJB";
const BATCH_HEADER: usize = 4 + 4 + 8 + 8 + 8 + 32;
const NO_OFFSET: u64 = u64::MAX;

/// What to find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The record with this sequence number.
    Seq(u64),
    /// The first record with this id.
    Id(&'a str),
    /// The first approved decision of a change (its deployment).
    FirstApproved(&'a str),
    /// The latest decision of a change.
    LatestDecision(&'a str),
}

impl Lookup<'_> {
    fn key(&self) -> [u8; 16] {
        match self {
            Self::Seq(seq) => key(b'S', &seq.to_be_bytes()),
            Self::Id(id) => key(b'I', id.as_bytes()),
            Self::FirstApproved(change) => key(b'A', change.as_bytes()),
            Self::LatestDecision(change) => key(b'C', change.as_bytes()),
        }
    }

    fn latest(&self) -> bool {
        matches!(self, Self::LatestDecision(_))
    }

    /// Whether the record `seq` is what this lookup asks for.
    pub fn matches(&self, seq: u64, record: &Record) -> bool {
        match (self, record) {
            (Self::Seq(wanted), _) => seq == *wanted,
            (Self::Id(id), _) => record.id() == *id,
            (Self::FirstApproved(change), Record::Decision(d)) => {
                d.change.id == *change && d.outcome == RecordedOutcome::Approved
            }
            (Self::LatestDecision(change), Record::Decision(d)) => d.change.id == *change,
            _ => false,
        }
    }

    /// Whether the first match in log order is wanted (else the last).
    pub fn first(&self) -> bool {
        !self.latest()
    }
}

/// A record found in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Its sequence number.
    pub seq: u64,
    /// Its byte offset (0 in a database log).
    pub offset: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// The record.
    pub record: Record,
}

/// Why the index could not be used (the caller falls back to the log or reports the log's error).
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A file of the index or the log could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Another process is updating the index.
    #[error("the index is being updated by another process")]
    Busy,
    /// The manifest could not be encoded.
    #[error("cannot encode the index manifest: {0}")]
    Encode(String),
}

fn key(tag: u8, data: &[u8]) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update([tag])
        .chain_update(data)
        .finalize();
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// One entry: a key and where its record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry([u8; ENTRY]);

impl Entry {
    fn new(key: [u8; 16], seq: u64, offset: u64) -> Self {
        let mut bytes = [0; ENTRY];
        bytes[..16].copy_from_slice(&key);
        bytes[16..24].copy_from_slice(&seq.to_be_bytes());
        bytes[24..].copy_from_slice(&offset.to_be_bytes());
        Self(bytes)
    }

    fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    fn key(&self) -> &[u8] {
        &self.0[..16]
    }

    fn seq(&self) -> u64 {
        u64::from_be_bytes(self.0[16..24].try_into().unwrap_or_default())
    }

    fn offset(&self) -> u64 {
        u64::from_be_bytes(self.0[24..].try_into().unwrap_or_default())
    }
}

/// The entries of a record.
fn entries_of(seq: u64, offset: u64, record: &Record, into: &mut Vec<Entry>) {
    into.push(Entry::new(Lookup::Seq(seq).key(), seq, offset));
    let id = record.id();
    if !id.is_empty() {
        into.push(Entry::new(Lookup::Id(id).key(), seq, offset));
    }
    if let Record::Decision(d) = record {
        into.push(Entry::new(
            Lookup::LatestDecision(&d.change.id).key(),
            seq,
            offset,
        ));
        if d.outcome == RecordedOutcome::Approved {
            into.push(Entry::new(
                Lookup::FirstApproved(&d.change.id).key(),
                seq,
                offset,
            ));
        }
    }
}

/// How far into the log the index reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Coverage {
    /// Offset of the first line not indexed.
    end: u64,
    /// Offset and leaf hash (hex) of the last record indexed.
    last: Option<(u64, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RunFile {
    name: String,
    entries: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Manifest {
    v: u32,
    runs: Vec<RunFile>,
    coverage: Coverage,
    next_run: u64,
}

/// The index directory of the log at `log`.
pub fn dir_for(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(SUFFIX);
    PathBuf::from(name)
}

/// An index opened under its lock.
struct Index {
    dir: PathBuf,
    _lock: File,
    manifest: Manifest,
    journal: Vec<Entry>,
    journal_file: File,
    journal_len: u64,
    coverage: Coverage,
}

impl Index {
    /// Opens the index of a log, waiting for its lock unless `wait` is false (then [`IndexError::Busy`]).
    fn open(dir: &Path, log: &File, wait: bool) -> Result<Self, IndexError> {
        fs::create_dir_all(dir)?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))?;
        if wait {
            lock.lock()?;
        } else {
            match lock.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(IndexError::Busy),
                Err(TryLockError::Error(e)) => return Err(e.into()),
            }
        }
        let journal_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("journal"))?;
        let mut index = Self {
            dir: dir.to_path_buf(),
            _lock: lock,
            manifest: Manifest::default(),
            journal: Vec::new(),
            journal_file,
            journal_len: 0,
            coverage: Coverage::default(),
        };
        if !index.load()? || !index.matches_log(log)? {
            index.reset()?;
        }
        Ok(index)
    }

    /// Reads the manifest and the journal; false when they are unusable.
    fn load(&mut self) -> Result<bool, IndexError> {
        let manifest = match fs::read(self.dir.join("manifest")) {
            Ok(bytes) => match serde_json::from_slice::<Manifest>(&bytes) {
                Ok(manifest) if manifest.v == 1 => manifest,
                _ => return Ok(false),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Manifest {
                v: 1,
                ..Manifest::default()
            },
            Err(e) => return Err(e.into()),
        };
        for run in &manifest.runs {
            let len = fs::metadata(self.dir.join(&run.name)).map(|m| m.len());
            if !matches!(len, Ok(len) if len == run.entries * ENTRY as u64) {
                return Ok(false);
            }
        }
        self.coverage = manifest.coverage.clone();
        self.manifest = manifest;
        let len = self.journal_file.metadata()?.len();
        if len > (JOURNAL_CAP * ENTRY * 4) as u64 {
            return Ok(false);
        }
        let mut bytes = Vec::new();
        self.journal_file.seek(SeekFrom::Start(0))?;
        (&self.journal_file).read_to_end(&mut bytes)?;
        let mut at = 0;
        while let Some((batch, size)) = Batch::decode(&bytes[at..]) {
            if batch.prev_end == self.coverage.end && batch.coverage.end >= self.coverage.end {
                self.journal.extend(batch.entries);
                self.coverage = batch.coverage;
            } else if batch.coverage.end > self.coverage.end {
                break;
            }
            at += size;
        }
        self.journal_len = at as u64;
        Ok(true)
    }

    /// Whether the last record the index covers is still in the log.
    fn matches_log(&self, log: &File) -> Result<bool, IndexError> {
        let Some((offset, leaf)) = &self.coverage.last else {
            return Ok(true);
        };
        Ok(
            read_line_at(log, *offset)?
                .is_some_and(|line| leaf_hash(&line.bytes).to_hex() == *leaf),
        )
    }

    /// Empties the index, to be built again from the log.
    fn reset(&mut self) -> Result<(), IndexError> {
        self.manifest = Manifest {
            v: 1,
            ..Manifest::default()
        };
        self.coverage = Coverage::default();
        self.journal.clear();
        self.journal_len = 0;
        self.journal_file.set_len(0)?;
        self.write_manifest()?;
        Ok(())
    }

    /// Indexes the lines of `log` after the coverage, up to `len` bytes.
    fn catch_up(&mut self, log: &File, len: u64) -> Result<(), IndexError> {
        if self.coverage.end >= len {
            return Ok(());
        }
        let mut lines = Lines::from_file(log.try_clone()?, self.coverage.end, 0)?;
        let mut pending = Vec::new();
        let mut reached = self.coverage.clone();
        while let Some(line) = lines.next_line()? {
            // An unterminated line may be an append in progress or torn bytes: not yet.
            if !line.terminated || line.offset + line.span() > len {
                break;
            }
            if let Ok(entry) = frame::decode(&line.bytes) {
                entries_of(entry.seq, line.offset, &entry.record, &mut pending);
                reached.last = Some((line.offset, leaf_hash(&line.bytes).to_hex()));
            }
            reached.end = line.offset + line.span();
            if pending.len() >= JOURNAL_CAP / 4 {
                self.commit(std::mem::take(&mut pending), reached.clone())?;
            }
        }
        if reached != self.coverage {
            self.commit(pending, reached)?;
        }
        Ok(())
    }

    /// Appends a batch to the journal, and sorts the journal into a run when it is full.
    fn commit(&mut self, entries: Vec<Entry>, coverage: Coverage) -> Result<(), IndexError> {
        let batch = Batch {
            prev_end: self.coverage.end,
            coverage,
            entries,
        };
        let bytes = batch.encode();
        self.journal_file.seek(SeekFrom::Start(self.journal_len))?;
        self.journal_file.write_all(&bytes)?;
        self.journal_file
            .set_len(self.journal_len + bytes.len() as u64)?;
        self.journal_len += bytes.len() as u64;
        self.journal.extend(batch.entries);
        self.coverage = batch.coverage;
        if self.journal.len() >= JOURNAL_CAP {
            self.flush()?;
        }
        Ok(())
    }

    /// Sorts the journal into a new run, merges runs, and empties the journal.
    fn flush(&mut self) -> Result<(), IndexError> {
        let mut entries = std::mem::take(&mut self.journal);
        entries.sort_unstable();
        entries.dedup();
        let name = self.new_run_name();
        write_run(&self.dir.join(&name), entries.iter().copied())?;
        self.manifest.runs.push(RunFile {
            name,
            entries: entries.len() as u64,
        });
        while let [.., older, newer] = self.manifest.runs.as_slice() {
            if older.entries > 2 * newer.entries {
                break;
            }
            let (older, newer) = (older.clone(), newer.clone());
            let name = self.new_run_name();
            let count = merge_runs(
                &self.dir.join(&older.name),
                &self.dir.join(&newer.name),
                &self.dir.join(&name),
            )?;
            let keep = self.manifest.runs.len() - 2;
            self.manifest.runs.truncate(keep);
            self.manifest.runs.push(RunFile {
                name,
                entries: count,
            });
        }
        self.manifest.coverage = self.coverage.clone();
        self.write_manifest()?;
        self.journal_file.set_len(0)?;
        self.journal_len = 0;
        Ok(())
    }

    fn new_run_name(&mut self) -> String {
        self.manifest.next_run += 1;
        format!("run-{:06}", self.manifest.next_run)
    }

    /// Replaces the manifest durably, then removes the runs it no longer names.
    fn write_manifest(&self) -> Result<(), IndexError> {
        let bytes =
            serde_json::to_vec(&self.manifest).map_err(|e| IndexError::Encode(e.to_string()))?;
        tollgate_durable::write(
            &self.dir.join("manifest"),
            &bytes,
            tollgate_durable::Access::Shared,
        )?;
        for entry in fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with("run-") && !self.manifest.runs.iter().any(|r| r.name == name) {
                let _ = fs::remove_file(self.dir.join(&*name));
            }
        }
        Ok(())
    }

    /// The entry of the first (or last) record with the key of `lookup`.
    fn find(&self, lookup: Lookup<'_>) -> Result<Option<Entry>, IndexError> {
        let key = lookup.key();
        let latest = lookup.latest();
        let better = |a: &Entry, b: &Entry| {
            if latest {
                a.seq() > b.seq()
            } else {
                a.seq() < b.seq()
            }
        };
        let mut best: Option<Entry> = None;
        let mut consider = |candidate: Entry| {
            if best.is_none_or(|b| better(&candidate, &b)) {
                best = Some(candidate);
            }
        };
        for entry in self.journal.iter().filter(|e| e.key() == key) {
            consider(*entry);
        }
        for run in &self.manifest.runs {
            if let Some(entry) = search_run(&self.dir.join(&run.name), run.entries, &key, latest)? {
                consider(entry);
            }
        }
        Ok(best)
    }
}

/// A batch of the journal.
struct Batch {
    prev_end: u64,
    coverage: Coverage,
    entries: Vec<Entry>,
}

impl Batch {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(BATCH_HEADER + self.entries.len() * ENTRY + 32);
        bytes.extend_from_slice(BATCH_MAGIC);
        bytes.extend_from_slice(&u32::try_from(self.entries.len()).unwrap_or(0).to_be_bytes());
        bytes.extend_from_slice(&self.prev_end.to_be_bytes());
        bytes.extend_from_slice(&self.coverage.end.to_be_bytes());
        let (offset, leaf) = match &self.coverage.last {
            Some((offset, leaf)) => (*offset, Hash::from_hex(leaf).unwrap_or(Hash::ZERO)),
            None => (NO_OFFSET, Hash::ZERO),
        };
        bytes.extend_from_slice(&offset.to_be_bytes());
        bytes.extend_from_slice(&leaf.0);
        for entry in &self.entries {
            bytes.extend_from_slice(&entry.0);
        }
        let sum = Hash::digest(&bytes);
        bytes.extend_from_slice(&sum.0);
        bytes
    }

    /// The batch at the start of `bytes` and its size, if it is whole and its checksum matches.
    fn decode(bytes: &[u8]) -> Option<(Self, usize)> {
        if bytes.len() < BATCH_HEADER || &bytes[..4] != BATCH_MAGIC {
            return None;
        }
        let number = |at: usize| {
            bytes
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        let count = usize::try_from(u32::from_be_bytes(bytes[4..8].try_into().ok()?)).ok()?;
        let size = BATCH_HEADER + count * ENTRY + 32;
        let body = bytes.get(..size - 32)?;
        if Hash::digest(body).0 != bytes.get(size - 32..size)? {
            return None;
        }
        let prev_end = number(8)?;
        let end = number(16)?;
        let offset = number(24)?;
        let leaf = Hash(bytes.get(32..64)?.try_into().ok()?);
        let entries = body[BATCH_HEADER..]
            .chunks_exact(ENTRY)
            .filter_map(Entry::from_slice)
            .collect();
        let last = (offset != NO_OFFSET).then(|| (offset, leaf.to_hex()));
        Some((
            Self {
                prev_end,
                coverage: Coverage { end, last },
                entries,
            },
            size,
        ))
    }
}

/// Writes sorted entries to a new run file: a temporary file, synced, renamed into place.
fn write_run(path: &Path, entries: impl Iterator<Item = Entry>) -> Result<u64, IndexError> {
    let temporary = path.with_extension("tmp");
    let file = File::create(&temporary)?;
    let mut writer = BufWriter::with_capacity(64 * 1024, file);
    let mut count = 0;
    for entry in entries {
        writer.write_all(&entry.0)?;
        count += 1;
    }
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&temporary, path)?;
    if let Some(dir) = path.parent() {
        tollgate_durable::sync_dir(dir)?;
    }
    Ok(count)
}

/// Merges two sorted runs into a new one, streaming, without duplicates.
fn merge_runs(older: &Path, newer: &Path, into: &Path) -> Result<u64, IndexError> {
    let mut left = RunReader::open(older)?;
    let mut right = RunReader::open(newer)?;
    let mut a = left.next_entry()?;
    let mut b = right.next_entry()?;
    let mut last: Option<Entry> = None;
    let temporary = into.with_extension("tmp");
    let mut writer = BufWriter::with_capacity(64 * 1024, File::create(&temporary)?);
    let mut count = 0;
    loop {
        let next = match (a, b) {
            (Some(x), Some(y)) if x <= y => {
                a = left.next_entry()?;
                x
            }
            (_, Some(y)) => {
                b = right.next_entry()?;
                y
            }
            (Some(x), None) => {
                a = left.next_entry()?;
                x
            }
            (None, None) => break,
        };
        if last != Some(next) {
            writer.write_all(&next.0)?;
            count += 1;
            last = Some(next);
        }
    }
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    fs::rename(&temporary, into)?;
    if let Some(dir) = into.parent() {
        tollgate_durable::sync_dir(dir)?;
    }
    Ok(count)
}

struct RunReader(BufReader<File>);

impl RunReader {
    fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self(BufReader::with_capacity(64 * 1024, File::open(path)?)))
    }

    fn next_entry(&mut self) -> std::io::Result<Option<Entry>> {
        let mut bytes = [0; ENTRY];
        match self.0.read_exact(&mut bytes) {
            Ok(()) => Ok(Some(Entry(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The first (or, with `latest`, the last) entry of `key` in a run, by binary search.
fn search_run(
    path: &Path,
    entries: u64,
    key: &[u8; 16],
    latest: bool,
) -> Result<Option<Entry>, IndexError> {
    let mut file = File::open(path)?;
    let mut read = |index: u64| -> std::io::Result<Entry> {
        let mut bytes = [0; ENTRY];
        file.seek(SeekFrom::Start(index * ENTRY as u64))?;
        file.read_exact(&mut bytes)?;
        Ok(Entry(bytes))
    };
    // The first index whose entry is past the key's range (latest) or not before it (first).
    let (mut low, mut high) = (0, entries);
    while low < high {
        let middle = low + (high - low) / 2;
        let entry = read(middle)?;
        let before = if latest {
            entry.key() <= &key[..]
        } else {
            entry.key() < &key[..]
        };
        if before {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    let candidate = if latest {
        match low.checked_sub(1) {
            Some(index) => read(index)?,
            None => return Ok(None),
        }
    } else if low < entries {
        read(low)?
    } else {
        return Ok(None);
    };
    Ok((candidate.key() == key).then_some(candidate))
}

/// The record of the log at `log` that `lookup` names, through the index (built or caught up
/// first), checked against the log; a wrong answer of the index rebuilds it once.
pub(crate) fn lookup(
    log_path: &Path,
    log: &File,
    len: u64,
    lookup: Lookup<'_>,
) -> Result<Option<Found>, IndexError> {
    let mut index = Index::open(&dir_for(log_path), log, true)?;
    index.catch_up(log, len)?;
    for attempt in 0..2 {
        let Some(entry) = index.find(lookup)? else {
            return Ok(None);
        };
        if let Some(found) = check(log, &entry, lookup)? {
            return Ok(Some(found));
        }
        if attempt == 0 {
            index.reset()?;
            index.catch_up(log, len)?;
        }
    }
    Err(IndexError::Io(std::io::Error::other(
        "the index names a record the log does not hold even after it was rebuilt",
    )))
}

/// The record an index entry names, when the log holds it there.
fn check(log: &File, entry: &Entry, lookup: Lookup<'_>) -> std::io::Result<Option<Found>> {
    let Some(line) = read_line_at(log, entry.offset())? else {
        return Ok(None);
    };
    let Ok(decoded) = frame::decode(&line.bytes) else {
        return Ok(None);
    };
    let matches = decoded.seq == entry.seq() && lookup.matches(decoded.seq, &decoded.record);
    Ok(matches.then(|| Found {
        seq: decoded.seq,
        offset: entry.offset(),
        leaf: leaf_hash(&line.bytes),
        record: decoded.record,
    }))
}

/// A record an append just wrote, where it is.
pub(crate) struct Written<'a> {
    /// Its sequence number.
    pub(crate) seq: u64,
    /// Offset of its line.
    pub(crate) offset: u64,
    /// Leaf hash of its line.
    pub(crate) leaf: Hash,
    /// The record.
    pub(crate) record: &'a Record,
}

/// Indexes what an append just wrote (`written`, its bytes ending at `end`), unless another
/// process holds the index or the index is far behind (the next lookup catches up). When the
/// index ends where the first record starts, the entries come from the records in hand;
/// otherwise (a recovery record or a newline came first, or the index lags) the log is read from
/// where the index ends. Best effort: the index is a cache.
pub(crate) fn after_append(
    log_path: &Path,
    log: &File,
    len: u64,
    written: &[Written<'_>],
    end: u64,
) {
    let Ok(mut index) = Index::open(&dir_for(log_path), log, false) else {
        return;
    };
    match (written.first(), written.last()) {
        (Some(first), Some(last)) if index.coverage.end == first.offset && end <= len => {
            let mut entries = Vec::with_capacity(written.len() * 3);
            for w in written {
                entries_of(w.seq, w.offset, w.record, &mut entries);
            }
            let coverage = Coverage {
                end,
                last: Some((last.offset, last.leaf.to_hex())),
            };
            let _ = index.commit(entries, coverage);
        }
        _ => {
            if len.saturating_sub(index.coverage.end) <= APPEND_CATCH_UP {
                let _ = index.catch_up(log, len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_append_indexes_its_records_from_memory_as_reading_the_log_would() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = crate::AuditLog::new(&path);
        let records: Vec<Record> = (0..40)
            .map(|i| {
                Record::Recovery(crate::record::RecoveryRecord {
                    id: format!("r{i}"),
                    recorded_at: crate::now(),
                    offset: i,
                    length: 1,
                    digest: crate::record::sha256_digest(b"x"),
                })
            })
            .collect();
        for chunk in records.chunks(7) {
            log.append_all(chunk).unwrap();
        }
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let appended = Index::open(&dir_for(&path), &file, true).unwrap();
        assert_eq!(appended.coverage.end, len);
        let mut from_memory = appended.journal.clone();
        from_memory.sort_unstable();
        let coverage = appended.coverage.clone();
        drop(appended);

        // The same log indexed by reading it from the start.
        fs::remove_dir_all(dir_for(&path)).unwrap();
        let mut read = Index::open(&dir_for(&path), &file, true).unwrap();
        read.catch_up(&file, len).unwrap();
        let mut from_log = read.journal.clone();
        from_log.sort_unstable();
        assert_eq!(from_memory.len(), 40 * 2);
        assert_eq!(from_memory, from_log);
        assert_eq!(read.coverage, coverage);
    }

    #[test]
    fn a_batch_round_trips_and_a_torn_one_is_refused() {
        let batch = Batch {
            prev_end: 10,
            coverage: Coverage {
                end: 99,
                last: Some((50, Hash::digest(b"x").to_hex())),
            },
            entries: vec![Entry::new(key(b'I', b"a"), 3, 50)],
        };
        let bytes = batch.encode();
        let (decoded, size) = Batch::decode(&bytes).unwrap();
        assert_eq!(size, bytes.len());
        assert_eq!(decoded.coverage, batch.coverage);
        assert_eq!(decoded.entries, batch.entries);
        assert!(Batch::decode(&bytes[..bytes.len() - 1]).is_none());
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(Batch::decode(&flipped).is_none());
    }

    #[test]
    fn runs_are_searched_for_the_first_and_the_last_entry_of_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut entries: Vec<Entry> = (0..1000u64)
            .map(|i| Entry::new(key(b'C', &(i % 7).to_be_bytes()), i, i * 10))
            .collect();
        entries.sort_unstable();
        let path = dir.path().join("run");
        write_run(&path, entries.iter().copied()).unwrap();
        for change in 0..7u64 {
            let k = key(b'C', &change.to_be_bytes());
            let first = search_run(&path, 1000, &k, false).unwrap().unwrap();
            let last = search_run(&path, 1000, &k, true).unwrap().unwrap();
            assert_eq!(first.seq(), change);
            assert_eq!(
                last.seq(),
                (0..1000).filter(|i| i % 7 == change).max().unwrap()
            );
        }
        assert!(
            search_run(&path, 1000, &key(b'C', b"none"), false)
                .unwrap()
                .is_none()
        );
    }
}
