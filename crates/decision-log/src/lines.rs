//! The lines of a log file as read, valid or not: whole contents split at once
//! ([`split_lines`]), or streamed one line at a time in bounded memory ([`Lines`]), or one line at
//! an offset ([`read_line_at`]). Every reader of the file log (appends, the tail state, the index,
//! verification) takes its lines from here.

use std::fs::File;
use std::io::{Seek, SeekFrom};

/// One line of the file as read, valid or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// Line number, from 1.
    pub number: u64,
    /// Byte offset of its start.
    pub offset: u64,
    /// Its bytes, without the newline.
    pub bytes: Vec<u8>,
    /// Whether a newline ends it (only the last line of a file can lack one).
    pub terminated: bool,
}

impl RawLine {
    /// Length in the file, newline included.
    pub fn span(&self) -> u64 {
        self.bytes.len() as u64 + u64::from(self.terminated)
    }
}

/// Splits file contents into lines.
pub fn split_lines(bytes: &[u8]) -> Vec<RawLine> {
    let mut lines = Vec::new();
    let mut offset = 0usize;
    let mut number = 1;
    while offset < bytes.len() {
        let (end, terminated) = match bytes[offset..].iter().position(|&b| b == b'\n') {
            Some(i) => (offset + i, true),
            None => (bytes.len(), false),
        };
        lines.push(RawLine {
            number,
            offset: offset as u64,
            bytes: bytes[offset..end].to_vec(),
            terminated,
        });
        number += 1;
        offset = end + usize::from(terminated);
    }
    lines
}

/// Lines longer than this are read as far as this and reported cut (not a record): far above the
/// largest record, so a damaged file without newlines never fills the memory of a streaming read.
pub const MAX_LINE: usize = 64 << 20;

/// The lines of a file read one at a time from an offset, each held only until the next: memory
/// stays bounded by the longest line (at most [`MAX_LINE`]), whatever the file's length.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    offset: u64,
    number: u64,
}

impl Lines<std::io::BufReader<File>> {
    /// The lines of `file` from byte `offset` (the start of a line), numbered from `number`.
    pub fn from_file(file: File, offset: u64, number: u64) -> std::io::Result<Self> {
        Self::with_capacity(file, offset, number, 256 * 1024)
    }

    /// As [`Lines::from_file`], reading `capacity` bytes at a time.
    pub fn with_capacity(
        mut file: File,
        offset: u64,
        number: u64,
        capacity: usize,
    ) -> std::io::Result<Self> {
        file.seek(SeekFrom::Start(offset))?;
        Ok(Self {
            reader: std::io::BufReader::with_capacity(capacity, file),
            offset,
            number,
        })
    }
}

impl<R: std::io::BufRead> Lines<R> {
    /// The byte offset of the next line.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line, `None` at the end of the file. A line longer than [`MAX_LINE`] is returned
    /// cut to that length and unterminated, its remaining bytes skipped.
    pub fn next_line(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut bytes = Vec::new();
        let mut span = 0u64;
        let mut terminated = false;
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                break;
            }
            let (take, found) = match buffer.iter().position(|&b| b == b'\n') {
                Some(i) => (i, true),
                None => (buffer.len(), false),
            };
            let room = MAX_LINE.saturating_sub(bytes.len());
            bytes.extend_from_slice(&buffer[..take.min(room)]);
            let consumed = take + usize::from(found);
            self.reader.consume(consumed);
            span += consumed as u64;
            if found {
                terminated = bytes.len() < MAX_LINE;
                break;
            }
        }
        if span == 0 {
            return Ok(None);
        }
        let line = RawLine {
            number: self.number,
            offset: self.offset,
            bytes,
            terminated,
        };
        self.number += 1;
        self.offset += span;
        Ok(Some(line))
    }
}

/// Reads the whole line starting at `offset` (without its newline); `None` when `offset` is at or
/// past the end of the file.
pub fn read_line_at(file: &File, offset: u64) -> std::io::Result<Option<RawLine>> {
    let handle = file.try_clone()?;
    let mut lines = Lines::with_capacity(handle, offset, 0, 16 * 1024)?;
    lines.next_line()
}
