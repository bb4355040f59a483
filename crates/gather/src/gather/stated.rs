//! The steps of a gathering that take values as stated: by the CI environment, the change-ticket
//! file and the command-line flags, and the fail-closed defaults for what none of them said.

use serde_json::json;

use super::facts::source;
use super::report_files::DETECTORS;
use super::steps::{Gathering, PATH_RULES, read};
use crate::GatherError;
use crate::ci::Sourced;
use crate::git::Repository;
use crate::ticket::Ticket;
use tollgate_manifest::{FactSource, SourceKind};

impl Gathering<'_> {
    /// The CI environment: pipeline, deployer (the CI actor) and their groups, environment and
    /// title.
    pub(super) fn ci_context(&mut self) {
        let ci = &self.request.ci;
        let facts = &mut self.facts;
        if let Some(pipeline) = &ci.pipeline_id {
            facts.set(
                "change",
                "pipeline_id",
                json!(pipeline.value),
                ci_source(pipeline, ci.system),
            );
        }
        if let Some(actor) = &ci.actor {
            facts.set(
                "change",
                "deployer",
                json!(actor.value),
                ci_source(actor, ci.system),
            );
        }
        if let Some(environment) = &ci.environment {
            facts.set(
                "change",
                "environment",
                json!(environment.value),
                ci_source(environment, ci.system),
            );
        }
        if let Some(variable) = &ci.deployer_groups {
            let groups: Vec<&str> = variable
                .value
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .collect();
            facts.set(
                "change",
                "deployer_groups",
                json!(groups),
                ci_source(variable, ci.system),
            );
        }
        if let Some(title) = &ci.title {
            facts.set(
                "change",
                "title",
                json!(title.value),
                ci_source(title, ci.system),
            );
        }
    }

    /// The change ticket, from its file or its system: id, status, approvals and what else it
    /// states.
    pub(super) fn ticket(&mut self, repo: &Repository) -> Result<(), GatherError> {
        let request = self.request;
        let (ticket, source) = match (&request.ticket, &request.live_ticket) {
            (Some(_), Some(live)) => {
                return Err(GatherError::Argument {
                    flag: "--ticket",
                    value: live.to_string(),
                    message: "give one ticket: a file or a ticket system's, not both".to_owned(),
                });
            }
            (Some(path), None) => {
                let origin = path.display().to_string();
                let ticket = Ticket::parse(&read(path, "ticket file")?, &origin)?;
                let source = Self::evidence_file_source(repo, &[path], SourceKind::Ticket, origin)?;
                (ticket, source)
            }
            (None, Some(reference)) => {
                let live = tollgate_tickets::fetch(
                    reference,
                    &request.config.tickets,
                    &request.ticket_environment,
                )?;
                let source = self.live_ticket_source(repo, &live)?;
                self.notes.extend(live.notes.iter().cloned());
                (Ticket::from(live), source)
            }
            (None, None) => return Ok(()),
        };
        let facts = &mut self.facts;
        facts.set("change", "id", json!(ticket.id), source.clone());
        facts.set(
            "change",
            "ticket_status",
            json!(ticket.status),
            source.clone(),
        );
        facts.set(
            "change",
            "approvals",
            json!(ticket.approvals),
            source.clone(),
        );
        if let Some(title) = ticket.title {
            facts.set("change", "title", json!(title), source.clone());
        }
        if let Some(submitted) = ticket.submitted_at {
            facts.set(
                "change",
                "submitted_at",
                json!(submitted.to_string()),
                source.clone(),
            );
        }
        if let Some(emergency) = ticket.emergency {
            facts.set("change", "emergency", json!(emergency), source.clone());
        }
        if let Some(reason) = ticket.reason {
            facts.set("change", "reason", json!(reason), source.clone());
        }
        if let Some(impact) = ticket.security_impact {
            facts.set("change", "security_impact", json!(impact), source);
        }
        Ok(())
    }

    /// The source of a live ticket's facts: the ticket system, unless its URL came from a
    /// configuration file committed to the repository under change, whose author could point it
    /// at a server of their own.
    fn live_ticket_source(
        &self,
        repo: &Repository,
        live: &tollgate_tickets::LiveTicket,
    ) -> Result<FactSource, GatherError> {
        if live.url_origin == tollgate_tickets::UrlOrigin::Configuration
            && let Some(path) = &self.request.config_path
            && repo.tracks(path)?
        {
            return Ok(source(
                SourceKind::HandWritten,
                format!(
                    "{}; the URL comes from `{}`, committed to the repository under change",
                    live.detail,
                    path.display()
                ),
            ));
        }
        Ok(source(SourceKind::Ticket, live.detail.clone()))
    }

    /// Values given on the command line, and the data classes in scope (detected or flagged).
    pub(super) fn flags(&mut self) {
        let overrides = &self.request.overrides;
        let facts = &mut self.facts;
        let flag = |name: &str| source(SourceKind::CommandLine, format!("--{name}"));
        let text_flags = [
            (&overrides.change_id, "id", "change-id"),
            (&overrides.title, "title", "title"),
            (&overrides.author, "author", "author"),
            (&overrides.deployer, "deployer", "deployer"),
            (&overrides.environment, "environment", "environment"),
            (&overrides.pipeline_id, "pipeline_id", "pipeline-id"),
        ];
        for (value, key, name) in text_flags {
            if let Some(value) = value {
                facts.set("change", key, json!(value), flag(name));
            }
        }
        if !overrides.deployer_groups.is_empty() {
            facts.set(
                "change",
                "deployer_groups",
                json!(overrides.deployer_groups),
                flag("deployer-group"),
            );
        }
        if let Some(emergency) = overrides.emergency {
            facts.set("change", "emergency", json!(emergency), flag("emergency"));
        }
        for class in &overrides.data_classes {
            if !self.data_classes.contains(class) {
                self.data_classes.push(*class);
                self.data_sources.push("--data-class".to_owned());
            }
        }
        if !self.data_classes.is_empty() {
            self.data_sources.dedup();
            // Detected data outranks a path rule, and a path rule a flag: the detectors' finding is
            // what brought it in scope.
            let kind = if self.data_sources.iter().any(|s| s == DETECTORS) {
                SourceKind::Detector
            } else if self.data_sources.iter().any(|s| s.starts_with(PATH_RULES)) {
                SourceKind::Configuration
            } else {
                SourceKind::CommandLine
            };
            facts.set(
                "change",
                "data_classes",
                json!(self.data_classes),
                source(kind, self.data_sources.join(", ")),
            );
        }
    }

    /// The change id when no ticket, flag or hand-written manifest gave one: the merge or pull
    /// request (`MR-42`, `PR-17`), else the head commit's SHA. The ticket status then stays the
    /// `draft` default, so the gate asks for approval instead of failing on a missing id.
    pub(super) fn fallback_change_id(&mut self) {
        let ci = &self.request.ci;
        let facts = &mut self.facts;
        if !facts.has("change", "id") {
            if let Some(request) = &ci.change_request {
                facts.set(
                    "change",
                    "id",
                    json!(request.value),
                    ci_source(request, ci.system),
                );
                self.notes.push(format!(
                    "no change ticket: `change.id` is the merge or pull request `{}` ({}); the ticket is `draft` until one is given",
                    request.value, request.variable
                ));
            } else if let Some(serde_json::Value::String(commit)) = facts.get("change", "commit") {
                let commit = commit.clone();
                facts.set(
                    "change",
                    "id",
                    json!(commit),
                    source(
                        SourceKind::Git,
                        "head commit SHA: no ticket or merge request",
                    ),
                );
                self.notes.push(format!(
                    "no change ticket or merge request: `change.id` is the head commit `{commit}`; the ticket is `draft` until one is given"
                ));
            }
        }
    }

    /// Defaults for what nothing said, fail-closed: an unapproved ticket, the production
    /// environment.
    pub(super) fn defaults(&mut self) {
        let facts = &mut self.facts;
        if !facts.has("change", "ticket_status") {
            facts.set(
                "change",
                "ticket_status",
                json!("draft"),
                source(SourceKind::Default, "no ticket: not approved"),
            );
        }
        if !facts.has("change", "environment") {
            facts.set(
                "change",
                "environment",
                json!("production"),
                source(SourceKind::Default, "no CI environment: the strictest"),
            );
        }
    }
}

fn ci_source(sourced: &Sourced, system: Option<crate::CiSystem>) -> FactSource {
    let detail = match system {
        Some(system) => format!("{system} {}", sourced.variable),
        None => sourced.variable.to_string(),
    };
    source(SourceKind::Ci, detail)
}
