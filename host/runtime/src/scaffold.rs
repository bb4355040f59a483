//! `tollgate new policy`: a working policy project in Rust, JavaScript or Python, from the
//! templates under `host/runtime/templates/` (embedded at build time, with the workspace's
//! `wit/tollgate.wit`). Each project has one sample control with its catalogue entry and
//! regulatory references, a settings schema and settings, two golden cases, a build script that
//! makes `dist/<name>.wasm`, a `.gitignore` and a README.

use std::path::{Path, PathBuf};

use crate::RuntimeError;

/// The language of a new policy project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A crate over the policy SDK, componentized with `tollgate policy componentize`.
    Rust,
    /// componentize-js, every WASI feature disabled.
    JavaScript,
    /// componentize-py with `--stub-wasi`.
    Python,
}

/// Where a Rust project takes the policy SDK from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sdk {
    /// A path dependency on this directory (a checkout's `crates/policy-sdk`).
    Path(PathBuf),
    /// A git dependency on the Tollgate repository.
    Git,
}

/// The repository a Rust project's git dependency names (the workspace's `repository`; the SDK is
/// not on crates.io).
pub const SDK_GIT: &str = "https://example.invalid/tollgate";

/// Built-in policy ids, which a new policy must not take.
const BUILTIN_IDS: &[&str] = &["sox", "hipaa", "pci", "fda"];

/// The longest policy id accepted.
const MAX_NAME: usize = 64;

/// The contract every project is built against.
const WIT: &str = include_str!("../../../wit/tollgate.wit");

/// One template file: its path in the project, its text, whether it is executable.
type Template = (&'static str, &'static str, bool);

const COMMON: &[Template] = &[
    ("wit/tollgate.wit", WIT, false),
    (
        "settings.yaml",
        include_str!("../templates/common/settings.yaml"),
        false,
    ),
    (
        "manifests/change.yaml",
        include_str!("../templates/common/manifests/change.yaml"),
        false,
    ),
    (
        "tests/cases/01-independent-approval-approved.yaml",
        include_str!("../templates/common/tests/cases/01-independent-approval-approved.yaml"),
        false,
    ),
    (
        "tests/cases/02-self-approval-denied.yaml",
        include_str!("../templates/common/tests/cases/02-self-approval-denied.yaml"),
        false,
    ),
];

const RUST: &[Template] = &[
    (
        "Cargo.toml",
        include_str!("../templates/rust/Cargo.toml"),
        false,
    ),
    (
        "src/lib.rs",
        include_str!("../templates/rust/src/lib.rs"),
        false,
    ),
    ("build", include_str!("../templates/rust/build"), true),
    (
        ".gitignore",
        include_str!("../templates/rust/gitignore"),
        false,
    ),
    (
        "README.md",
        include_str!("../templates/rust/README.md"),
        false,
    ),
];

const JAVASCRIPT: &[Template] = &[
    (
        "package.json",
        include_str!("../templates/js/package.json"),
        false,
    ),
    (
        "src/index.js",
        include_str!("../templates/js/src/index.js"),
        false,
    ),
    (
        "src/contract.js",
        include_str!("../templates/js/src/contract.js"),
        false,
    ),
    (
        "tools/componentize.mjs",
        include_str!("../templates/js/tools/componentize.mjs"),
        false,
    ),
    (
        "tools/deterministic-wasi.c",
        include_str!("../templates/js/tools/deterministic-wasi.c"),
        false,
    ),
    ("build", include_str!("../templates/js/build"), true),
    (
        ".gitignore",
        include_str!("../templates/js/gitignore"),
        false,
    ),
    (
        "README.md",
        include_str!("../templates/js/README.md"),
        false,
    ),
];

const PYTHON: &[Template] = &[
    (
        "requirements.txt",
        include_str!("../templates/python/requirements.txt"),
        false,
    ),
    ("app.py", include_str!("../templates/python/app.py"), false),
    (
        "tools/deterministic.c",
        include_str!("../templates/python/tools/deterministic.c"),
        false,
    ),
    ("build", include_str!("../templates/python/build"), true),
    (
        ".gitignore",
        include_str!("../templates/python/gitignore"),
        false,
    ),
    (
        "README.md",
        include_str!("../templates/python/README.md"),
        false,
    ),
];

/// What [`new_policy`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaffolded {
    /// The project's directory.
    pub dir: PathBuf,
    /// The files written, relative to `dir`, in the order written.
    pub files: Vec<PathBuf>,
}

/// Checks a policy name: it becomes the policy id (and the Rust crate's name), so lowercase ASCII
/// letters, digits and single `-` between them, starting with a letter, at most 64 characters,
/// and not a built-in policy's id.
pub fn check_policy_name(name: &str) -> Result<(), RuntimeError> {
    let invalid = |reason: &str| {
        Err(RuntimeError::PolicyName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > MAX_NAME {
        return invalid(&format!("it is longer than {MAX_NAME} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return invalid(&format!(
            "`{c}` is not allowed: use lowercase letters, digits and `-`"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return invalid("it must start with a lowercase letter");
    }
    if name.ends_with('-') || name.contains("--") {
        return invalid("`-` must stand between letters or digits");
    }
    if BUILTIN_IDS.contains(&name) {
        return invalid("it is the id of a built-in policy");
    }
    Ok(())
}

/// The framework name shown in reports: the id's words capitalised (`acme-approval` → `Acme
/// Approval`).
fn framework_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `[dependencies]` line of the SDK.
fn sdk_dependency(sdk: &Sdk) -> Result<String, RuntimeError> {
    match sdk {
        Sdk::Path(path) => {
            let manifest = path.join("Cargo.toml");
            let text =
                std::fs::read_to_string(&manifest).map_err(|source| RuntimeError::SdkPath {
                    path: path.clone(),
                    reason: format!("cannot read `{}`: {source}", manifest.display()),
                })?;
            if !text.contains("name = \"tollgate-policy-sdk\"") {
                return Err(RuntimeError::SdkPath {
                    path: path.clone(),
                    reason: "its Cargo.toml is not the `tollgate-policy-sdk` crate's".into(),
                });
            }
            // Absolute, so that the project builds from wherever it is moved to on this machine.
            let absolute = std::fs::canonicalize(path).map_err(|source| RuntimeError::SdkPath {
                path: path.clone(),
                reason: source.to_string(),
            })?;
            let shown = absolute.display().to_string();
            Ok(format!(
                "# The policy SDK of a Tollgate checkout (`tollgate new policy --sdk-path`).\n\
                 tollgate-policy-sdk = {{ path = {}, features = [\"component\"] }}",
                toml_string(&shown)
            ))
        }
        Sdk::Git => Ok(format!(
            "# The policy SDK is not on crates.io: a git dependency on the Tollgate repository (pin a\n\
             # `rev` for reproducible builds), or `tollgate new policy --sdk-path DIR` for a checkout's\n\
             # `crates/policy-sdk`.\n\
             tollgate-policy-sdk = {{ git = \"{SDK_GIT}\", features = [\"component\"] }}"
        )),
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// Writes a new policy project `name` in `dir` (which must not exist or be empty): see the
/// module's documentation. `sdk` matters only for Rust.
pub fn new_policy(
    name: &str,
    language: Language,
    dir: &Path,
    sdk: &Sdk,
) -> Result<Scaffolded, RuntimeError> {
    check_policy_name(name)?;
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|source| RuntimeError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        if entries.next().is_some() {
            return Err(RuntimeError::NotEmpty(dir.to_owned()));
        }
    }
    let crate_name = name.replace('-', "_");
    let framework = framework_name(name);
    let sdk_line = match language {
        Language::Rust => sdk_dependency(sdk)?,
        Language::JavaScript | Language::Python => String::new(),
    };
    let specific = match language {
        Language::Rust => RUST,
        Language::JavaScript => JAVASCRIPT,
        Language::Python => PYTHON,
    };
    let mut files = Vec::new();
    for (path, text, executable) in COMMON.iter().chain(specific) {
        let text = text
            .replace("{{sdk_dependency}}", &sdk_line)
            .replace("{{id}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{framework}}", &framework);
        let target = dir.join(path);
        write_file(&target, text.as_bytes(), *executable)?;
        files.push(PathBuf::from(path));
    }
    Ok(Scaffolded {
        dir: dir.to_owned(),
        files,
    })
}

fn write_file(path: &Path, bytes: &[u8], executable: bool) -> Result<(), RuntimeError> {
    let failed = |source| RuntimeError::Write {
        what: "project file",
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        tollgate_durable::create_dir_all(parent, tollgate_durable::Access::Shared)
            .map_err(failed)?;
    }
    tollgate_durable::write(path, bytes, tollgate_durable::Access::Shared).map_err(failed)?;
    if executable {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(failed)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_the_reason() {
        for good in ["acme-approval", "cc01", "a", "x-1-y"] {
            assert!(check_policy_name(good).is_ok(), "{good}");
        }
        for (bad, reason) in [
            ("", "empty"),
            ("Acme", "`A` is not allowed"),
            ("acme_approval", "`_` is not allowed"),
            ("1acme", "start with a lowercase letter"),
            ("acme-", "between letters or digits"),
            ("acme--x", "between letters or digits"),
            ("sox", "built-in"),
        ] {
            let error = check_policy_name(bad).map(drop).unwrap_err().to_string();
            assert!(error.contains(reason), "{bad}: {error}");
            assert!(error.contains(&format!("`{bad}`")), "{bad}: {error}");
        }
        assert!(check_policy_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn framework_names_capitalise_words() {
        assert_eq!(framework_name("acme-approval"), "Acme Approval");
        assert_eq!(framework_name("cc01"), "Cc01");
    }

    #[test]
    fn every_template_placeholder_is_filled() {
        let dir = tempfile::tempdir().unwrap();
        for (language, sub) in [
            (Language::Rust, "rust"),
            (Language::JavaScript, "js"),
            (Language::Python, "python"),
        ] {
            let target = dir.path().join(sub);
            let made = new_policy("acme-approval", language, &target, &Sdk::Git).unwrap();
            for file in &made.files {
                let text = std::fs::read_to_string(target.join(file)).unwrap();
                assert!(!text.contains("{{"), "{sub}/{}", file.display());
            }
            let again = new_policy("acme-approval", language, &target, &Sdk::Git);
            assert!(matches!(again, Err(RuntimeError::NotEmpty(_))));
        }
    }
}
