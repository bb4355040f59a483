//! JUnit XML test reports (the format of Surefire, pytest `--junitxml`, Jest, Go's gotestsum, ...):
//! passed, failed and skipped tests per suite kind.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::GatherError;
use crate::config::JunitConfig;

/// Counts of one suite kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u32,
    /// Tests that failed or errored.
    pub failed: u32,
    /// Tests that were skipped.
    pub skipped: u32,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.passed = self.passed.saturating_add(other.passed);
        self.failed = self.failed.saturating_add(other.failed);
        self.skipped = self.skipped.saturating_add(other.skipped);
    }
}

/// The results of JUnit reports, by suite kind, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunitSummary {
    /// Suite kind and its counts.
    pub kinds: Vec<(String, Counts)>,
}

impl JunitSummary {
    /// Adds counts to a kind.
    pub fn add(&mut self, kind: &str, counts: Counts) {
        match self.kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, total)) => total.add(counts),
            None => self.kinds.push((kind.to_owned(), counts)),
        }
    }

    /// Merges another summary into this one.
    pub fn merge(&mut self, other: &JunitSummary) {
        for (kind, counts) in &other.kinds {
            self.add(kind, *counts);
        }
    }
}

/// Maps report paths and suite names to suite kinds.
#[derive(Debug, Clone)]
pub struct SuiteKinds {
    kinds: Vec<(String, GlobSet)>,
}

impl SuiteKinds {
    /// Compiles the mapping in force for a configuration. Matching ignores case.
    pub fn new(config: &JunitConfig) -> Result<Self, GatherError> {
        let mut kinds = Vec::new();
        for (kind, globs) in config.effective_kinds() {
            let mut builder = GlobSetBuilder::new();
            for pattern in &globs {
                let glob = GlobBuilder::new(pattern)
                    .literal_separator(true)
                    .case_insensitive(true)
                    .build()
                    .map_err(|e| GatherError::Glob {
                        owner: format!("junit.suites.{kind}"),
                        pattern: pattern.clone(),
                        message: e.kind().to_string(),
                    })?;
                builder.add(glob);
            }
            let set = builder.build().map_err(|e| GatherError::Glob {
                owner: format!("junit.suites.{kind}"),
                pattern: globs.join(", "),
                message: e.to_string(),
            })?;
            kinds.push((kind, set));
        }
        Ok(Self { kinds })
    }

    /// The kind a path or suite name maps to, if any.
    pub fn kind_of(&self, name: &str) -> Option<&str> {
        self.kinds
            .iter()
            .find(|(_, set)| set.is_match(name))
            .map(|(kind, _)| kind.as_str())
    }
}

/// One `<testsuite>` being read.
#[derive(Debug, Default)]
struct OpenSuite {
    name: String,
    declared: Counts,
    counted: Counts,
    cases: u32,
    has_child_suites: bool,
}

/// One `<testcase>` being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CaseOutcome {
    Passed,
    Failed,
    Skipped,
}

/// Parses one JUnit report. `kind` forces the suite kind of every suite; otherwise the report's
/// path, then each suite's name, is matched against `kinds`. `origin` names the file in errors.
pub fn parse_report(
    text: &str,
    origin: &str,
    kind: Option<&str>,
    kinds: &SuiteKinds,
) -> Result<JunitSummary, GatherError> {
    let error = |position: u64, message: String| GatherError::Junit {
        path: origin.to_owned(),
        message: format!("{message} (line {})", line_of(text, position)),
    };
    let file_kind = kind.or_else(|| kinds.kind_of(origin));
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut summary = JunitSummary::default();
    let mut suites: Vec<OpenSuite> = Vec::new();
    let mut case: Option<CaseOutcome> = None;
    let mut root_seen = false;
    // Elements opened and not yet closed, with where they were opened: a report that ends inside
    // one is truncated.
    let mut open: Vec<(String, u64)> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| error(reader.error_position(), format!("malformed XML: {e}")))?;
        match event {
            Event::Start(element) | Event::Empty(element)
                if !root_seen && !matches!(element.name().as_ref(), "testsuites" | "testsuite") =>
            {
                return Err(error(
                    position,
                    format!(
                        "not a JUnit report: the root element is `<{}>`, expected `<testsuites>` or `<testsuite>`",
                        element.name().as_ref()
                    ),
                ));
            }
            Event::Start(element) => {
                root_seen = true;
                open.push((element.name().as_ref().to_owned(), position));
                match element.name().as_ref() {
                    "testsuite" => suites.push(open_suite(&element, origin, position, text)?),
                    "testcase" => case = Some(CaseOutcome::Passed),
                    name => mark_case(&mut case, name),
                }
            }
            Event::Empty(element) => {
                root_seen = true;
                match element.name().as_ref() {
                    "testsuite" => {
                        let suite = open_suite(&element, origin, position, text)?;
                        close_suite(suite, &mut suites, &mut summary, file_kind, kinds, origin)?;
                    }
                    "testcase" => count_case(&mut suites, CaseOutcome::Passed),
                    name => mark_case(&mut case, name),
                }
            }
            Event::End(element) => {
                open.pop();
                match element.name().as_ref() {
                    "testsuite" => {
                        if let Some(suite) = suites.pop() {
                            close_suite(
                                suite,
                                &mut suites,
                                &mut summary,
                                file_kind,
                                kinds,
                                origin,
                            )?;
                        }
                    }
                    "testcase" => {
                        if let Some(outcome) = case.take() {
                            count_case(&mut suites, outcome);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => {
                if let Some((name, at)) = open.first() {
                    return Err(error(
                        *at,
                        format!(
                            "truncated report: `<{name}>` is never closed; a partial report is not evidence"
                        ),
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if !root_seen {
        return Err(GatherError::Junit {
            path: origin.to_owned(),
            message: "not a JUnit report: no `<testsuites>` or `<testsuite>` element".to_owned(),
        });
    }
    Ok(summary)
}

fn mark_case(case: &mut Option<CaseOutcome>, child: &str) {
    if let Some(outcome) = case {
        match child {
            "failure" | "error" => *outcome = CaseOutcome::Failed,
            "skipped" if *outcome == CaseOutcome::Passed => *outcome = CaseOutcome::Skipped,
            _ => {}
        }
    }
}

fn count_case(suites: &mut [OpenSuite], outcome: CaseOutcome) {
    if let Some(suite) = suites.last_mut() {
        suite.cases += 1;
        let counted = &mut suite.counted;
        match outcome {
            CaseOutcome::Passed => counted.passed = counted.passed.saturating_add(1),
            CaseOutcome::Failed => counted.failed = counted.failed.saturating_add(1),
            CaseOutcome::Skipped => counted.skipped = counted.skipped.saturating_add(1),
        }
    }
}

fn open_suite(
    element: &BytesStart<'_>,
    origin: &str,
    position: u64,
    text: &str,
) -> Result<OpenSuite, GatherError> {
    let mut suite = OpenSuite::default();
    let mut tests = 0u32;
    let mut failures = 0u32;
    let mut errors = 0u32;
    let mut skipped = 0u32;
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|e| GatherError::Junit {
            path: origin.to_owned(),
            message: format!(
                "malformed attribute: {e} (line {})",
                line_of(text, position)
            ),
        })?;
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| attribute.value.clone().into_owned());
        let number = |name: &str| -> Result<u32, GatherError> {
            value.trim().parse().map_err(|_| GatherError::Junit {
                path: origin.to_owned(),
                message: format!(
                    "attribute `{name}` of `<testsuite>` is `{value}`, not a count (line {})",
                    line_of(text, position)
                ),
            })
        };
        match attribute.key.as_ref() {
            "name" => suite.name = value.clone(),
            "tests" => tests = number("tests")?,
            "failures" => failures = number("failures")?,
            "errors" => errors = number("errors")?,
            "skipped" | "disabled" => skipped = skipped.saturating_add(number("skipped")?),
            _ => {}
        }
    }
    let failed = failures.saturating_add(errors);
    suite.declared = Counts {
        passed: tests.saturating_sub(failed).saturating_sub(skipped),
        failed,
        skipped,
    };
    Ok(suite)
}

fn close_suite(
    suite: OpenSuite,
    open: &mut [OpenSuite],
    summary: &mut JunitSummary,
    file_kind: Option<&str>,
    kinds: &SuiteKinds,
    origin: &str,
) -> Result<(), GatherError> {
    if let Some(parent) = open.last_mut() {
        parent.has_child_suites = true;
    }
    // A suite that only groups other suites adds nothing of its own.
    if suite.has_child_suites && suite.cases == 0 {
        return Ok(());
    }
    let counts = if suite.cases > 0 {
        suite.counted
    } else {
        suite.declared
    };
    let kind = file_kind
        .or_else(|| kinds.kind_of(&suite.name))
        .ok_or_else(|| GatherError::Junit {
            path: origin.to_owned(),
            message: format!(
                "cannot tell the kind of test suite `{}`: pass the report as `--junit KIND=FILE` or map it in `[junit.suites]` of tollgate.toml",
                suite.name
            ),
        })?;
    summary.add(kind, counts);
    Ok(())
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, position: u64) -> usize {
    let end = usize::try_from(position)
        .unwrap_or(usize::MAX)
        .min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn kinds(toml: &str) -> SuiteKinds {
        SuiteKinds::new(&Config::from_toml(toml, "t").unwrap().junit).unwrap()
    }

    const REPORT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="com.example.PaymentUnitTest" tests="4" failures="1" errors="0" skipped="1">
    <testcase name="a" classname="x"/>
    <testcase name="b" classname="x"><failure message="boom">trace</failure></testcase>
    <testcase name="c" classname="x"><skipped/></testcase>
    <testcase name="d" classname="x"><system-out>ok</system-out></testcase>
  </testsuite>
  <testsuite name="checkout integration" tests="2" failures="0" errors="1">
    <testcase name="e"><error type="Timeout"/></testcase>
    <testcase name="f"/>
  </testsuite>
</testsuites>"#;

    #[test]
    fn counts_cases_by_suite_kind_from_names() {
        let summary = parse_report(REPORT, "reports/all.xml", None, &kinds("")).unwrap();
        assert_eq!(
            summary.kinds,
            [
                (
                    "unit".to_owned(),
                    Counts {
                        passed: 2,
                        failed: 1,
                        skipped: 1
                    }
                ),
                (
                    "integration".to_owned(),
                    Counts {
                        passed: 1,
                        failed: 1,
                        skipped: 0
                    }
                ),
            ]
        );
    }

    #[test]
    fn explicit_kind_and_file_name_win_over_suite_names() {
        let summary = parse_report(REPORT, "reports/x.xml", Some("e2e"), &kinds("")).unwrap();
        assert_eq!(summary.kinds.len(), 1);
        assert_eq!(summary.kinds[0].1.failed, 2);
        let summary = parse_report(REPORT, "reports/smoke-tests.xml", None, &kinds("")).unwrap();
        assert_eq!(summary.kinds[0].0, "smoke");
    }

    #[test]
    fn configured_mapping_is_used() {
        let kinds = kinds("[junit.suites]\nsecurity = [\"**/zap-*\"]\n");
        let summary = parse_report(
            r#"<testsuite name="s" tests="3" failures="0" errors="0"/>"#,
            "out/zap-baseline.xml",
            None,
            &kinds,
        )
        .unwrap();
        assert_eq!(
            summary.kinds,
            [(
                "security".to_owned(),
                Counts {
                    passed: 3,
                    failed: 0,
                    skipped: 0
                }
            )]
        );
    }

    #[test]
    fn unknown_kind_is_an_error_naming_the_suite() {
        let error = parse_report(
            r#"<testsuite name="misc" tests="1" failures="0" errors="0"><testcase name="a"/></testsuite>"#,
            "r.xml",
            None,
            &kinds(""),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`misc`"), "{error}");
        assert!(error.contains("r.xml"), "{error}");
    }

    #[test]
    fn not_junit_and_malformed_xml_are_errors() {
        let error = parse_report("<html></html>", "r.xml", Some("unit"), &kinds(""))
            .unwrap_err()
            .to_string();
        assert!(error.contains("root element is `<html>`"), "{error}");
        let error = parse_report(
            "<testsuites>\n<testsuite name=\"a\">\n</testsuites>",
            "r.xml",
            Some("unit"),
            &kinds(""),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("malformed XML"), "{error}");
        assert!(error.contains("line 3"), "{error}");
        let error = parse_report("", "r.xml", Some("unit"), &kinds(""))
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a JUnit report"), "{error}");
    }

    #[test]
    fn a_truncated_report_is_an_error_never_zero_tests() {
        for text in [
            r#"<testsuite name="unit"><testcase name="a"/>"#,
            r#"<testsuites><testsuite name="unit"><testcase name="a"/></testsuite>"#,
            r#"<testsuite name="unit"><testcase name="a">"#,
        ] {
            let error = parse_report(text, "r.xml", Some("unit"), &kinds(""))
                .expect_err(text)
                .to_string();
            assert!(error.contains("r.xml"), "{error}");
            assert!(error.contains("truncated"), "{error}");
        }
    }

    #[test]
    fn bad_count_attribute_is_an_error() {
        let error = parse_report(
            r#"<testsuite name="u" tests="many" failures="0" errors="0"/>"#,
            "r.xml",
            Some("unit"),
            &kinds(""),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("`tests`"), "{error}");
    }
}
