//! The append-only log file ([`FileLog`]): crash-safe appends under an exclusive cross-process lock,
//! and reads.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::AuditError;
use crate::frame;
use crate::index::{Found, Lookup};
use crate::merkle::{Hash, leaf_hash};
use crate::record::{Record, RecoveryRecord, sha256_digest};
use crate::tail::{self, TailState};

pub use crate::lines::{Lines, MAX_LINE, RawLine, read_line_at, split_lines};

/// Torn bytes larger than this are not set aside automatically: the append fails and the log needs
/// a person's attention. Far above the largest record (a manifest is at most 1 MiB).
pub const MAX_TORN_BYTES: u64 = 16 << 20;

/// How long an append or a read waits for another process's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// The result of a successful append: the record is durable on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    /// Sequence number of the record.
    pub seq: u64,
    /// Its Merkle leaf hash.
    pub leaf: Hash,
    /// Byte offset of its line in a file log (0 in a database log, where records have no offset).
    pub offset: u64,
    /// Torn bytes of an earlier interrupted append that were set aside first, if any.
    pub recovered: Option<RecoveryRecord>,
}

/// A decision log file.
#[derive(Debug, Clone)]
pub struct FileLog {
    path: PathBuf,
    lock_timeout: Duration,
}

/// The end of the file as an append sees it.
struct Tail {
    /// Sequence number and leaf hash of the last valid record.
    last: Option<(u64, Hash)>,
    /// Bytes after the last valid record (an interrupted append), with their offset.
    torn: Option<(u64, Vec<u8>)>,
    /// The last valid record was written whole but its newline was not.
    needs_newline: bool,
}

impl FileLog {
    /// A log at `path`. Nothing is opened until the first append or read.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Sets how long to wait for another process's lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self, file: &File, exclusive: bool) -> Result<(), AuditError> {
        let start = Instant::now();
        loop {
            let attempt = if exclusive {
                file.try_lock()
            } else {
                file.try_lock_shared()
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(TryLockError::WouldBlock) if start.elapsed() < self.lock_timeout => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(AuditError::Locked {
                        path: self.path.clone(),
                        waited: start.elapsed(),
                    });
                }
                Err(TryLockError::Error(source)) => {
                    return Err(AuditError::Lock {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// The file's length in bytes.
    fn length(&self, file: &File) -> Result<u64, AuditError> {
        file.metadata()
            .map(|metadata| metadata.len())
            .map_err(|source| AuditError::Read {
                path: self.path.clone(),
                source,
            })
    }

    /// Opens (creating) the file for appending; its directory must exist.
    fn open_for_writing(&self) -> Result<File, AuditError> {
        let dir = parent_dir(&self.path);
        if !dir.is_dir() {
            return Err(AuditError::MissingDirectory {
                path: self.path.clone(),
                dir: dir.to_path_buf(),
            });
        }
        OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.path)
            .map_err(|source| AuditError::Open {
                path: self.path.clone(),
                source,
            })
    }

    /// Appends a record and returns once it is durable (written and `fdatasync`ed; on creation the
    /// directory is synced too). Concurrent appenders in any process are serialised by an
    /// exclusive lock on the file. Bytes of an earlier interrupted append are first closed with a
    /// newline and named by a [`RecoveryRecord`], so the file is never truncated or rewritten.
    ///
    /// Fails, and writes nothing durable, when the directory is missing, the file cannot be opened
    /// or written (permissions, full disk), another process holds the lock for too long, or the
    /// end of the log is damaged beyond an interrupted append.
    pub fn append(&self, record: &Record) -> Result<Appended, AuditError> {
        let mut appended = self.append_all(std::slice::from_ref(record))?;
        appended
            .pop()
            .ok_or_else(|| AuditError::Encode("nothing was appended".to_owned()))
    }

    /// Appends records in order with one write and one `fdatasync` (group commit), and returns
    /// once all are durable; on error none is reported durable. As [`FileLog::append`]
    /// otherwise; a recovery of torn bytes is named by the first record's [`Appended`].
    pub fn append_all(&self, records: &[Record]) -> Result<Vec<Appended>, AuditError> {
        let dir = parent_dir(&self.path);
        let existed = self.path.exists();
        let mut file = self.open_for_writing()?;
        if !existed {
            tollgate_durable::sync_dir(dir).map_err(|source| AuditError::Sync {
                path: self.path.clone(),
                source,
            })?;
        }
        self.lock(&file, true)?;
        let result = self.append_locked(&mut file, records);
        // The lock is released when the file is closed, also on error.
        drop(file);
        let (appended, end) = result?;
        // The index is a cache: it is brought up to date outside the log's lock, if free, from
        // the records in hand rather than by reading back what was just written.
        if let Ok(reader) = File::open(&self.path)
            && let Ok(len) = reader.metadata().map(|m| m.len())
        {
            let written: Vec<crate::index::Written<'_>> = appended
                .iter()
                .zip(records)
                .map(|(appended, record)| crate::index::Written {
                    seq: appended.seq,
                    offset: appended.offset,
                    leaf: appended.leaf,
                    record,
                })
                .collect();
            crate::index::after_append(&self.path, &reader, len, &written, end);
        }
        Ok(appended)
    }

    /// Appends under the lock; returns the records appended and the offset where the bytes
    /// written end.
    fn append_locked(
        &self,
        file: &mut File,
        records: &[Record],
    ) -> Result<(Vec<Appended>, u64), AuditError> {
        let len = self.length(file)?;
        let tail = self.read_tail(file, len)?;
        let (state_file, created) =
            tail::open(&tail::path_for(&self.path)).map_err(|source| AuditError::Open {
                path: tail::path_for(&self.path),
                source,
            })?;
        let mut state = self.acknowledged_state(file, &state_file, len)?;
        if state.last_seq.map(|seq| (seq, state.last_leaf)) != tail.last {
            return Err(self.corrupt(format!(
                "its last record (seq {:?}) is not the one the tail state acknowledged last (seq {:?}); run `tollgate audit verify`",
                tail.last.map(|(seq, _)| seq),
                state.last_seq
            )));
        }
        let (mut seq, mut prev) = match tail.last {
            Some((seq, leaf)) => (seq + 1, leaf),
            None => (0, Hash::ZERO),
        };
        let mut buffer = Vec::new();
        if tail.needs_newline {
            buffer.push(b'\n');
        }
        let mut recovered = None;
        if let Some((offset, bytes)) = &tail.torn {
            let mut closed = bytes.clone();
            if !closed.ends_with(b"\n") {
                closed.push(b'\n');
                buffer.push(b'\n');
            }
            let recovery = RecoveryRecord {
                id: crate::new_id(),
                recorded_at: crate::now(),
                offset: *offset,
                length: closed.len() as u64,
                digest: sha256_digest(&closed),
            };
            let record = Record::Recovery(recovery.clone());
            let line = frame::encode(seq, &prev, &record)
                .map_err(|e| AuditError::Encode(e.to_string()))?;
            prev = leaf_hash(&line);
            state.push(
                seq,
                prev,
                len + buffer.len() as u64,
                line.len() as u64 + 1,
                &record,
            );
            seq += 1;
            buffer.extend_from_slice(&line);
            buffer.push(b'\n');
            recovered = Some(recovery);
        }
        let mut appended = Vec::with_capacity(records.len());
        for record in records {
            let offset = len + buffer.len() as u64;
            let line =
                frame::encode(seq, &prev, record).map_err(|e| AuditError::Encode(e.to_string()))?;
            let leaf = leaf_hash(&line);
            state.push(seq, leaf, offset, line.len() as u64 + 1, record);
            buffer.extend_from_slice(&line);
            buffer.push(b'\n');
            appended.push(Appended {
                seq,
                leaf,
                offset,
                recovered: recovered.take(),
            });
            prev = leaf;
            seq += 1;
        }
        file.write_all(&buffer)
            .map_err(|source| AuditError::Write {
                path: self.path.clone(),
                source,
            })?;
        let synced = if len == 0 {
            file.sync_all()
                .and_then(|()| tollgate_durable::sync_dir(parent_dir(&self.path)))
        } else {
            file.sync_data()
        };
        synced.map_err(|source| AuditError::Sync {
            path: self.path.clone(),
            source,
        })?;
        // Acknowledged only once the tail state names the records too.
        state.generation += 1;
        self.write_state(&state_file, &state, created)?;
        Ok((appended, len + buffer.len() as u64))
    }

    fn corrupt(&self, detail: String) -> AuditError {
        AuditError::Corrupt {
            path: self.path.clone(),
            detail,
        }
    }

    /// The tail state brought up to the first `len` bytes of the log: read, then caught up with
    /// the records past it (or, without one, built from the whole log once).
    fn acknowledged_state(
        &self,
        log: &File,
        state_file: &File,
        len: u64,
    ) -> Result<TailState, AuditError> {
        let stored = tail::read_file(state_file).map_err(|source| AuditError::Read {
            path: tail::path_for(&self.path),
            source,
        })?;
        self.caught_up(log, stored, len)
    }

    /// `stored` caught up with the first `len` bytes of the log.
    fn caught_up(
        &self,
        log: &File,
        stored: Option<TailState>,
        len: u64,
    ) -> Result<TailState, AuditError> {
        let io = |error: tail::TailError| match error {
            tail::TailError::Io(source) => AuditError::Read {
                path: self.path.clone(),
                source,
            },
            other => self.corrupt(other.to_string()),
        };
        match tail::catch_up(log, stored.clone(), len) {
            // The last acknowledged record is gone (a truncation) or changed: appends go on from
            // a state rebuilt from the log, which keeps naming the lost record for `verify`.
            Err(tail::TailError::Missing { .. }) => {
                let mut rebuilt = tail::catch_up(log, None, len).map_err(io)?;
                if let Some(stored) = stored {
                    rebuilt.generation = stored.generation;
                    rebuilt.missing = stored.missing.clone().or_else(|| stored.last());
                }
                Ok(rebuilt)
            }
            other => other.map_err(io),
        }
    }

    fn write_state(&self, file: &File, state: &TailState, created: bool) -> Result<(), AuditError> {
        let path = tail::path_for(&self.path);
        tail::write(file, state)
            .and_then(|()| {
                if created {
                    tollgate_durable::sync_dir(parent_dir(&self.path))?;
                }
                Ok(())
            })
            .map_err(|error| match error {
                tail::TailError::Io(source) => AuditError::Sync { path, source },
                other => AuditError::Encode(other.to_string()),
            })
    }

    /// The tail state of the log as its last acknowledged append left it, caught up with any
    /// record past it, without writing anything (built from the whole log when there is none).
    /// `None` when the log does not exist.
    pub fn tail_state(&self) -> Result<Option<TailState>, AuditError> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(AuditError::Open {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.lock(&file, false)?;
        let len = self.length(&file)?;
        let stored =
            tail::read(&tail::path_for(&self.path)).map_err(|source| AuditError::Read {
                path: tail::path_for(&self.path),
                source,
            })?;
        self.caught_up(&file, stored, len).map(Some)
    }

    /// The tail state as last written, without reading the log (`None` without one).
    pub fn acknowledged(&self) -> Result<Option<TailState>, AuditError> {
        tail::read(&tail::path_for(&self.path)).map_err(|source| AuditError::Read {
            path: tail::path_for(&self.path),
            source,
        })
    }

    /// The record `lookup` names, through the index (built or caught up first); without a
    /// usable index (a directory this process cannot write), by reading the log line by line.
    pub fn lookup(&self, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(AuditError::Open {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let len = self.length(&file)?;
        match crate::index::lookup(&self.path, &file, len, lookup) {
            Ok(found) => Ok(found),
            Err(_) => self.scan(&file, len, lookup),
        }
    }

    /// Finds a record by reading the log line by line.
    fn scan(&self, file: &File, len: u64, lookup: Lookup<'_>) -> Result<Option<Found>, AuditError> {
        let read_error = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let handle = file.try_clone().map_err(read_error)?;
        let mut lines = Lines::from_file(handle, 0, 1).map_err(read_error)?;
        let mut best = None;
        while let Some(line) = lines.next_line().map_err(read_error)? {
            if line.offset + line.span() > len {
                break;
            }
            let Ok(entry) = frame::decode(&line.bytes) else {
                continue;
            };
            if lookup.matches(entry.seq, &entry.record) {
                best = Some(Found {
                    seq: entry.seq,
                    offset: line.offset,
                    leaf: leaf_hash(&line.bytes),
                    record: entry.record,
                });
                if lookup.first() {
                    break;
                }
            }
        }
        Ok(best)
    }

    /// Reads the log line by line, handing each to `each` (held only until the next): memory
    /// stays bounded by the longest line, whatever the log's length. A missing file is an error.
    pub fn for_each_line(
        &self,
        mut each: impl FnMut(RawLine) -> Result<(), AuditError>,
    ) -> Result<(), AuditError> {
        let file = File::open(&self.path).map_err(|source| AuditError::Open {
            path: self.path.clone(),
            source,
        })?;
        self.lock(&file, false)?;
        let read_error = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let mut lines = Lines::from_file(file, 0, 1).map_err(read_error)?;
        while let Some(line) = lines.next_line().map_err(read_error)? {
            each(line)?;
        }
        Ok(())
    }

    /// Finds the last valid record and the bytes after it, reading backwards from the end.
    fn read_tail(&self, file: &mut File, len: u64) -> Result<Tail, AuditError> {
        let mut window = len.min(64 * 1024);
        loop {
            let start = len - window;
            let mut bytes = vec![0; usize::try_from(window).unwrap_or(usize::MAX)];
            file.seek(SeekFrom::Start(start))
                .and_then(|_| file.read_exact(&mut bytes))
                .map_err(|source| AuditError::Read {
                    path: self.path.clone(),
                    source,
                })?;
            let mut lines = split_lines(&bytes);
            // Unless the window starts at the file's start, its first line may be cut.
            let complete_from = usize::from(start > 0);
            let mut torn_start = len;
            while lines.len() > complete_from {
                let Some(line) = lines.pop() else { break };
                let line_offset = start + line.offset;
                if let Ok(entry) = frame::decode(&line.bytes) {
                    let torn = (torn_start < len)
                        .then(|| (torn_start, bytes[(torn_start - start) as usize..].to_vec()));
                    return Ok(Tail {
                        last: Some((entry.seq, leaf_hash(&line.bytes))),
                        needs_newline: !line.terminated,
                        torn,
                    });
                }
                torn_start = line_offset;
                if len - torn_start > MAX_TORN_BYTES {
                    return Err(AuditError::Corrupt {
                        path: self.path.clone(),
                        detail: format!(
                            "the last {} bytes (from offset {torn_start}) are not records; run `tollgate audit verify`",
                            len - torn_start
                        ),
                    });
                }
            }
            if start == 0 {
                let torn = (len > 0).then_some((0, bytes));
                return Ok(Tail {
                    last: None,
                    torn,
                    needs_newline: false,
                });
            }
            window = (window * 2).min(len);
        }
    }

    /// Writes `lines` (read from another log) byte for byte into this log, which must be missing
    /// or empty, and returns once they are durable. The caller verifies them before and after.
    pub fn import_lines(&self, lines: &[RawLine]) -> Result<(), AuditError> {
        let dir = parent_dir(&self.path);
        let mut file = self.open_for_writing()?;
        self.lock(&file, true)?;
        let len = self.length(&file)?;
        if len > 0 {
            return Err(AuditError::NotEmpty {
                location: self.path.display().to_string(),
            });
        }
        let (state_file, created) =
            tail::open(&tail::path_for(&self.path)).map_err(|source| AuditError::Open {
                path: tail::path_for(&self.path),
                source,
            })?;
        // An empty log whose tail state acknowledged records was truncated: not a fresh log.
        let stored = tail::read_file(&state_file)
            .map_err(|source| AuditError::Read {
                path: tail::path_for(&self.path),
                source,
            })?
            .unwrap_or_default();
        if stored.records > 0 {
            return Err(self.corrupt(format!(
                "it is empty but {} acknowledged records were written to it (`{}`): it was truncated",
                stored.records,
                tail::path_for(&self.path).display()
            )));
        }
        let mut buffer = Vec::new();
        for line in lines {
            buffer.extend_from_slice(&line.bytes);
            buffer.push(b'\n');
        }
        file.write_all(&buffer)
            .map_err(|source| AuditError::Write {
                path: self.path.clone(),
                source,
            })?;
        file.sync_all()
            .and_then(|()| tollgate_durable::sync_dir(dir))
            .map_err(|source| AuditError::Sync {
                path: self.path.clone(),
                source,
            })?;
        let mut state = self.acknowledged_state(&file, &state_file, buffer.len() as u64)?;
        state.generation = stored.generation + 1;
        self.write_state(&state_file, &state, created)
    }

    /// Reads every line of the log under a shared lock (so no append is half-seen). A missing
    /// file is an error.
    pub fn read_lines(&self) -> Result<Vec<RawLine>, AuditError> {
        let mut file = File::open(&self.path).map_err(|source| AuditError::Open {
            path: self.path.clone(),
            source,
        })?;
        self.lock(&file, false)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|source| AuditError::Read {
                path: self.path.clone(),
                source,
            })?;
        drop(file);
        Ok(split_lines(&bytes))
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}
