//! Durable file writes, used for every file Tollgate writes: reports, evidence, exported policies,
//! keys, the compiled-policy cache and the decision log's directory.
//!
//! [`write`] replaces a regular file whole or not at all: the bytes go to a temporary file in the
//! same directory, which is synced, renamed over the target, and the directory is synced so the
//! rename itself survives a crash. A reader never sees a half-written file. A path that names
//! something other than a regular file (a device such as `/dev/null` or `/dev/stdout`, a FIFO) is
//! written in place and never replaced; a symbolic link is followed, so the link stays a link.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Who may read a written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Readable as the process's umask allows (reports, exported policies, public keys).
    Shared,
    /// Readable by the owner only, mode 0600 (secret keys, cache entries).
    Private,
}

impl Access {
    #[cfg(unix)]
    fn mode(self) -> u32 {
        match self {
            Self::Shared => 0o666,
            Self::Private => 0o600,
        }
    }
}

/// Writes `bytes` to `path` durably; see the crate documentation. Fails if the directory does not
/// exist: only [`create_dir_all`] creates directories.
pub fn write(path: &Path, bytes: &[u8], access: Access) -> io::Result<()> {
    let target = resolve(path)?;
    match fs::metadata(&target) {
        Ok(metadata) if !metadata.is_file() && !metadata.is_dir() => {
            return write_in_place(&target, bytes);
        }
        _ => {}
    }
    let dir = parent(&target);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tollgate-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(access.mode()));
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = builder.tempfile_in(dir).map_err(|e| os_error(dir, e))?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(&target).map_err(|e| os_error(dir, e.error))?;
    sync_dir(dir)
}

/// The operating system's error without the temporary file's name, which means nothing to the
/// user (the caller names the file it was writing): the directory's own error when it cannot be
/// read, else the error's kind.
fn os_error(dir: &Path, error: io::Error) -> io::Error {
    if error.raw_os_error().is_some() {
        return error;
    }
    match fs::metadata(dir) {
        Err(dir_error) => dir_error,
        Ok(_) => io::Error::new(error.kind(), error.kind().to_string()),
    }
}

/// Creates `dir` and its missing ancestors, syncing each parent so the new entries survive a
/// crash. An existing directory is left as it is.
pub fn create_dir_all(dir: &Path, access: Access) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(up) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(up, access)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(match access {
            Access::Shared => 0o777,
            Access::Private => 0o700,
        });
    }
    match builder.create(dir) {
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(error) => Err(error),
        Ok(()) => sync_dir(parent(dir)),
    }
}

/// Syncs a directory, so that entries created, renamed or removed in it are durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Follows symbolic links, so that writing through a link writes its target.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = if link.is_absolute() {
                    link
                } else {
                    parent(&current).join(link)
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "too many levels of symbolic links at `{}`",
        path.display()
    )))
}

/// Writes to a device or FIFO without replacing it.
fn write_in_place(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(bytes)?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, "old contents, longer than the new").unwrap();
        write(&path, b"new", Access::Shared).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_and_shared_files_follow_the_umask() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("audit.key");
        let report = dir.path().join("report.html");
        write(&secret, b"k", Access::Private).unwrap();
        write(&report, b"r", Access::Shared).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secret), 0o600);
        assert_ne!(
            mode(&report) & 0o044,
            0,
            "group/other can read a shared file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_in_place_and_never_replaced() {
        write(Path::new("/dev/null"), b"discarded", Access::Shared).unwrap();
        let metadata = fs::metadata("/dev/null").unwrap();
        assert!(!metadata.is_file(), "/dev/null is still a device");
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        let link = dir.path().join("link.txt");
        fs::write(&target, "old").unwrap();
        std::os::unix::fs::symlink("target.txt", &link).unwrap();
        write(&link, b"new", Access::Shared).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn a_missing_directory_is_an_error_and_create_dir_all_makes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a").join("b").join("file");
        let error = write(&path, b"x", Access::Shared).unwrap_err();
        assert!(!error.to_string().contains(".tmp"), "{error}");
        create_dir_all(path.parent().unwrap(), Access::Private).unwrap();
        write(&path, b"x", Access::Shared).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }
}
