//! SARIF 2.1.0 logs from security scanners: open findings by severity.
//!
//! Severity follows GitHub code scanning: a numeric `security-severity` property (on the result, or
//! on its rule) ranks a finding critical (≥ 9.0), high (≥ 7.0), medium (≥ 4.0) or low (> 0);
//! otherwise the result's `level` does: `error` is high, `warning` (the SARIF default) medium,
//! `note` low, `none` not counted. Results that are suppressed, whose `kind` is not `fail`, or whose
//! `baselineState` is `absent` (fixed) are not open findings.

use serde_json::Value;
use tollgate_manifest::SecurityScan;

use crate::GatherError;

/// Open findings of one or more SARIF logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Whether every run completed (no invocation reports `executionSuccessful: false`).
    pub completed: bool,
    /// Critical findings.
    pub critical: u32,
    /// High findings.
    pub high: u32,
    /// Medium findings.
    pub medium: u32,
    /// Low findings.
    pub low: u32,
    /// Results not counted (suppressed, fixed, not a failure, or level `none`).
    pub ignored: u32,
}

impl ScanSummary {
    /// Adds another log's summary; the scan is complete only if both are.
    pub fn merge(&mut self, other: &ScanSummary, first: bool) {
        self.completed = if first {
            other.completed
        } else {
            self.completed && other.completed
        };
        self.critical = self.critical.saturating_add(other.critical);
        self.high = self.high.saturating_add(other.high);
        self.medium = self.medium.saturating_add(other.medium);
        self.low = self.low.saturating_add(other.low);
        self.ignored = self.ignored.saturating_add(other.ignored);
    }

    /// The manifest's security-scan summary.
    pub fn to_manifest(&self) -> SecurityScan {
        SecurityScan {
            completed: self.completed,
            critical: self.critical,
            high: self.high,
            medium: self.medium,
            low: self.low,
        }
    }
}

/// Parses one SARIF log; `origin` names the file in errors.
pub fn parse_log(text: &str, origin: &str) -> Result<ScanSummary, GatherError> {
    let error = |message: String| GatherError::Sarif {
        path: origin.to_owned(),
        message,
    };
    let log: Value =
        serde_json::from_str(text).map_err(|e| error(format!("malformed JSON: {e}")))?;
    match log.get("version").and_then(Value::as_str) {
        Some("2.1.0") => {}
        Some(other) => {
            return Err(error(format!(
                "unsupported SARIF version `{other}`, expected `2.1.0`"
            )));
        }
        None => return Err(error("not a SARIF log: no `version`".to_owned())),
    }
    let runs = log
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| error("not a SARIF log: `runs` is missing or not an array".to_owned()))?;
    let mut summary = ScanSummary {
        completed: true,
        ..ScanSummary::default()
    };
    for (run_index, run) in runs.iter().enumerate() {
        let invocations = run.get("invocations").and_then(Value::as_array);
        if invocations.is_some_and(|list| {
            list.iter()
                .any(|i| i.get("executionSuccessful").and_then(Value::as_bool) == Some(false))
        }) {
            summary.completed = false;
        }
        let rules = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some(results) = run.get("results") else {
            continue;
        };
        let results = results
            .as_array()
            .ok_or_else(|| error(format!("`runs[{run_index}].results` is not an array")))?;
        for (index, result) in results.iter().enumerate() {
            match classify(result, rules).map_err(|message| {
                error(format!("`runs[{run_index}].results[{index}]`: {message}"))
            })? {
                Some(Rank::Critical) => summary.critical = summary.critical.saturating_add(1),
                Some(Rank::High) => summary.high = summary.high.saturating_add(1),
                Some(Rank::Medium) => summary.medium = summary.medium.saturating_add(1),
                Some(Rank::Low) => summary.low = summary.low.saturating_add(1),
                None => summary.ignored = summary.ignored.saturating_add(1),
            }
        }
    }
    Ok(summary)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rank {
    Critical,
    High,
    Medium,
    Low,
}

/// Why a SARIF result cannot be classified; written into [`GatherError::Sarif`] with its place.
#[derive(Debug, thiserror::Error)]
enum ResultError {
    #[error("not an object")]
    NotObject,
    #[error("unknown level `{0}`")]
    Level(String),
}

/// The rank of an open finding, or `None` when the result is not an open finding.
fn classify(result: &Value, rules: &[Value]) -> Result<Option<Rank>, ResultError> {
    if !result.is_object() {
        return Err(ResultError::NotObject);
    }
    if result
        .get("suppressions")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter().any(|s| {
                // A suppression under review or rejected does not hide the finding.
                !matches!(
                    s.get("status").and_then(Value::as_str),
                    Some("underReview" | "rejected")
                )
            })
        })
    {
        return Ok(None);
    }
    if result
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k != "fail")
    {
        return Ok(None);
    }
    if result.get("baselineState").and_then(Value::as_str) == Some("absent") {
        return Ok(None);
    }
    let rule = rule_of(result, rules);
    let score = security_severity(result).or_else(|| rule.and_then(security_severity));
    if let Some(score) = score {
        return Ok(Some(if score >= 9.0 {
            Rank::Critical
        } else if score >= 7.0 {
            Rank::High
        } else if score >= 4.0 {
            Rank::Medium
        } else {
            Rank::Low
        }));
    }
    let level = result
        .get("level")
        .and_then(Value::as_str)
        .or_else(|| {
            rule.and_then(|r| r.pointer("/defaultConfiguration/level"))
                .and_then(Value::as_str)
        })
        .unwrap_or("warning");
    match level {
        "error" => Ok(Some(Rank::High)),
        "warning" => Ok(Some(Rank::Medium)),
        "note" => Ok(Some(Rank::Low)),
        "none" => Ok(None),
        other => Err(ResultError::Level(other.to_owned())),
    }
}

fn rule_of<'a>(result: &Value, rules: &'a [Value]) -> Option<&'a Value> {
    let by_index = result
        .get("ruleIndex")
        .or_else(|| result.pointer("/rule/index"))
        .and_then(Value::as_u64)
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| rules.get(i));
    by_index.or_else(|| {
        let id = result
            .get("ruleId")
            .or_else(|| result.pointer("/rule/id"))
            .and_then(Value::as_str)?;
        rules
            .iter()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    })
}

/// The `security-severity` property, a number or a numeric string, if present and in 0..=10.
fn security_severity(object: &Value) -> Option<f64> {
    let value = object.pointer("/properties/security-severity")?;
    let score = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (0.0..=10.0).contains(&score).then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"{
      "version": "2.1.0",
      "runs": [{
        "tool": {"driver": {"name": "scanner", "rules": [
          {"id": "R1", "properties": {"security-severity": "9.8"}},
          {"id": "R2", "defaultConfiguration": {"level": "note"}}
        ]}},
        "invocations": [{"executionSuccessful": true}],
        "results": [
          {"ruleId": "R1", "message": {"text": "x"}},
          {"ruleId": "R2", "message": {"text": "x"}},
          {"ruleId": "R3", "level": "error", "message": {"text": "x"}},
          {"ruleId": "R3", "message": {"text": "x"}},
          {"ruleId": "R3", "level": "error", "properties": {"security-severity": 7.5}, "message": {"text": "x"}},
          {"ruleId": "R3", "level": "error", "suppressions": [{"kind": "external", "status": "accepted"}], "message": {"text": "x"}},
          {"ruleId": "R3", "level": "error", "suppressions": [{"kind": "external", "status": "underReview"}], "message": {"text": "x"}},
          {"ruleId": "R3", "kind": "pass", "message": {"text": "x"}},
          {"ruleId": "R3", "level": "none", "message": {"text": "x"}},
          {"ruleId": "R3", "baselineState": "absent", "message": {"text": "x"}}
        ]
      }]
    }"#;

    #[test]
    fn ranks_results_like_code_scanning() {
        let summary = parse_log(LOG, "scan.sarif").unwrap();
        assert_eq!(
            summary,
            ScanSummary {
                completed: true,
                critical: 1,
                high: 3,
                medium: 1,
                low: 1,
                ignored: 4,
            }
        );
    }

    #[test]
    fn failed_invocation_means_incomplete() {
        let log = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"s"}},"invocations":[{"executionSuccessful":false}],"results":[]}]}"#;
        assert!(!parse_log(log, "s").unwrap().completed);
    }

    #[test]
    fn merging_keeps_incompleteness() {
        let mut total = ScanSummary::default();
        total.merge(
            &ScanSummary {
                completed: true,
                high: 1,
                ..Default::default()
            },
            true,
        );
        total.merge(
            &ScanSummary {
                completed: false,
                low: 2,
                ..Default::default()
            },
            false,
        );
        assert!(!total.completed);
        assert_eq!((total.high, total.low), (1, 2));
    }

    #[test]
    fn not_sarif_is_an_error() {
        for (text, expected) in [
            ("{", "malformed JSON"),
            ("{}", "no `version`"),
            (
                r#"{"version":"2.0.0","runs":[]}"#,
                "unsupported SARIF version",
            ),
            (r#"{"version":"2.1.0"}"#, "`runs`"),
            (
                r#"{"version":"2.1.0","runs":[{"results":[{"level":"fatal"}]}]}"#,
                "unknown level `fatal`",
            ),
        ] {
            let error = parse_log(text, "scan.sarif").unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.contains("scan.sarif"), "{error}");
        }
    }
}
