//! The steps of a gathering, in the order [`super::gather`] runs them. Each step adds the facts of one
//! source; a later step overrides an earlier one, so the order is the precedence (lowest first).
//! This module holds the state, the git step and the final steps (hand-written manifest, required
//! fields, validation); the evidence-file steps are in `evidence` and the stated values (CI,
//! ticket, flags, defaults) in `stated`.

use std::path::Path;

use serde_json::{Value, json};
use tollgate_manifest::SourceKind::{Configuration, Git};
use tollgate_manifest::{
    ChangeCategory, DataClass, FactSource, Format, Manifest, SourceKind, decode,
};

use super::facts::{Facts, field_rank, source};
use super::merge::merge_hand_written;
use super::output::Gathered;
use super::request::GatherRequest;
use crate::GatherError;
use crate::config::{AuthorIdentity, Config};
use crate::detect::Detection;
use crate::git::{Commit, Diff, Repository};
use crate::paths::{DataClassRules, PathRules};

/// How a data class brought into scope by `[data_classes]` path rules names its source.
pub(super) const PATH_RULES: &str = "path rules";

/// A gathering in progress: the facts so far, the notes for a reviewer, and the data classes
/// brought into scope (with their sources).
pub(super) struct Gathering<'a> {
    pub(super) request: &'a GatherRequest,
    pub(super) facts: Facts,
    pub(super) notes: Vec<String>,
    pub(super) data_classes: Vec<DataClass>,
    pub(super) data_sources: Vec<String>,
}

impl<'a> Gathering<'a> {
    pub(super) fn new(request: &'a GatherRequest) -> Self {
        Self {
            request,
            facts: Facts::new(),
            notes: Vec::new(),
            data_classes: Vec::new(),
            data_sources: Vec::new(),
        }
    }

    /// The source of facts read from evidence files: `kind`, unless one of the files is committed
    /// to the repository under change, where the change's author could have written it.
    pub(super) fn evidence_file_source(
        repo: &Repository,
        paths: &[&Path],
        kind: SourceKind,
        detail: String,
    ) -> Result<FactSource, GatherError> {
        for path in paths {
            if repo.tracks(path)? {
                return Ok(source(
                    SourceKind::HandWritten,
                    format!(
                        "{detail}; `{}` is committed to the repository under change",
                        path.display()
                    ),
                ));
            }
        }
        Ok(source(kind, detail))
    }

    /// Git: the change between the merge base of base and head, and head (commit, title, author,
    /// size, categories). Returns the repository and the diff for the detectors.
    pub(super) fn git_change(&mut self) -> Result<(Repository, Diff), GatherError> {
        let request = self.request;
        let config = &request.config;
        let ci = &request.ci;
        let repo = Repository::open(&request.repo)?;
        let head = request
            .head
            .clone()
            .or_else(|| ci.commit.as_ref().map(|c| c.value.clone()))
            .unwrap_or_else(|| "HEAD".to_owned());
        let base = request
            .base
            .clone()
            .or_else(|| ci.base.as_ref().map(|b| b.value.clone()))
            .ok_or(GatherError::Missing {
                field: "base revision",
                help: "pass `--base REV` (for example `--base origin/main`); no CI merge-request target or previous commit was found",
            })?;
        let diff = repo.diff(&base, &head)?;
        let commit: Commit = repo.commit(&diff.head)?;
        let rules = PathRules::new(&config.categories)?;
        let classification = rules.classify(diff.paths());
        let paths: Vec<&str> = diff.paths().collect();
        for (class, name, path) in DataClassRules::new(&config.data_classes)?.classify(&paths) {
            if !self.data_classes.contains(&class) {
                self.data_classes.push(class);
                self.data_sources
                    .push(format!("{PATH_RULES} (data_classes.{name}<-{path})"));
            }
        }

        let facts = &mut self.facts;
        facts.set("change", "commit", json!(commit.id), source(Git, ""));
        facts.set(
            "change",
            "title",
            json!(commit.subject),
            source(Git, "head commit subject"),
        );
        facts.set(
            "change",
            "author",
            json!(author_identity(config, &commit)),
            source(Git, "head commit author"),
        );
        facts.set(
            "change",
            "lines_changed",
            json!(diff.lines_changed()),
            source(Git, ""),
        );
        let categories: Vec<&str> = classification
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect();
        let why: Vec<String> = classification
            .reasons
            .iter()
            .map(|(c, path)| format!("{}<-{path}", c.as_str()))
            .collect();
        let rule_source = format!("path rules ({})", why.join(", "));
        facts.set(
            "change",
            "categories",
            json!(categories),
            source(Configuration, rule_source),
        );
        facts.set(
            "change",
            "includes_schema_changes",
            json!(classification.has(ChangeCategory::DatabaseSchema)),
            source(Configuration, "path rules (database_schema)"),
        );
        facts.set(
            "change",
            "touches_security_components",
            json!(classification.has(ChangeCategory::SecurityChanges)),
            source(Configuration, "path rules (security_changes)"),
        );
        if diff.authors.len() > 1 {
            let names: Vec<&str> = diff.authors.iter().map(|(_, e)| e.as_str()).collect();
            self.notes.push(format!(
                "the change has {} commit authors ({}); `change.author` is the head commit's",
                diff.authors.len(),
                names.join(", ")
            ));
        }
        Ok((repo, diff))
    }

    /// The hand-written manifests, merged over everything else in order (a later file wins).
    /// Returns the files merged, if any.
    pub(super) fn hand_written(&mut self) -> Result<Option<String>, GatherError> {
        let mut origins = Vec::new();
        for path in &self.request.partial {
            let origin = path.display().to_string();
            let text = read(path, "partial manifest")?;
            let format = Format::detect(Some(path), &text);
            let written: Value = decode(&text, format).map_err(|source| GatherError::Document {
                what: "partial manifest",
                path: origin.clone(),
                source,
            })?;
            let Value::Object(written) = written else {
                return Err(GatherError::Field {
                    what: "partial manifest",
                    path: origin,
                    field: "(document)",
                    message: "must be a mapping".to_owned(),
                });
            };
            merge_hand_written(&mut self.facts, &written, &origin, &mut self.notes)?;
            origins.push(origin);
        }
        Ok((!origins.is_empty()).then(|| origins.join(", ")))
    }

    /// The fields no source may leave out: the change id and the deployer.
    pub(super) fn require_id_and_deployer(&self) -> Result<(), GatherError> {
        for (field, help) in [
            (
                "id",
                "pass `--change-id`, a `--ticket` file, or set `change.id` in the `--merge` manifest",
            ),
            (
                "deployer",
                "pass `--deployer`, run in CI (GitLab, GitHub Actions, Jenkins), or set `change.deployer` in the `--merge` manifest",
            ),
        ] {
            if !self.facts.has("change", field) {
                return Err(GatherError::Missing {
                    field: if field == "id" {
                        "change.id"
                    } else {
                        "change.deployer"
                    },
                    help,
                });
            }
        }
        Ok(())
    }

    /// Notes an author and a deployer that look like identities of different systems (an email
    /// and a login), which separation of duties could not compare.
    pub(super) fn note_identity_systems(&mut self) {
        if let (Some(Value::String(author)), Some(Value::String(deployer))) = (
            self.facts.get("change", "author"),
            self.facts.get("change", "deployer"),
        ) && author.contains('@') != deployer.contains('@')
        {
            self.notes.push(format!(
                "`change.author` ({author}) and `change.deployer` ({deployer}) look like identities of different systems; map git emails to logins in `[identity]` of tollgate.toml so that separation of duties compares like with like"
            ));
        }
    }

    /// Validates the facts as a manifest and orders the provenance like the manifest's fields.
    pub(super) fn finish(
        self,
        partial_origin: Option<String>,
        detections: Vec<Detection>,
    ) -> Result<Gathered, GatherError> {
        let mut facts = self.facts;
        let provenance_value = facts.provenance_value();
        if let Value::Object(root) = &mut facts.root {
            root.insert("provenance".to_owned(), provenance_value);
        }
        let json_text =
            serde_json::to_string(&facts.root).map_err(|e| GatherError::Internal(e.to_string()))?;
        let manifest = Manifest::from_text(&json_text, Format::Json).map_err(|source| {
            GatherError::Invalid {
                partial: partial_origin,
                source,
            }
        })?;
        let mut provenance = facts.provenance;
        provenance.sort_by_key(|s| field_rank(&s.field));
        Ok(Gathered {
            manifest,
            provenance,
            detections,
            notes: self.notes,
        })
    }
}

fn author_identity(config: &Config, commit: &Commit) -> String {
    let identity = &config.identity;
    if let Some(alias) = identity
        .aliases
        .get(&commit.author_email)
        .or_else(|| identity.aliases.get(&commit.author_name))
    {
        return alias.clone();
    }
    match identity.author {
        AuthorIdentity::Email if !commit.author_email.is_empty() => commit.author_email.clone(),
        AuthorIdentity::EmailLocalPart if !commit.author_email.is_empty() => commit
            .author_email
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned(),
        _ => commit.author_name.clone(),
    }
}

pub(super) fn read(path: &Path, what: &'static str) -> Result<String, GatherError> {
    std::fs::read_to_string(path).map_err(|source| GatherError::Read {
        what,
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_identity_follows_config() {
        let commit = Commit {
            id: "x".into(),
            author_name: "Alice Liddell".into(),
            author_email: "alice@example.com".into(),
            subject: "s".into(),
        };
        let mut config = Config::default();
        assert_eq!(author_identity(&config, &commit), "alice@example.com");
        config.identity.author = AuthorIdentity::EmailLocalPart;
        assert_eq!(author_identity(&config, &commit), "alice");
        config.identity.author = AuthorIdentity::Name;
        assert_eq!(author_identity(&config, &commit), "Alice Liddell");
        config
            .identity
            .aliases
            .insert("alice@example.com".into(), "aliddell".into());
        assert_eq!(author_identity(&config, &commit), "aliddell");
    }
}
