//! Facts about a change from the `git` command line: the revisions, the head commit's author, the
//! files and lines changed, and the added lines for the detectors. Machine-readable output only
//! (`-z`, `--format` with NUL separators, `-c core.quotePath=false`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::GatherError;

/// A repository worked on through the `git` command.
#[derive(Debug, Clone)]
pub struct Repository {
    dir: PathBuf,
    git: PathBuf,
}

/// The head commit of the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Full commit id.
    pub id: String,
    /// Author name.
    pub author_name: String,
    /// Author email.
    pub author_email: String,
    /// First line of the message.
    pub subject: String,
}

/// One changed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    /// Path after the change (for a deletion, the deleted path).
    pub path: String,
    /// Path before the change, when the file was renamed or copied.
    pub old_path: Option<String>,
    /// Lines added (0 for binary files).
    pub added: u32,
    /// Lines removed (0 for binary files).
    pub removed: u32,
    /// Whether git considers the file binary.
    pub binary: bool,
}

/// One line added by the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLine {
    /// File path after the change.
    pub path: String,
    /// Line number in the new file, from 1.
    pub line: u32,
    /// The line's text, without the leading `+`.
    pub text: String,
}

/// The change between two revisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The revision the change is measured from (the merge base of base and head).
    pub base: String,
    /// The head revision.
    pub head: String,
    /// Changed files.
    pub files: Vec<FileChange>,
    /// Distinct authors (name and email) of the commits in the change, in git's order.
    pub authors: Vec<(String, String)>,
}

impl Diff {
    /// Lines added plus lines removed, saturating at `u32::MAX`.
    pub fn lines_changed(&self) -> u32 {
        self.files.iter().fold(0u32, |total, file| {
            total
                .saturating_add(file.added)
                .saturating_add(file.removed)
        })
    }

    /// Every path the change touches: new paths and, for renames, old paths too.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .flat_map(|file| std::iter::once(file.path.as_str()).chain(file.old_path.as_deref()))
    }
}

impl Repository {
    /// A repository in `dir`, driven by the `git` found on `PATH`.
    pub fn open(dir: &Path) -> Result<Self, GatherError> {
        let repo = Self {
            dir: dir.to_path_buf(),
            git: PathBuf::from("git"),
        };
        repo.run(&["rev-parse", "--git-dir"])?;
        Ok(repo)
    }

    /// The repository directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn run(&self, args: &[&str]) -> Result<String, GatherError> {
        let output = Command::new(&self.git)
            .arg("-C")
            .arg(&self.dir)
            .args(["-c", "core.quotePath=false", "-c", "diff.noprefix=false"])
            .args(args)
            .env("LC_ALL", "C")
            .env_remove("GIT_EXTERNAL_DIFF")
            .output()
            .map_err(|e| GatherError::Git {
                command: args.first().copied().unwrap_or_default().to_owned(),
                dir: self.dir.display().to_string(),
                message: format!("could not run `git`: {e}"),
            })?;
        if !output.status.success() {
            return Err(GatherError::Git {
                command: args.join(" "),
                dir: self.dir.display().to_string(),
                message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        String::from_utf8(output.stdout).map_err(|_| GatherError::Git {
            command: args.join(" "),
            dir: self.dir.display().to_string(),
            message: "output is not UTF-8".to_owned(),
        })
    }

    /// Whether `path` (absolute, or relative to the current directory) is a file tracked in this
    /// repository's index, that is, one the change's author can edit in the change itself.
    pub fn tracks(&self, path: &Path) -> Result<bool, GatherError> {
        let Ok(file) = path.canonicalize() else {
            return Ok(false);
        };
        let top = self.run(&["rev-parse", "--show-toplevel"])?;
        let Ok(top) = Path::new(top.trim_end_matches('\n')).canonicalize() else {
            return Ok(false);
        };
        let Ok(relative) = file.strip_prefix(&top) else {
            return Ok(false);
        };
        let Some(relative) = relative.to_str() else {
            return Ok(false);
        };
        let listed = self.run(&[
            "-C",
            &top.display().to_string(),
            "ls-files",
            "-z",
            "--",
            relative,
        ])?;
        Ok(!listed.is_empty())
    }

    /// Resolves a revision to a full commit id.
    pub fn resolve(&self, revision: &str) -> Result<String, GatherError> {
        if revision.starts_with('-') {
            return Err(GatherError::Git {
                command: "rev-parse".to_owned(),
                dir: self.dir.display().to_string(),
                message: format!("invalid revision `{revision}`"),
            });
        }
        let spec = format!("{revision}^{{commit}}");
        Ok(self
            .run(&[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &spec,
            ])
            .map_err(|_| GatherError::Git {
                command: "rev-parse".to_owned(),
                dir: self.dir.display().to_string(),
                message: format!("unknown revision `{revision}`"),
            })?
            .trim()
            .to_owned())
    }

    /// The commit `revision` names.
    pub fn commit(&self, revision: &str) -> Result<Commit, GatherError> {
        let id = self.resolve(revision)?;
        let text = self.run(&["show", "-s", "--format=%H%x00%an%x00%ae%x00%s", &id])?;
        let mut parts = text.trim_end_matches('\n').splitn(4, '\0');
        let mut next = || parts.next().unwrap_or_default().to_owned();
        Ok(Commit {
            id: next(),
            author_name: next(),
            author_email: next(),
            subject: next(),
        })
    }

    /// The change from the merge base of `base` and `head` to `head` (what a merge request shows).
    pub fn diff(&self, base: &str, head: &str) -> Result<Diff, GatherError> {
        let base_id = self.resolve(base)?;
        let head_id = self.resolve(head)?;
        let merge_base = self
            .run(&["merge-base", &base_id, &head_id])
            .map(|s| s.trim().to_owned())
            .map_err(|_| GatherError::Git {
                command: "merge-base".to_owned(),
                dir: self.dir.display().to_string(),
                message: format!("`{base}` and `{head}` have no common history"),
            })?;
        let numstat = self.run(&["diff", "--numstat", "-z", "-M", &merge_base, &head_id])?;
        let files = parse_numstat(&numstat)?;
        let range = format!("{merge_base}..{head_id}");
        let log = self.run(&["log", "--format=%an%x00%ae%x00", &range])?;
        let mut authors: Vec<(String, String)> = Vec::new();
        for line in log.lines() {
            let mut parts = line.split('\0');
            let name = parts.next().unwrap_or_default().to_owned();
            let email = parts.next().unwrap_or_default().to_owned();
            if !name.is_empty() && !authors.iter().any(|(_, e)| *e == email) {
                authors.push((name, email));
            }
        }
        Ok(Diff {
            base: merge_base,
            head: head_id,
            files,
            authors,
        })
    }

    /// The lines `diff` adds, with their paths and new line numbers.
    pub fn added_lines(&self, diff: &Diff) -> Result<Vec<AddedLine>, GatherError> {
        let patch = self.run(&[
            "diff",
            "-U0",
            "-M",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            &diff.base,
            &diff.head,
        ])?;
        Ok(parse_added_lines(&patch))
    }
}

fn malformed(what: &str) -> GatherError {
    GatherError::Git {
        command: "diff".to_owned(),
        dir: String::new(),
        message: format!("unexpected output: {what}"),
    }
}

/// Parses `git diff --numstat -z` output.
fn parse_numstat(text: &str) -> Result<Vec<FileChange>, GatherError> {
    let mut files = Vec::new();
    let mut fields = text.split('\0');
    while let Some(record) = fields.next() {
        if record.is_empty() {
            continue;
        }
        let mut parts = record.splitn(3, '\t');
        let added = parts.next().ok_or_else(|| malformed(record))?;
        let removed = parts.next().ok_or_else(|| malformed(record))?;
        let path = parts.next().ok_or_else(|| malformed(record))?;
        let binary = added == "-" && removed == "-";
        let count = |n: &str| -> Result<u32, GatherError> {
            if n == "-" {
                Ok(0)
            } else {
                n.parse().map_err(|_| malformed(record))
            }
        };
        let (path, old_path) = if path.is_empty() {
            // A rename or copy: the two paths follow as separate fields.
            let old = fields
                .next()
                .ok_or_else(|| malformed("rename without source"))?;
            let new = fields
                .next()
                .ok_or_else(|| malformed("rename without target"))?;
            (new.to_owned(), Some(old.to_owned()))
        } else {
            (path.to_owned(), None)
        };
        files.push(FileChange {
            path,
            old_path,
            added: count(added)?,
            removed: count(removed)?,
            binary,
        });
    }
    Ok(files)
}

/// Parses a `git diff -U0` patch into the added lines.
fn parse_added_lines(patch: &str) -> Vec<AddedLine> {
    let mut lines = Vec::new();
    let mut path: Option<String> = None;
    let mut next_line: u32 = 0;
    let mut in_hunk = false;
    for raw in patch.split('\n') {
        if raw.starts_with("diff --git ") {
            path = None;
            in_hunk = false;
        } else if !in_hunk && let Some(target) = raw.strip_prefix("+++ ") {
            path = target_path(target);
        } else if let Some(header) = raw.strip_prefix("@@ ") {
            in_hunk = true;
            next_line = hunk_new_start(header).unwrap_or(0);
        } else if in_hunk && let Some(text) = raw.strip_prefix('+') {
            if let Some(path) = &path {
                lines.push(AddedLine {
                    path: path.clone(),
                    line: next_line,
                    text: text.strip_suffix('\r').unwrap_or(text).to_owned(),
                });
            }
            next_line = next_line.saturating_add(1);
        } else if in_hunk && raw.starts_with(' ') {
            next_line = next_line.saturating_add(1);
        }
    }
    lines
}

/// The path of a `+++ ` line: `b/path`, a C-quoted `"b/pa\th"`, or `/dev/null`.
fn target_path(target: &str) -> Option<String> {
    let target = target.trim_end_matches('\t');
    if target == "/dev/null" {
        return None;
    }
    let unquoted = if target.starts_with('"') && target.ends_with('"') && target.len() >= 2 {
        unquote(&target[1..target.len() - 1])
    } else {
        target.to_owned()
    };
    unquoted.strip_prefix("b/").map(str::to_owned)
}

/// Undoes git's C-style quoting of a path (`\t`, `\n`, `\"`, `\\`, octal bytes).
fn unquote(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            let c = bytes[i + 1];
            let simple = match c {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'a' => Some(7),
                b'b' => Some(8),
                b'f' => Some(12),
                b'v' => Some(11),
                _ => None,
            };
            if let Some(byte) = simple {
                out.push(byte);
                i += 2;
                continue;
            }
            if i + 3 < bytes.len()
                && bytes[i + 1..i + 4]
                    .iter()
                    .all(|b| (b'0'..=b'7').contains(b))
            {
                let value = bytes[i + 1..i + 4]
                    .iter()
                    .fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The new-file start line of a hunk header `-a,b +c,d @@ ...`.
fn hunk_new_start(header: &str) -> Option<u32> {
    let plus = header.split(' ').find(|part| part.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numstat_with_rename_and_binary() {
        let text = "3\t1\tsrc/a.rs\0-\t-\tlogo.png\x002\t0\t\0old/name.sql\0new/name.sql\0";
        let files = parse_numstat(text).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!((files[0].added, files[0].removed), (3, 1));
        assert!(files[1].binary);
        assert_eq!(files[2].path, "new/name.sql");
        assert_eq!(files[2].old_path.as_deref(), Some("old/name.sql"));
    }

    #[test]
    fn added_lines_carry_new_line_numbers() {
        let patch = "diff --git a/f.txt b/f.txt\nindex 1..2 100644\n--- a/f.txt\n+++ b/f.txt\n@@ -1,0 +2,2 @@\n+one\n+two\n@@ -9 +11 @@ ctx\n-old\n+new\ndiff --git a/gone b/gone\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n";
        let lines = parse_added_lines(patch);
        let got: Vec<(&str, u32, &str)> = lines
            .iter()
            .map(|l| (l.path.as_str(), l.line, l.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("f.txt", 2, "one"),
                ("f.txt", 3, "two"),
                ("f.txt", 11, "new")
            ]
        );
    }

    #[test]
    fn added_line_starting_with_plus_plus_plus_is_content() {
        let patch = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+++ not a header\n";
        let lines = parse_added_lines(patch);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "++ not a header");
    }

    #[test]
    fn quoted_paths_are_unquoted() {
        assert_eq!(
            target_path("\"b/dir/tab\\there.txt\"").as_deref(),
            Some("dir/tab\there.txt")
        );
        assert_eq!(target_path("\"b/caf\\303\\251\"").as_deref(), Some("café"));
    }
}
