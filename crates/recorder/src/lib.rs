//! The recorder of the gate: [`LogRecorder`] turns a [`Report`] into a decision record (the PCI
//! DSS 10.2.2 fields, masked) and appends it to the project's tamper-evident decision log; it
//! returns only once the record is durable, so a [`tollgate_pipeline::Gate`] using it never
//! reports an unrecorded decision. Attempts refused before any decision (an invalid manifest,
//! invalid settings, a refused policy) are appended too, as rejected-attempt records.

use std::sync::{Arc, mpsc};
use tollgate_decision_log::{
    Attempt, DecisionRecord, Evaluation, Masking, Origin, PolicyFailureRef, PolicyRef, Project,
    Record, RejectedInput, RejectedRecord, Sealer, WaiverRef,
};

use tollgate_decision_log::Appended;
use tollgate_manifest::Timestamp;
use tollgate_pipeline::{
    Actor, InputSource, Receipt, RecordError, Recorder, Refused, Rejection, Report,
};

/// Appends every decision to a project's decision log.
#[derive(Debug)]
pub struct LogRecorder {
    project: Project,
    masking: Masking,
    change_started_at: Option<Timestamp>,
    engine_version: String,
    group: Option<GroupCommit>,
    sealer: Option<Arc<Sealer>>,
    observer: Option<Arc<dyn AppendObserver>>,
}

/// Told of every durable append (for example to schedule checkpoints).
pub trait AppendObserver: Send + Sync + std::fmt::Debug {
    /// `lines` lines (records and their seal) were appended and are durable.
    fn appended(&self, lines: usize);
}

/// A record waiting for the group writer, and where to send its result.
type Pending = (Record, mpsc::SyncSender<Result<Appended, GroupError>>);

/// Why the group writer did not append a record.
#[derive(Debug, Clone)]
enum GroupError {
    /// The writer thread has stopped.
    Stopped,
    /// The batch's append failed (shared by every record of the batch).
    Append(Arc<tollgate_decision_log::AuditError>),
}

impl std::fmt::Display for GroupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stopped => f.write_str("the decision log writer has stopped"),
            Self::Append(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for GroupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Stopped => None,
            Self::Append(error) => error.source(),
        }
    }
}

/// Group commit: one writer thread appends every record waiting at the moment with one write
/// and one `fdatasync` (and, with a writer key, one seal of the whole batch), and answers each
/// caller only once the batch is durable.
#[derive(Debug)]
struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

/// The most records one group commit writes.
const MAX_GROUP: usize = 512;

impl GroupCommit {
    fn start(
        log: tollgate_decision_log::AuditLog,
        sealer: Option<Arc<Sealer>>,
        observer: Option<Arc<dyn AppendObserver>>,
    ) -> Self {
        let (queue, waiting) = mpsc::channel::<Pending>();
        std::thread::spawn(move || {
            // Ends when every sender is gone (the recorder was dropped).
            while let Ok(first) = waiting.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_GROUP {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (records, replies): (Vec<Record>, Vec<_>) = batch.into_iter().unzip();
                match tollgate_decision_log::append_sealed(&log, sealer.as_deref(), &records) {
                    Ok(appended) => {
                        if let Some(observer) = &observer {
                            observer.appended(records.len() + usize::from(sealer.is_some()));
                        }
                        for (reply, appended) in replies.into_iter().zip(appended) {
                            let _ = reply.send(Ok(appended));
                        }
                    }
                    Err(error) => {
                        let error = GroupError::Append(Arc::new(error));
                        for reply in replies {
                            let _ = reply.send(Err(error.clone()));
                        }
                    }
                }
            }
        });
        Self { queue }
    }

    fn append(&self, record: Record) -> Result<Appended, GroupError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.queue
            .send((record, reply))
            .map_err(|_| GroupError::Stopped)?;
        answer.recv().map_err(|_| GroupError::Stopped)?
    }
}

impl LogRecorder {
    /// A recorder for `project`'s log, masking the configured fields plus `extra_masks`.
    pub fn new(
        project: Project,
        extra_masks: &[String],
        change_started_at: Option<Timestamp>,
    ) -> Result<Self, tollgate_decision_log::MaskError> {
        let masking = Masking::new(project.config.mask.iter().chain(extra_masks))?;
        Ok(Self {
            project,
            masking,
            change_started_at,
            engine_version: format!("tollgate {}", env!("CARGO_PKG_VERSION")),
            group: None,
            sealer: None,
            observer: None,
        })
    }

    /// Seals every append with the writer's key (before [`LogRecorder::with_group_commit`]).
    #[must_use]
    pub fn with_sealer(mut self, sealer: Arc<Sealer>) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// Tells `observer` of every durable append (before [`LogRecorder::with_group_commit`]).
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn AppendObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Group commit for a server: concurrent decisions share one write and one `fdatasync`,
    /// each still answered only once its own record is durable.
    #[must_use]
    pub fn with_group_commit(mut self) -> Self {
        self.group = Some(GroupCommit::start(
            self.project.audit_log(),
            self.sealer.clone(),
            self.observer.clone(),
        ));
        self
    }

    /// The project whose log is written.
    pub fn project(&self) -> &Project {
        &self.project
    }

    fn record_of(&self, report: &Report) -> Result<DecisionRecord, RecordError> {
        let mut policies: Vec<PolicyRef> = report
            .evaluated
            .iter()
            .map(|e| PolicyRef {
                id: e.metadata.id.clone(),
                framework: Some(e.metadata.framework.clone()),
                version: Some(e.metadata.version.clone()),
                digest: Some(e.digest.to_string()),
                signer: e.signer.as_deref().map(str::to_owned),
            })
            .collect();
        policies.extend(report.failures.iter().map(|f| PolicyRef {
            id: f.policy.clone(),
            framework: None,
            version: None,
            digest: None,
            signer: None,
        }));
        let waivers = report
            .waivers
            .waived
            .iter()
            .map(|w| WaiverRef {
                id: w.waiver.id.clone(),
                policy_id: Some(w.policy_id.clone()),
                control_id: Some(w.control_id.clone()),
                rule_id: Some(w.rule_id.clone()),
                approved_by: Some(w.waiver.approved_by.clone()),
                reason: Some(w.waiver.justification.clone()),
                expires: Some(w.waiver.expires.clone()),
            })
            .collect();
        let evaluation = Evaluation {
            manifest_path: &report.manifest_path,
            manifest_digest: &report.manifest_digest,
            manifest: &report.manifest,
            evaluated_at: report.now,
            change_started_at: self.change_started_at,
            policies,
            engine_version: self.engine_version.clone(),
            settings_digest: report.settings_digest.clone(),
            combined: &report.combined,
            outcome: report.outcome_after_waivers(),
            failures: report
                .failures
                .iter()
                .map(|f| PolicyFailureRef {
                    policy: f.policy.clone(),
                    kind: f.kind.to_owned(),
                    message: f.message.clone(),
                })
                .collect(),
            waivers,
            exit_code: report.exit_code(),
        };
        let origin = origin_of(
            report.actor.as_ref(),
            report.manifest.change.pipeline_id.as_deref(),
        );
        let mut record = DecisionRecord::build(
            evaluation,
            origin,
            &self.masking,
            tollgate_decision_log::new_id(),
            tollgate_decision_log::now(),
        )
        .map_err(|e| RecordError::new(format!("cannot build the decision record: {e}")))?;
        record.policy_set_digest = Some(policy_set_digest(report));
        Ok(record)
    }
}

/// The origin of a record: this process, with the requester the edge authenticated as its actor
/// when there is one (a gateway's caller, not the gateway's own user).
fn origin_of(actor: Option<&Actor>, fallback_pipeline: Option<&str>) -> Origin {
    let origin = Origin::current(fallback_pipeline);
    match actor {
        Some(actor) => origin.with_actor(&actor.name, &actor.source),
        None => origin,
    }
}

/// `sha256:` of the policy set that made a report: each policy's id and digest (a failed policy
/// by its name alone), in order, then the settings digest, one per line.
pub fn policy_set_digest(report: &Report) -> String {
    let mut text = String::new();
    for e in &report.evaluated {
        text.push_str(&format!("policy {} {}\n", e.metadata.id, e.digest));
    }
    for f in &report.failures {
        text.push_str(&format!("failed {}\n", f.policy));
    }
    text.push_str(&format!(
        "settings {}\n",
        report.settings_digest.as_deref().unwrap_or("none")
    ));
    tollgate_decision_log::sha256_digest(text.as_bytes())
}

impl LogRecorder {
    fn rejected_of(&self, rejection: &Rejection) -> Result<RejectedRecord, RecordError> {
        let input = match rejection.refused {
            Refused::Input(InputSource::Manifest) => RejectedInput::Manifest,
            Refused::Input(InputSource::Settings) => RejectedInput::Settings,
            Refused::Input(InputSource::Options) => RejectedInput::Options,
            Refused::Input(InputSource::Waivers) => RejectedInput::Waivers,
            Refused::Policy => RejectedInput::Policy,
        };
        let attempt = Attempt {
            input,
            refused_path: &rejection.input_path,
            refused_text: rejection.input_text.as_deref(),
            manifest: rejection
                .manifest
                .as_ref()
                .map(|(path, text)| (path.as_str(), text.as_deref())),
            error: &rejection.error,
            field: rejection.field.as_deref(),
            line: rejection.line,
            evaluated_at: rejection.now,
            engine_version: self.engine_version.clone(),
            exit_code: rejection.exit_code,
        };
        RejectedRecord::build(
            attempt,
            origin_of(rejection.actor.as_ref(), None),
            &self.masking,
            tollgate_decision_log::new_id(),
            tollgate_decision_log::now(),
        )
        .map_err(|e| {
            RecordError::new(format!(
                "cannot build the record of the rejected attempt: {e}"
            ))
        })
    }

    /// Appends a record durably and returns its receipt.
    fn append(&self, record: Record) -> Result<Receipt, RecordError> {
        let id = record.id().to_owned();
        let log = self.project.log_location();
        self.project.prepare_log_dir().map_err(|e| {
            RecordError::new(format!(
                "cannot create the directory of the audit log `{log}`: {e}"
            ))
        })?;
        let appended = match &self.group {
            Some(group) => group
                .append(record)
                .map_err(|e| RecordError::new(e.to_string()))?,
            None => {
                let appended = tollgate_decision_log::append_sealed(
                    &self.project.audit_log(),
                    self.sealer.as_deref(),
                    std::slice::from_ref(&record),
                )
                .map_err(|e| RecordError::new(e.to_string()))?;
                if let Some(observer) = &self.observer {
                    observer.appended(1 + usize::from(self.sealer.is_some()));
                }
                appended.into_iter().next().ok_or_else(|| {
                    RecordError::new("the decision log appended nothing".to_owned())
                })?
            }
        };
        let warnings = appended
            .recovered
            .map(|recovery| {
                format!(
                    "the audit log `{log}` ended with {} bytes of an interrupted append (offset {}); they were set aside by recovery record {}",
                    recovery.length, recovery.offset, recovery.id
                )
            })
            .into_iter()
            .collect();
        Ok(Receipt::Recorded { id, log, warnings })
    }
}

impl Recorder for LogRecorder {
    fn record(&self, report: &Report) -> Result<Receipt, RecordError> {
        let record = self.record_of(report)?;
        self.append(Record::Decision(Box::new(record)))
    }

    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        let record = self.rejected_of(rejection)?;
        self.append(Record::Rejected(Box::new(record)))
    }
}
