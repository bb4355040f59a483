//! The records of the decision log: one per evaluation (the PCI DSS 10.2.2 fields), one per later
//! mark of a change's deployment result, and one per recovery from a torn tail.

use serde::{Deserialize, Serialize};
use tollgate_decision::{CombinedDecision, Decision, Outcome, RiskClass};
use tollgate_manifest::{Manifest, Timestamp};

use crate::mask::{MaskError, MaskedManifest, Masking};
use crate::origin::Origin;

/// One record of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    /// The result of one `tollgate eval`.
    Decision(Box<DecisionRecord>),
    /// A later statement about a decided change: deployed, failed or rolled back.
    Mark(MarkRecord),
    /// Bytes of an interrupted append, found and set aside by the next append.
    Recovery(RecoveryRecord),
    /// An attempt refused before any decision: an invalid manifest, invalid settings or a refused
    /// policy. Nothing was decided, but the attempt is on record.
    Rejected(Box<RejectedRecord>),
    /// A request the gateway refused (401/403): who, what, from where; never the token.
    Access(AccessRecord),
    /// A writer's signature over the records of its append just before it (see [`crate::seal`]).
    Seal(crate::seal_record::SealRecord),
    /// A line whose checksum, sequence number and chain link are intact but whose record this
    /// version cannot read (another format version). Never written; verification still counts it.
    #[serde(skip)]
    Unreadable(UnreadableRecord),
}

/// A record this version cannot read, kept as raw JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreadableRecord {
    /// The record as JSON.
    pub raw: serde_json::Value,
    /// Why it cannot be read.
    pub error: String,
}

impl Record {
    /// The record id (decision id, mark id or recovery id).
    pub fn id(&self) -> &str {
        match self {
            Self::Decision(d) => &d.id,
            Self::Mark(m) => &m.id,
            Self::Recovery(r) => &r.id,
            Self::Rejected(r) => &r.id,
            Self::Access(a) => &a.id,
            Self::Seal(s) => &s.id,
            Self::Unreadable(u) => u.raw["id"].as_str().unwrap_or(""),
        }
    }

    /// When the record was written.
    pub fn recorded_at(&self) -> Timestamp {
        match self {
            Self::Decision(d) => d.recorded_at,
            Self::Mark(m) => m.recorded_at,
            Self::Recovery(r) => r.recorded_at,
            Self::Rejected(r) => r.recorded_at,
            Self::Access(a) => a.recorded_at,
            Self::Seal(s) => s.recorded_at,
            Self::Unreadable(u) => u.raw["recorded_at"]
                .as_str()
                .and_then(|t| Timestamp::parse(t).ok())
                .unwrap_or(Timestamp {
                    seconds: 0,
                    nanoseconds: 0,
                }),
        }
    }

    /// The record as JSON (an unreadable record as the raw JSON it was read from).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Unreadable(u) => u.raw.clone(),
            other => serde_json::to_value(other).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The stable name of the record type.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Decision(_) => "decision",
            Self::Mark(_) => "mark",
            Self::Recovery(_) => "recovery",
            Self::Rejected(_) => "rejected",
            Self::Access(_) => "access",
            Self::Seal(_) => "seal",
            Self::Unreadable(_) => "unreadable",
        }
    }
}

/// Outcome of an evaluation as recorded: a decision, or a failure of a policy to evaluate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedOutcome {
    /// Every policy approved.
    Approved,
    /// Approvals are missing.
    NeedsApproval,
    /// At least one policy denied.
    Denied,
    /// At least one policy could not evaluate (exit 5): never an approval.
    Error,
}

impl RecordedOutcome {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::NeedsApproval => "needs_approval",
            Self::Denied => "denied",
            Self::Error => "error",
        }
    }

    /// Parses the stable name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Approved,
            Self::NeedsApproval,
            Self::Denied,
            Self::Error,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

impl From<Outcome> for RecordedOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Approved => Self::Approved,
            Outcome::NeedsApproval => Self::NeedsApproval,
            Outcome::Denied => Self::Denied,
        }
    }
}

/// The change a decision is about, as the manifest states it (after masking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRef {
    /// Change ticket id.
    pub id: String,
    /// Target environment.
    pub environment: String,
    /// Commit being deployed, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// When work on the change started (first commit or ticket creation), if the pipeline said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
}

/// The manifest as evaluated: the digest of the exact text and a masked copy of its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRef {
    /// Where it was read from (`-` for standard input).
    pub path: String,
    /// `sha256:` and the hex SHA-256 of the exact manifest text, before masking.
    pub digest: String,
    /// The parsed manifest as JSON, with every masked field replaced by [`crate::MASKED`].
    pub masked: serde_json::Value,
    /// The concrete field paths that were masked, for example `evidence.sensitive_data_findings[0].location`.
    pub masked_paths: Vec<String>,
}

/// A policy that took part in an evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// Policy id, or the name it was given by when it could not be loaded.
    pub id: String,
    /// Framework, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Policy version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `sha256:` digest of the component, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Who vouched for the component before it ran: the key id of its verified signature
    /// (`ed25519:…`) or `builtin` (an embedded pack, trusted by its digest); absent when unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// A policy that produced no decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFailureRef {
    /// Policy id or name.
    pub policy: String,
    /// Stable kind, for example `timeout` or `load`.
    pub kind: String,
    /// What happened (masked values removed).
    pub message: String,
}

/// A waiver that was applied to a finding or control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverRef {
    /// Waiver id.
    pub id: String,
    /// Policy the waiver applies to, if limited to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// Control the waiver applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_id: Option<String>,
    /// Rule the waiver applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// Who approved the waiver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Why it was granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// One evaluation: who ran it, from where, on what, with which policies, and what they decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Decision id (a UUID).
    pub id: String,
    /// UTC wall-clock time the record was written.
    pub recorded_at: Timestamp,
    /// Evaluation time given to the policies (`--now`, or the wall clock).
    pub evaluated_at: Timestamp,
    /// Who ran the evaluation and from where.
    pub origin: Origin,
    /// The change.
    pub change: ChangeRef,
    /// The manifest.
    pub manifest: ManifestRef,
    /// Every policy that was run.
    pub policies: Vec<PolicyRef>,
    /// Engine that ran the policies, for example `tollgate 0.1.0 (wasmtime 48.0.8)`.
    pub engine_version: String,
    /// `sha256:` digest of the settings text, if settings were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings_digest: Option<String>,
    /// `sha256:` digest of the policy set that decided: every policy's id and digest, in order,
    /// and the settings digest (a reload of the gateway changes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_set_digest: Option<String>,
    /// Outcome.
    pub outcome: RecordedOutcome,
    /// Highest risk class, when a policy decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_class: Option<RiskClass>,
    /// Union of the required approver roles.
    #[serde(default)]
    pub required_roles: Vec<String>,
    /// Union of the roles still missing an approval.
    #[serde(default)]
    pub missing_roles: Vec<String>,
    /// Each policy's decision, with findings and control results (masked values removed).
    pub decisions: Vec<Decision>,
    /// Policies that could not evaluate.
    #[serde(default)]
    pub failures: Vec<PolicyFailureRef>,
    /// Waivers applied.
    #[serde(default)]
    pub waivers: Vec<WaiverRef>,
    /// The exit code `tollgate eval` reports.
    pub exit_code: u8,
}

/// What a mark says about a decided change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkStatus {
    /// The change was deployed.
    Deployed,
    /// The deployment failed in production.
    Failed,
    /// The change was rolled back.
    RolledBack,
}

impl MarkStatus {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployed => "deployed",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
        }
    }

    /// Parses the stable name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Deployed, Self::Failed, Self::RolledBack]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Whether the mark counts as a change failure (DORA change failure rate).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::RolledBack)
    }
}

/// A later statement about a decision, appended by `tollgate audit mark`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRecord {
    /// Mark id (a UUID).
    pub id: String,
    /// UTC time the mark was written.
    pub recorded_at: Timestamp,
    /// Who wrote it and from where.
    pub origin: Origin,
    /// The decision id it is about.
    pub decision_id: String,
    /// The change id of that decision.
    pub change_id: String,
    /// What happened.
    pub status: MarkStatus,
    /// When it happened, if not when it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A deployment of a change whose latest decision was not approved, or that had none
    /// (`decision_id` then empty): a direct production change, without an approved ticket.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub direct_production_change: bool,
}

/// Requests the gateway refused: 401 (no token or an unknown one), 403 (a role is missing) or 429
/// (too many refusals from one source), one record per source, status and reason per interval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// Record id (a UUID).
    pub id: String,
    /// UTC time of the refusal.
    pub recorded_at: Timestamp,
    /// The token's subject, when the token was valid (403); none for 401.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Request method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// The client's address, as the gateway saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The status answered: 401, 403, or 429 past the source's budget of refused requests.
    pub status: u16,
    /// Why, for example `no bearer token` or `role evaluate missing`.
    pub reason: String,
    /// How many requests this record stands for: the gateway aggregates the refusals of one
    /// source, status and reason over an interval (method and path are then the first one's).
    /// Records written before aggregation stand for one.
    #[serde(default = "one")]
    pub count: u64,
    /// When the first of the aggregated refusals happened; absent on older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_at: Option<Timestamp>,
    /// When the last of them happened; absent on older records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_at: Option<Timestamp>,
}

/// An access record written before aggregation stands for one request.
fn one() -> u64 {
    1
}

/// Bytes left by an interrupted append (a crash mid-write), found by the next append and set aside:
/// they stay in the file, are not a record, and are named here by offset, length and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryRecord {
    /// Recovery id (a UUID).
    pub id: String,
    /// UTC time of the recovery.
    pub recorded_at: Timestamp,
    /// Byte offset of the torn bytes in the file.
    pub offset: u64,
    /// Their length in bytes, including the newline added to close them.
    pub length: u64,
    /// `sha256:` digest of those bytes.
    pub digest: String,
}

/// What an evaluation produced, as the host knows it; [`DecisionRecord::build`] turns it into a
/// masked record.
#[derive(Debug)]
pub struct Evaluation<'a> {
    /// Where the manifest was read from.
    pub manifest_path: &'a str,
    /// `sha256:` digest of the exact manifest text (as the pipeline computed it on admission).
    pub manifest_digest: &'a str,
    /// The parsed manifest.
    pub manifest: &'a Manifest,
    /// Evaluation time given to the policies.
    pub evaluated_at: Timestamp,
    /// When work on the change started, if known.
    pub change_started_at: Option<Timestamp>,
    /// Policies run.
    pub policies: Vec<PolicyRef>,
    /// Engine version text.
    pub engine_version: String,
    /// `sha256:` digest of the settings text, if any.
    pub settings_digest: Option<String>,
    /// The combined decision of the policies that decided.
    pub combined: &'a CombinedDecision,
    /// The outcome reported, after waivers (may be less strict than `combined.outcome`).
    pub outcome: Outcome,
    /// Policies that could not evaluate.
    pub failures: Vec<PolicyFailureRef>,
    /// Waivers applied.
    pub waivers: Vec<WaiverRef>,
    /// Exit code.
    pub exit_code: u8,
}

/// `sha256:` and the hex SHA-256 of some text.
pub fn sha256_digest(text: &[u8]) -> String {
    format!("sha256:{}", crate::Hash::digest(text).to_hex())
}

impl DecisionRecord {
    /// Builds the record of an evaluation: masks the manifest and removes the masked values from
    /// every free-text field of the decisions and failures.
    pub fn build(
        evaluation: Evaluation<'_>,
        origin: Origin,
        masking: &Masking,
        id: String,
        recorded_at: Timestamp,
    ) -> Result<Self, MaskError> {
        let masked = masking.mask_manifest(evaluation.manifest)?;
        let combined = evaluation.combined;
        let decisions = masked.scrub_decisions(&combined.decisions)?;
        let outcome = if evaluation.failures.is_empty() {
            evaluation.outcome.into()
        } else {
            RecordedOutcome::Error
        };
        let failures = evaluation
            .failures
            .into_iter()
            .map(|f| PolicyFailureRef {
                message: masked.scrub_text(&f.message),
                ..f
            })
            .collect();
        let change = &evaluation.manifest.change;
        Ok(Self {
            id,
            recorded_at,
            evaluated_at: evaluation.evaluated_at,
            origin,
            change: ChangeRef {
                id: masked.scrub_text(&change.id),
                environment: masked.scrub_text(&change.environment),
                commit: change.commit.as_deref().map(|c| masked.scrub_text(c)),
                started_at: evaluation.change_started_at,
            },
            manifest: ManifestRef {
                path: evaluation.manifest_path.to_owned(),
                digest: evaluation.manifest_digest.to_owned(),
                masked: masked.value,
                masked_paths: masked.paths,
            },
            policies: evaluation.policies,
            engine_version: evaluation.engine_version,
            settings_digest: evaluation.settings_digest,
            policy_set_digest: None,
            outcome,
            risk_class: combined.risk_class,
            required_roles: combined.required_roles.clone(),
            missing_roles: combined.missing_roles.clone(),
            decisions,
            failures,
            waivers: evaluation.waivers,
            exit_code: evaluation.exit_code,
        })
    }

    /// The frameworks of the policies that decided and found themselves applicable.
    pub fn frameworks(&self) -> impl Iterator<Item = &str> {
        self.decisions
            .iter()
            .filter(|d| d.applicable)
            .map(|d| d.framework.as_str())
    }
}

/// Which input made an attempt fail before any decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectedInput {
    /// The change manifest.
    Manifest,
    /// The settings document, or settings a policy rejected.
    Settings,
    /// The options of the evaluation.
    Options,
    /// The waivers file.
    Waivers,
    /// A policy refused before it ran (for example an unsigned or untrusted one), or a policy
    /// failure while settings were rejected.
    Policy,
}

impl RejectedInput {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manifest => "manifest",
            Self::Settings => "settings",
            Self::Options => "options",
            Self::Waivers => "waivers",
            Self::Policy => "policy",
        }
    }
}

/// An attempt refused before any decision (exit 2 or 5 without a decision): who tried, from
/// where, with what (digest and masked copy of the refused input and of the manifest), and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRecord {
    /// Record id (a UUID).
    pub id: String,
    /// UTC wall-clock time the record was written.
    pub recorded_at: Timestamp,
    /// Evaluation time the attempt asked for.
    pub evaluated_at: Timestamp,
    /// Who made the attempt and from where.
    pub origin: Origin,
    /// Which input was refused.
    pub input: RejectedInput,
    /// The refused input: where it came from, its digest and a masked copy when it could be read
    /// as a document.
    pub refused: InputRef,
    /// The manifest of the attempt, when it is not the refused input and was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<InputRef>,
    /// The change id, when the manifest could be read far enough to name one (masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_id: Option<String>,
    /// Why it was refused (masked values removed).
    pub error: String,
    /// The field at fault, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Line of the fault, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Engine version text.
    pub engine_version: String,
    /// The exit code the command reported.
    pub exit_code: u8,
}

/// An input of a rejected attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRef {
    /// Where it was read from (`-` for standard input, `<request>` for a gateway request).
    pub path: String,
    /// `sha256:` digest of the exact text, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Its size in bytes, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Its media type, from its extension or its content, when it was read: `application/yaml`,
    /// `application/json`, or `application/octet-stream` for text that is neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The input as JSON with masked fields and secrets replaced, when it reads as a mapping at
    /// its top (a manifest: a mapping with `change`). Any other text is never stored, not even
    /// in the error (it could be anything: a dotenv file, `/etc/passwd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked: Option<serde_json::Value>,
    /// The concrete field paths that were masked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_paths: Vec<String>,
}

/// What the host knows of a rejected attempt; [`RejectedRecord::build`] masks it.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// Which input was refused.
    pub input: RejectedInput,
    /// Where the refused input came from.
    pub refused_path: &'a str,
    /// The refused input's exact text, if it was read.
    pub refused_text: Option<&'a str>,
    /// The manifest's path and text, when the refused input is another one.
    pub manifest: Option<(&'a str, Option<&'a str>)>,
    /// Why it was refused.
    pub error: &'a str,
    /// The field at fault, if known.
    pub field: Option<&'a str>,
    /// Line of the fault, if known.
    pub line: Option<u32>,
    /// Evaluation time asked for.
    pub evaluated_at: Timestamp,
    /// Engine version text.
    pub engine_version: String,
    /// Exit code reported.
    pub exit_code: u8,
}

impl RejectedRecord {
    /// Builds the record of a rejected attempt: each input is stored as its digest and, when it
    /// reads as a YAML or JSON document, a masked copy; the error has masked values removed.
    pub fn build(
        attempt: Attempt<'_>,
        origin: Origin,
        masking: &Masking,
        id: String,
        recorded_at: Timestamp,
    ) -> Result<Self, MaskError> {
        let refused_is_manifest = attempt.input == RejectedInput::Manifest;
        let refused = input_ref(
            attempt.refused_path,
            attempt.refused_text,
            refused_is_manifest,
            masking,
        )?;
        let manifest = attempt
            .manifest
            .map(|(path, text)| input_ref(path, text, true, masking))
            .transpose()?;
        let manifest_value = match attempt.input {
            RejectedInput::Manifest => refused.0.as_ref(),
            _ => manifest.as_ref().and_then(|m| m.0.as_ref()),
        };
        let change_id = manifest_value
            .and_then(|m| m.value.pointer("/change/id"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        // Masked values out, secrets out, and no line of a text that was not kept as a document.
        let unkept = [
            (&refused, attempt.refused_text),
            (
                manifest.as_ref().unwrap_or(&refused),
                attempt.manifest.and_then(|(_, text)| text),
            ),
        ];
        let scrub = |text: &str| {
            let text = [Some(&refused), manifest.as_ref()]
                .into_iter()
                .flatten()
                .filter_map(|(m, _)| m.as_ref())
                .fold(text.to_owned(), |t, m| m.scrub_text(&t));
            let text = unkept
                .iter()
                .filter(|((m, _), _)| m.is_none())
                .filter_map(|(_, input)| *input)
                .fold(text, |t, input| crate::mask::scrub_quoted_lines(&t, input));
            crate::mask::mask_secrets(&text)
        };
        let error = scrub(attempt.error);
        let change_id = change_id.map(|c| scrub(&c));
        Ok(Self {
            id,
            recorded_at,
            evaluated_at: attempt.evaluated_at,
            origin,
            input: attempt.input,
            refused: refused.1,
            manifest: manifest.map(|m| m.1),
            change_id,
            error,
            field: attempt.field.map(str::to_owned),
            line: attempt.line,
            engine_version: attempt.engine_version,
            exit_code: attempt.exit_code,
        })
    }
}

/// An input's reference, and its masked copy (kept to scrub free text). A copy is kept only of
/// a mapping (of a manifest: a mapping with `change`); any other text is known by its digest,
/// size and media type alone.
fn input_ref(
    path: &str,
    text: Option<&str>,
    manifest: bool,
    masking: &Masking,
) -> Result<(Option<MaskedManifest>, InputRef), MaskError> {
    let declared = declared_format(path);
    let document = text.and_then(|text| read_document(declared, text));
    let media_type = text.map(|_| {
        match declared.or(document.as_ref().map(|(format, _)| *format)) {
            Some(tollgate_manifest::Format::Json) => "application/json",
            Some(tollgate_manifest::Format::Yaml) => "application/yaml",
            None => "application/octet-stream",
        }
        .to_owned()
    });
    let kept = document.and_then(|(_, value)| {
        let mapping = value
            .as_object()
            .is_some_and(|m| !manifest || m.contains_key("change"));
        mapping.then_some(value)
    });
    let masked = match kept {
        None => None,
        Some(value) => {
            let mut masked = masking.mask_value(value)?;
            masked
                .paths
                .extend(crate::mask::mask_secret_values(&mut masked.value));
            Some(masked)
        }
    };
    let reference = InputRef {
        path: path.to_owned(),
        digest: text.map(|t| sha256_digest(t.as_bytes())),
        bytes: text.map(|t| u64::try_from(t.len()).unwrap_or(u64::MAX)),
        media_type,
        masked: masked.as_ref().map(|m| m.value.clone()),
        masked_paths: masked.as_ref().map(|m| m.paths.clone()).unwrap_or_default(),
    };
    Ok((masked, reference))
}

/// The syntax a path's extension names (`.json`, `.yaml`, `.yml`), if any.
fn declared_format(path: &str) -> Option<tollgate_manifest::Format> {
    let extension = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())?
        .to_ascii_lowercase();
    match extension.as_str() {
        "json" => Some(tollgate_manifest::Format::Json),
        "yaml" | "yml" => Some(tollgate_manifest::Format::Yaml),
        _ => None,
    }
}

/// Text read as a YAML or JSON document (a mapping or a list: a lone scalar is not a document),
/// with the syntax it was read in: the declared one, else JSON, then YAML.
fn read_document(
    declared: Option<tollgate_manifest::Format>,
    text: &str,
) -> Option<(tollgate_manifest::Format, serde_json::Value)> {
    use tollgate_manifest::{Format, decode};
    let formats: &[Format] = match declared {
        Some(Format::Json) => &[Format::Json],
        Some(Format::Yaml) => &[Format::Yaml],
        None => &[Format::Json, Format::Yaml],
    };
    formats.iter().find_map(|&format| {
        decode::<serde_json::Value>(text, format)
            .ok()
            .filter(|v| v.is_object() || v.is_array())
            .map(|value| (format, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_access_record_written_before_aggregation_reads_as_one_request() {
        let old = r#"{"type":"access","id":"a","recorded_at":"2026-05-01T10:00:00Z","method":"GET","path":"/v1/schema","source":"127.0.0.1:5000","status":401,"reason":"no bearer token"}"#;
        let Ok(Record::Access(access)) = serde_json::from_str::<Record>(old) else {
            panic!("an old access record must still parse");
        };
        assert_eq!(
            (access.count, access.first_at, access.last_at),
            (1, None, None)
        );
        let written = serde_json::to_value(Record::Access(AccessRecord { count: 7, ..access }))
            .unwrap_or_default();
        assert_eq!(written["count"], 7);
        assert!(written.get("first_at").is_none());
    }
}
