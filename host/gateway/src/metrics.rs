//! The gateway's Prometheus metrics (`GET /metrics`): OpenMetrics text for scrapers that ask for
//! it (Prometheus does), else the Prometheus text format 0.0.4, each under its own content type.
//! HTTP series reuse OPA's names and handler values, so OPA dashboards work unchanged; Tollgate's
//! own series carry the `tollgate_` prefix. Every labelled series a dashboard panel or an alert
//! reads is exported at zero before its first event ([`Metrics::declare`]), so that `increase()`
//! counts that event.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tollgate_decision::Verdict;
use tollgate_manifest::approval_time_seconds;
use tollgate_pipeline::Decided;

/// Every metric name `GET /metrics` exports (without the `_bucket`/`_sum`/`_count` suffixes).
pub const EXPORTED: &[&str] = &[
    "http_requests_total",
    "http_request_duration_seconds",
    "tollgate_decisions_total",
    "tollgate_policy_evaluation_seconds",
    "tollgate_audit_append_seconds",
    "tollgate_audit_log_up",
    "production_changes_without_ticket_total",
    "tollgate_unauthorized_requests_total",
    "tollgate_reloads_total",
    "tollgate_tls_handshake_failures_total",
    "tollgate_changes_total",
    "tollgate_findings_total",
    "tollgate_approval_time_seconds",
];

/// Labels of the HTTP series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Status code.
    pub code: u16,
    /// OPA's handler name (`v1/data`, `health`, ...).
    pub handler: &'static str,
    /// Request method (`OTHER` for a method HTTP does not define).
    pub method: &'static str,
}

/// Labels of a decision.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// Policy id.
    pub policy: String,
    /// Outcome after waivers, or `policy_failure`.
    pub outcome: &'static str,
}

/// Labels of a decided change (all its policies together).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChangeLabels {
    /// The manifest's `change.environment` (see [`environment_label`]).
    pub environment: String,
    /// The verdict: the outcome after waivers, or `policy_failure`.
    pub outcome: &'static str,
}

/// The `environment` label of a change: the manifest's environment when it is a short name of
/// lowercase letters, digits, `-` and `_` (as environments are), else `other`, so that a client
/// cannot grow the series without bound with arbitrary text.
pub fn environment_label(environment: &str) -> String {
    let plain = !environment.is_empty()
        && environment.len() <= 32
        && environment
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if plain {
        environment.to_owned()
    } else {
        "other".to_owned()
    }
}

/// Labels of a finding.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    /// Policy id.
    pub policy: String,
    /// Control id, for example `SOX-CM-03`.
    pub control: String,
    /// Severity: `info`, `low`, `medium`, `high` or `critical`.
    pub severity: &'static str,
    /// `true` when a waiver covers the finding.
    pub waived: &'static str,
}

/// Labels of an approval time.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApprovalLabels {
    /// The change's verdict: the outcome after waivers, or `policy_failure`.
    pub outcome: &'static str,
}

/// The verdicts a change can have, as the `outcome` label writes them.
pub const VERDICTS: [&str; 4] = ["approved", "needs_approval", "denied", "policy_failure"];

/// The severities of a finding, as the `severity` label writes them.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// The environments whose changes are exported at zero from the start: the dashboard's default
/// `$environment` and staging. Another environment's series appears with its first change, which
/// `increase()` cannot count.
pub const DECLARED_ENVIRONMENTS: [&str; 2] = ["production", "staging"];

/// The content type of the OpenMetrics exposition.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The content type of the Prometheus text exposition.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A policy of the served set, as its series are declared: its id and its control ids.
#[derive(Debug, Clone)]
pub struct DeclaredPolicy {
    /// Policy id.
    pub id: String,
    /// The ids of the controls it evaluates.
    pub controls: Vec<String>,
}

/// Labels of a refused request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// `401` (no or a bad token), `403` (a missing role) or `429` (past the source's budget).
    pub code: u16,
}

/// Labels of a reload.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Upper bounds of the approval-time buckets: from five minutes to four weeks.
pub const APPROVAL_TIME_BUCKETS: [f64; 12] = [
    300.0,   // 5 min
    900.0,   // 15 min
    1_800.0, // 30 min
    3_600.0, // 1 h
    4.0 * 3_600.0,
    8.0 * 3_600.0,
    86_400.0, // 1 day
    2.0 * 86_400.0,
    3.0 * 86_400.0,
    7.0 * 86_400.0, // 1 week
    14.0 * 86_400.0,
    28.0 * 86_400.0,
];

fn approval_histogram() -> Histogram {
    Histogram::new(APPROVAL_TIME_BUCKETS)
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~6.5 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// The metrics of one gateway.
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{code,handler,method}`.
    pub http_requests: Family<HttpLabels, Counter>,
    /// `http_request_duration_seconds{code,handler,method}`.
    pub http_duration: Family<HttpLabels, Histogram, fn() -> Histogram>,
    /// `tollgate_decisions_total{policy,outcome}`.
    pub decisions: Family<DecisionLabels, Counter>,
    /// `tollgate_policy_evaluation_seconds`.
    pub evaluation: Histogram,
    /// `tollgate_audit_append_seconds`.
    pub audit_append: Histogram,
    /// `tollgate_audit_log_up`: 1 while the log takes records, 0 after a failed append or probe.
    pub audit_up: Gauge,
    /// `production_changes_without_ticket_total`: follows the decision log's count
    /// ([`Metrics::count_direct_changes`]).
    pub without_ticket: Counter,
    /// The log's count of direct production changes that `without_ticket` has taken in.
    direct_counted: std::sync::Mutex<u64>,
    /// `tollgate_unauthorized_requests_total{code}`, exported at 0 from the start.
    pub unauthorized: Family<RefusalLabels, Counter>,
    /// `tollgate_reloads_total{result}`, exported at 0 from the start.
    pub reloads: Family<ReloadLabels, Counter>,
    /// `tollgate_tls_handshake_failures_total`: handshakes that failed or timed out (no or an
    /// untrusted client certificate included).
    pub tls_handshake_failures: Counter,
    /// `tollgate_changes_total{environment,outcome}`: recorded decisions of whole changes.
    pub changes: Family<ChangeLabels, Counter>,
    /// `tollgate_findings_total{policy,control,severity,waived}`: findings of recorded decisions.
    pub findings: Family<FindingLabels, Counter>,
    /// `tollgate_approval_time_seconds{outcome}`: ticket submitted → last required approval of
    /// any policy, once per decided change whose required approvals are all given; exported at
    /// zero from the start for every verdict.
    pub approval_time: Family<ApprovalLabels, Histogram, fn() -> Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered, at zero (the decision log counted as up).
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by status code, handler and method",
            http_requests.clone(),
        );
        let http_duration =
            Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by status code, handler and method",
            http_duration.clone(),
        );
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "tollgate_decisions",
            "Recorded policy decisions, by policy and outcome after waivers",
            decisions.clone(),
        );
        let evaluation = latency_histogram();
        registry.register(
            "tollgate_policy_evaluation_seconds",
            "Time to evaluate every policy of the set and combine their decisions",
            evaluation.clone(),
        );
        let audit_append = latency_histogram();
        registry.register(
            "tollgate_audit_append_seconds",
            "Time to make a decision record durable",
            audit_append.clone(),
        );
        let audit_up = Gauge::default();
        audit_up.set(1);
        registry.register(
            "tollgate_audit_log_up",
            "1 while the decision log takes records, 0 since an append or a probe of it failed (decisions answer 503)",
            audit_up.clone(),
        );
        let without_ticket = Counter::default();
        registry.register(
            "production_changes_without_ticket",
            "Deployments marked for a change whose latest decision is not approved, or that has none",
            without_ticket.clone(),
        );
        let unauthorized = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "tollgate_unauthorized_requests",
            "Requests refused for a missing or bad token (401), a missing role (403) or past the source's budget of refusals (429)",
            unauthorized.clone(),
        );
        for code in [401, 403, 429] {
            let _ = unauthorized.get_or_create(&RefusalLabels { code });
        }
        let reloads = Family::<ReloadLabels, Counter>::default();
        for result in ["success", "failure"] {
            let _ = reloads.get_or_create(&ReloadLabels { result });
        }
        registry.register(
            "tollgate_reloads",
            "Reloads of the policy set, by result",
            reloads.clone(),
        );
        let tls_handshake_failures = Counter::default();
        registry.register(
            "tollgate_tls_handshake_failures",
            "TLS handshakes that failed or timed out, untrusted or missing client certificates included",
            tls_handshake_failures.clone(),
        );
        let changes = Family::<ChangeLabels, Counter>::default();
        registry.register(
            "tollgate_changes",
            "Recorded decisions of whole changes (every policy together), by environment and verdict",
            changes.clone(),
        );
        let findings = Family::<FindingLabels, Counter>::default();
        registry.register(
            "tollgate_findings",
            "Findings of recorded decisions, by policy, control, severity and whether a waiver covers them",
            findings.clone(),
        );
        let approval_time =
            Family::<ApprovalLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                approval_histogram,
            );
        registry.register(
            "tollgate_approval_time_seconds",
            "Time from the ticket's submission to the last required approval, per decided change with every required approval, by verdict",
            approval_time.clone(),
        );
        for outcome in VERDICTS {
            let _ = approval_time.get_or_create(&ApprovalLabels { outcome });
            for environment in DECLARED_ENVIRONMENTS {
                let _ = changes.get_or_create(&ChangeLabels {
                    environment: environment.to_owned(),
                    outcome,
                });
            }
        }
        Self {
            registry,
            changes,
            findings,
            approval_time,
            http_requests,
            http_duration,
            decisions,
            evaluation,
            audit_append,
            audit_up,
            without_ticket,
            direct_counted: std::sync::Mutex::new(0),
            unauthorized,
            reloads,
            tls_handshake_failures,
        }
    }

    /// Counts one answered request.
    pub fn observe_http(&self, labels: HttpLabels, elapsed: Duration) {
        self.http_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        self.http_requests.get_or_create(&labels).inc();
    }

    /// Counts one decision: its evaluation and record times, each policy's outcome, the change's
    /// outcome by environment, every finding, the approval time and every policy failure.
    pub(crate) fn count_decision(&self, decided: &Decided) {
        let timings = decided.timings();
        self.evaluation.observe(timings.evaluation.as_secs_f64());
        self.audit_append.observe(timings.record.as_secs_f64());
        let report = decided.report();
        let view = report.view();
        for (index, evaluated) in report.evaluated.iter().enumerate() {
            self.decisions
                .get_or_create(&DecisionLabels {
                    policy: evaluated.metadata.id.clone(),
                    outcome: view.policy_outcome(index).as_str(),
                })
                .inc();
        }
        let manifest = &report.manifest;
        let outcome = match report.verdict() {
            Verdict::Decided(outcome) => outcome.as_str(),
            Verdict::PolicyFailure => "policy_failure",
        };
        self.changes
            .get_or_create(&ChangeLabels {
                environment: environment_label(&manifest.change.environment),
                outcome,
            })
            .inc();
        for decision in &report.combined.decisions {
            for (index, finding) in decision.findings.iter().enumerate() {
                let waived = report
                    .waivers
                    .waiver_for(&decision.policy_id, index)
                    .is_some();
                self.findings
                    .get_or_create(&FindingLabels {
                        policy: decision.policy_id.clone(),
                        control: finding.control_id.clone(),
                        severity: finding.severity.as_str(),
                        waived: if waived { "true" } else { "false" },
                    })
                    .inc();
            }
        }
        // As the evidence report measures it: to the last approval that satisfied a required role
        // of any policy, once per change.
        let required = report
            .combined
            .decisions
            .iter()
            .flat_map(|d| d.required_approvals())
            .map(|r| (r.role.as_str(), r.satisfied_by.as_deref()));
        if let Some(submitted) = manifest.change.submitted_at
            && let Some(seconds) =
                approval_time_seconds(submitted, &manifest.change.approvals, required)
        {
            self.approval_time
                .get_or_create(&ApprovalLabels { outcome })
                .observe(seconds);
        }
        for failure in &report.failures {
            self.decisions
                .get_or_create(&DecisionLabels {
                    policy: failure.policy.clone(),
                    outcome: "policy_failure",
                })
                .inc();
        }
    }

    /// Takes in the decision log's count of direct production changes: the counter grows by the
    /// marks recorded since the last count (a smaller total, a log replaced, adds nothing).
    pub fn count_direct_changes(&self, total: u64) {
        let mut counted = self
            .direct_counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if total > *counted {
            self.without_ticket.inc_by(total - *counted);
            *counted = total;
        }
    }

    /// Exports at zero every series of `policies` that the dashboard and the alerts read: each
    /// policy's decisions by verdict, and its findings by control, severity and waiver. Idempotent:
    /// a series already counted keeps its count.
    pub fn declare(&self, policies: &[DeclaredPolicy]) {
        for policy in policies {
            for outcome in VERDICTS {
                let _ = self.decisions.get_or_create(&DecisionLabels {
                    policy: policy.id.clone(),
                    outcome,
                });
            }
            for control in &policy.controls {
                for severity in SEVERITIES {
                    for waived in ["true", "false"] {
                        let _ = self.findings.get_or_create(&FindingLabels {
                            policy: policy.id.clone(),
                            control: control.clone(),
                            severity,
                            waived,
                        });
                    }
                }
            }
        }
    }

    /// The OpenMetrics text exposition ([`OPENMETRICS_CONTENT_TYPE`]).
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// The Prometheus text exposition, format 0.0.4 ([`TEXT_CONTENT_TYPE`]).
    pub fn render_text(&self) -> Result<String, std::fmt::Error> {
        Ok(openmetrics_to_text(&self.render()?))
    }
}

/// Rewrites OpenMetrics text as Prometheus text 0.0.4: a counter's `HELP` and `TYPE` name its
/// samples (`x_total`, not `x`), and there is no `# EOF` or `# UNIT` line.
fn openmetrics_to_text(openmetrics: &str) -> String {
    let counters: std::collections::BTreeSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut text = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let metadata = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|prefix| line.strip_prefix(prefix).map(|rest| (prefix, rest)));
        match metadata {
            Some((prefix, rest)) => {
                let name = rest.split(' ').next().unwrap_or_default();
                if counters.contains(name) && !name.ends_with("_total") {
                    text.push_str(prefix);
                    text.push_str(name);
                    text.push_str("_total");
                    text.push_str(&rest[name.len()..]);
                } else {
                    text.push_str(line);
                }
            }
            None => text.push_str(line),
        }
        text.push('\n');
    }
    text
}

/// Whether an `Accept` header asks for OpenMetrics (before the text format, or without it).
pub fn accepts_openmetrics(accept: &str) -> bool {
    let quality = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';').map(str::trim);
                let media = parts.next()?;
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .find_map(|p| p.strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| {
                Some(best.map_or(q, |b| b.max(q)))
            })
    };
    match (
        quality("application/openmetrics-text"),
        quality("text/plain"),
    ) {
        (Some(open), Some(text)) => open > 0.0 && open >= text,
        (Some(open), None) => open > 0.0,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_labels_are_plain_names_or_other() {
        assert_eq!(environment_label("production"), "production");
        assert_eq!(environment_label("eu-prod_2"), "eu-prod_2");
        assert_eq!(environment_label("Production"), "other");
        assert_eq!(environment_label(""), "other");
        assert_eq!(environment_label(&"p".repeat(33)), "other");
        assert_eq!(environment_label("prod\"}"), "other");
    }

    #[test]
    fn prometheus_asks_for_openmetrics_and_curl_gets_text() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(accepts_openmetrics(prometheus));
        assert!(!accepts_openmetrics("*/*"));
        assert!(!accepts_openmetrics("text/plain"));
        assert!(!accepts_openmetrics(
            "text/plain;version=0.0.4,application/openmetrics-text;q=0.5"
        ));
    }

    #[test]
    fn the_text_format_names_counters_by_their_samples() {
        let metrics = Metrics::new();
        metrics.without_ticket.inc();
        let text = metrics.render_text().unwrap();
        assert!(text.contains("# TYPE production_changes_without_ticket_total counter\n"));
        assert!(text.contains("# HELP production_changes_without_ticket_total "));
        assert!(text.contains("\nproduction_changes_without_ticket_total 1\n"));
        assert!(!text.contains("# EOF"));
        assert!(text.contains("# TYPE tollgate_audit_log_up gauge\n"));
    }
}
