//! The on-disk cache of compiled components: hits, misses, and entries that cannot be trusted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{fixtures, manifest, now};
use tollgate_engine::{Limits, PolicyEngine, PolicySource};

fn engine(dir: &Path) -> PolicyEngine {
    PolicyEngine::new(Limits::default(), Some(dir.to_path_buf())).expect("engine")
}

fn source() -> PolicySource {
    PolicySource::Bytes {
        name: "trap".into(),
        bytes: fs::read(fixtures::TRAP).expect("fixture"),
    }
}

/// The cache's compiled entries (`.cwasm` files).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    entries.sort();
    entries
}

#[test]
fn a_second_load_comes_from_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = engine(dir.path()).load(source()).expect("loads");
    assert!(!first.loaded_from_cache());
    let entries = entries(dir.path());
    assert_eq!(entries.len(), 1);
    let name = entries[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with(first.digest().trim_start_matches("sha256:")),
        "{name}"
    );

    // A new engine (as in a second CLI run) with the same directory does not recompile.
    let second = engine(dir.path()).load(source()).expect("loads");
    assert!(second.loaded_from_cache());
    assert_eq!(second.digest(), first.digest());
    assert_eq!(second.metadata(), first.metadata());
    second.validate_settings("").expect("works from the cache");
    assert!(second.evaluate(&manifest(), "", now()).is_err());
}

fn corrupt_and_reload(corrupt: impl Fn(&Path)) {
    let dir = tempfile::tempdir().expect("tempdir");
    engine(dir.path()).load(source()).expect("loads");
    let entry = entries(dir.path()).remove(0);
    corrupt(&entry);

    let reloaded = engine(dir.path()).load(source()).expect("recompiles");
    assert!(
        !reloaded.loaded_from_cache(),
        "a corrupt entry must not be used"
    );
    assert_eq!(reloaded.metadata().id, "trap");
    reloaded.validate_settings("").expect("works");

    // The recompiled entry replaced the corrupt one.
    let again = engine(dir.path()).load(source()).expect("loads");
    assert!(again.loaded_from_cache());
}

#[test]
fn a_flipped_byte_is_recompiled() {
    corrupt_and_reload(|entry| {
        let mut bytes = fs::read(entry).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xFF;
        fs::write(entry, bytes).expect("write");
    });
}

#[test]
fn a_truncated_entry_is_recompiled() {
    corrupt_and_reload(|entry| {
        let bytes = fs::read(entry).expect("read");
        fs::write(entry, &bytes[..bytes.len() / 3]).expect("write");
    });
}

#[test]
fn garbage_with_a_matching_checksum_is_recompiled() {
    // Checksum right, content not a compiled component: wasmtime's own checks reject it.
    corrupt_and_reload(|entry| {
        let garbage = b"this is not a compiled component".to_vec();
        fs::write(entry, &garbage).expect("write");
        let mut checksum = entry.as_os_str().to_owned();
        checksum.push(".sha256");
        let digest = {
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(&garbage))
        };
        fs::write(PathBuf::from(checksum), digest).expect("write checksum");
    });
}

#[test]
fn an_entry_without_its_checksum_is_recompiled() {
    corrupt_and_reload(|entry| {
        let mut checksum = entry.as_os_str().to_owned();
        checksum.push(".sha256");
        fs::remove_file(PathBuf::from(checksum)).expect("remove checksum");
    });
}

#[test]
fn no_cache_directory_means_no_cache() {
    let engine = PolicyEngine::new(Limits::default(), None).expect("engine");
    assert!(engine.cache_dir().is_none());
    assert!(!engine.load(source()).expect("loads").loaded_from_cache());
    assert!(!engine.load(source()).expect("loads").loaded_from_cache());
}

#[test]
fn an_unwritable_cache_directory_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a-file");
    fs::write(&file, b"").expect("write");
    // The cache "directory" is a file: storing fails silently, loading still works.
    let engine = engine(&file.join("cache"));
    assert!(!engine.load(source()).expect("loads").loaded_from_cache());
}

fn file_source(name: &str, path: &str) -> PolicySource {
    PolicySource::Bytes {
        name: name.into(),
        bytes: fs::read(path).expect("fixture"),
    }
}

/// Bytes an entry takes: its compiled code and its checksum.
fn entry_bytes(entry: &Path) -> u64 {
    let mut checksum = entry.as_os_str().to_owned();
    checksum.push(".sha256");
    fs::metadata(entry).expect("entry").len()
        + fs::metadata(PathBuf::from(checksum))
            .expect("checksum")
            .len()
}

fn capped(dir: &Path, bytes: u64) -> PolicyEngine {
    let mut engine = engine(dir);
    engine.set_cache_max_bytes(bytes);
    engine
}

#[test]
fn the_least_recently_used_entries_are_evicted_to_fit_the_cap() {
    let sources = [
        ("trap", fixtures::TRAP),
        ("spin", fixtures::SPIN),
        ("keepsake", fixtures::KEEPSAKE),
    ];
    // The size of each entry, in a cache without a cap.
    let measure = tempfile::tempdir().expect("tempdir");
    let mut sizes = Vec::new();
    for (name, path) in sources {
        let policy = engine(measure.path())
            .load(file_source(name, path))
            .expect("loads");
        let digest = policy.digest().trim_start_matches("sha256:").to_owned();
        let entry = entries(measure.path())
            .into_iter()
            .find(|e| {
                e.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with(&digest)
            })
            .unwrap();
        sizes.push((digest, entry_bytes(&entry)));
    }
    let all: u64 = sizes.iter().map(|(_, bytes)| bytes).sum();
    eprintln!("three entries: {all} bytes");
    let has = |dir: &Path, i: usize| {
        entries(dir).iter().any(|e| {
            e.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&sizes[i].0)
        })
    };

    // Room for any two entries, not three.
    let dir = tempfile::tempdir().expect("tempdir");
    let cap = all - 1;
    let (trap, spin, keepsake) = (sources[0], sources[1], sources[2]);
    capped(dir.path(), cap)
        .load(file_source(trap.0, trap.1))
        .expect("loads");
    std::thread::sleep(std::time::Duration::from_millis(20));
    capped(dir.path(), cap)
        .load(file_source(spin.0, spin.1))
        .expect("loads");
    std::thread::sleep(std::time::Duration::from_millis(20));
    // A hit makes `trap` the most recently used.
    assert!(
        capped(dir.path(), cap)
            .load(file_source(trap.0, trap.1))
            .expect("loads")
            .loaded_from_cache()
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    capped(dir.path(), cap)
        .load(file_source(keepsake.0, keepsake.1))
        .expect("loads");
    assert!(has(dir.path(), 0), "recently used: kept");
    assert!(!has(dir.path(), 1), "least recently used: evicted");
    assert!(has(dir.path(), 2), "just written: kept");
    let left: u64 = entries(dir.path()).iter().map(|e| entry_bytes(e)).sum();
    assert!(left <= cap, "{left} > {cap}");
    let checksums = fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sha256")
        })
        .count();
    assert_eq!(checksums, 2, "an evicted entry's checksum goes with it");
}

#[test]
fn the_entry_being_written_is_kept_even_over_the_cap() {
    let dir = tempfile::tempdir().expect("tempdir");
    capped(dir.path(), 1)
        .load(file_source("trap", fixtures::TRAP))
        .expect("loads");
    assert_eq!(entries(dir.path()).len(), 1);
    let policy = capped(dir.path(), 1)
        .load(file_source("spin", fixtures::SPIN))
        .expect("loads");
    let left = entries(dir.path());
    assert_eq!(left.len(), 1, "{left:?}");
    let digest = policy.digest().trim_start_matches("sha256:");
    assert!(
        left[0]
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(digest)
    );
    // And it is used.
    assert!(
        capped(dir.path(), 1)
            .load(file_source("spin", fixtures::SPIN))
            .expect("loads")
            .loaded_from_cache()
    );
}
