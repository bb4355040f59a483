//! Paths as code-scanning and merge-request views want them: relative to the working directory
//! (where CI runs, the repository root), or else to the repository root, never absolute when they
//! are inside either.

use std::path::{Component, Path, PathBuf};

/// The SARIF base id that relative artifact locations are resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

/// A path given on the command line as the reports show it: `./` dropped; an absolute path inside
/// the working directory, or else inside the repository that holds it (the nearest ancestor of the
/// working directory with a `.git`), made relative to it. Other paths, `-` and names such as
/// `<request>` are kept as they are.
pub fn shown(path: &str) -> String {
    let given = Path::new(path);
    if !given.is_absolute() {
        let mut text = path.replace('\\', "/");
        while let Some(rest) = text.strip_prefix("./") {
            text = rest.to_owned();
        }
        return text;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_owned();
    };
    let absolute = normalize(given);
    let root = cwd.ancestors().find(|dir| dir.join(".git").exists());
    [Some(cwd.as_path()), root]
        .into_iter()
        .flatten()
        .find_map(|base| absolute.strip_prefix(normalize(base)).ok())
        .filter(|relative| !relative.as_os_str().is_empty())
        .map_or_else(
            || path.to_owned(),
            |relative| {
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/")
            },
        )
}

/// `.` and `..` resolved without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_inside_the_working_directory_become_relative() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let inside = cwd.join("sub/./change.yaml");
        assert_eq!(shown(&inside.display().to_string()), "sub/change.yaml");
        let root = cwd
            .ancestors()
            .find(|dir| dir.join(".git").exists())
            .map(Path::to_path_buf);
        if let Some(root) = root {
            let elsewhere = root.join("examples/manifests/x.yaml");
            let expected = elsewhere
                .strip_prefix(&cwd)
                .unwrap_or(Path::new("examples/manifests/x.yaml"))
                .display()
                .to_string();
            assert_eq!(shown(&elsewhere.display().to_string()), expected);
        }
        assert_eq!(
            shown("/nonexistent-root/x.yaml"),
            "/nonexistent-root/x.yaml"
        );
        assert_eq!(shown("./a/b.yaml"), "a/b.yaml");
        assert_eq!(shown("-"), "-");
        assert_eq!(shown("<request>"), "<request>");
    }
}
