//! Deployment marks (`POST /v1/marks`): what the gateway marks through, what it is asked and
//! what it answers.

/// Appends a deployment mark for a change (`POST /v1/marks`) and says whether it was a direct
/// production change (deployed to production while its latest decision is not approved, or
/// without any decision); counts the direct production changes of the log and probes it
/// ([`crate::watch`]).
pub trait Marker: Send + Sync {
    /// Records the mark durably; returns the mark's record.
    fn mark(&self, request: &MarkRequest) -> Result<MarkAnswer, MarkError>;

    /// How many direct production changes the decision log records, whoever marked them: the
    /// gateway's counter follows this total, so a mark counts once wherever it was made.
    fn direct_production_changes(&self) -> Result<u64, MarkError>;

    /// Whether the decision log can take a record now, found without writing one (a file log's
    /// directory takes a synced write; a database answers).
    fn probe(&self) -> Result<(), MarkError>;
}

/// Why a [`Marker`] could not mark, count or probe.
#[derive(Debug, thiserror::Error)]
pub enum MarkError {
    /// The mark cannot be made as asked (an invalid status or time, an unknown change).
    #[error("{0}")]
    Invalid(String),
    /// The decision log could not be read, written or probed.
    #[error("{0}")]
    Log(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<String> for MarkError {
    fn from(message: String) -> Self {
        Self::Invalid(message)
    }
}

impl From<&str> for MarkError {
    fn from(message: &str) -> Self {
        Self::Invalid(message.to_owned())
    }
}

/// The body of `POST /v1/marks`.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRequest {
    /// The change id.
    pub change: String,
    /// `deployed`, `failed` or `rolled_back`.
    pub status: String,
    /// When it happened (RFC 3339), if not now.
    #[serde(default)]
    pub at: Option<String>,
    /// Free-text note.
    #[serde(default)]
    pub note: Option<String>,
}

/// What `POST /v1/marks` answers.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MarkAnswer {
    /// The mark's record id.
    pub id: String,
    /// The decision it refers to, if the change has one.
    pub decision_id: Option<String>,
    /// Whether it was recorded as a direct production change.
    pub direct_production_change: bool,
}
