//! The recorder of the gate: [`LogRecorder`] turns a [`Report`] into a decision record (the PCI
//! DSS 10.2.2 fields, masked) and appends it to the project's tamper-evident decision log; it
//! returns only once the record is durable, so a [`tollgate_pipeline::Gate`] using it never
//! reports an unrecorded decision. Attempts refused before any decision (an invalid manifest,
//! invalid settings, a refused policy) are appended too, as rejected-attempt records.

use tollgate_audit::{
    Attempt, DecisionRecord, Evaluation, Masking, Origin, PolicyFailureRef, PolicyRef, Project,
    Record, RejectedInput, RejectedRecord, WaiverRef,
};
use tollgate_manifest::Timestamp;
use tollgate_pipeline::{InputSource, Receipt, RecordError, Recorder, Refused, Rejection, Report};

/// Appends every decision to a project's decision log.
#[derive(Debug)]
pub struct LogRecorder {
    project: Project,
    masking: Masking,
    change_started_at: Option<Timestamp>,
    engine_version: String,
}

impl LogRecorder {
    /// A recorder for `project`'s log, masking the configured fields plus `extra_masks`.
    pub fn new(
        project: Project,
        extra_masks: &[String],
        change_started_at: Option<Timestamp>,
    ) -> Result<Self, tollgate_audit::MaskError> {
        let masking = Masking::new(project.config.mask.iter().chain(extra_masks))?;
        Ok(Self {
            project,
            masking,
            change_started_at,
            engine_version: format!("tollgate {}", env!("CARGO_PKG_VERSION")),
        })
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
                digest: Some(e.digest.clone()),
                signer: e.signer.clone(),
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
            manifest_text: &report.manifest_text,
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
        let origin = Origin::current(report.manifest.change.pipeline_id.as_deref());
        DecisionRecord::build(
            evaluation,
            origin,
            &self.masking,
            tollgate_audit::new_id(),
            tollgate_audit::now(),
        )
        .map_err(|e| RecordError::new(format!("cannot build the decision record: {e}")))
    }
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
            Origin::current(None),
            &self.masking,
            tollgate_audit::new_id(),
            tollgate_audit::now(),
        )
        .map_err(|e| {
            RecordError::new(format!(
                "cannot build the record of the rejected attempt: {e}"
            ))
        })
    }

    /// Appends a record durably and returns its receipt.
    fn append(&self, record: &Record) -> Result<Receipt, RecordError> {
        let id = record.id().to_owned();
        let log = self.project.log.display().to_string();
        self.project.prepare_log_dir().map_err(|e| {
            RecordError::new(format!(
                "cannot create the directory of the audit log `{log}`: {e}"
            ))
        })?;
        let appended = self
            .project
            .audit_log()
            .append(record)
            .map_err(|e| RecordError::new(e.to_string()))?;
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
        self.append(&Record::Decision(Box::new(record)))
    }

    fn record_rejected(&self, rejection: &Rejection) -> Result<Receipt, RecordError> {
        let record = self.rejected_of(rejection)?;
        self.append(&Record::Rejected(Box::new(record)))
    }
}
