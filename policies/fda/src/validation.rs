//! 21 CFR 11.10(a) validation, risk-based as GAMP 5 scales it: the system's category decides the
//! qualification suites a change needs, and above category 1 the affected user requirements must
//! be traced to tests (EU GMP Annex 11 §4.4, §4.7). Failing suites and the suites of the change's
//! risk class are the SDK's shared testing check.

use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::manifest::Manifest;
use tollgate_policy_sdk::{Check, Issue};

use crate::facts::{FdaFacts, GampCategory};

/// Installation qualification: the system is installed and configured as specified.
pub const IQ: &str = "iq";
/// Operational qualification: the system operates as specified across its operating ranges.
pub const OQ: &str = "oq";
/// Performance qualification: the system performs as intended in its business process.
pub const PQ: &str = "pq";

/// The protocol a qualification suite records, for messages (`IQ`); ASCII only, so that no
/// Unicode case table is linked into the policy modules.
fn protocol(suite: &str) -> &'static str {
    match suite {
        IQ => "IQ",
        OQ => "OQ",
        _ => "PQ",
    }
}

/// The qualification suites a change to a system of `category` needs: IQ for infrastructure
/// software; IQ and PQ (verification against user requirements) for non-configured products;
/// IQ, OQ and PQ for configured products and custom applications.
pub fn qualification_suites(category: GampCategory) -> &'static [&'static str] {
    match category {
        GampCategory::Infrastructure => &[IQ],
        GampCategory::NonConfigured => &[IQ, PQ],
        GampCategory::Configured | GampCategory::Custom => &[IQ, OQ, PQ],
    }
}

/// The GAMP 5 category is declared, its qualification suites ran passing tests, and the affected
/// requirements are traced (categories 3 to 5). Failing tests are reported by the shared testing
/// check, not here.
pub fn validated(manifest: &Manifest, facts: &FdaFacts) -> Check {
    let mut check = Check::default();
    let Some(category) = facts.gamp_category else {
        check.issue(Issue::new(
            "gamp-category-missing",
            Severity::High,
            "the GAMP 5 category of the GxP system is not declared, so the validation the change \
             needs cannot be determined",
            "declare the system's category (1, 3, 4 or 5) from its validation plan in \
             `extensions.fda.gamp_category`",
            "extensions.fda.gamp_category",
        ));
        return check;
    };
    check.evidence(format!(
        "GAMP 5 category {} ({})",
        category.number(),
        category.name()
    ));
    let tests = &manifest.evidence.tests;
    for suite in qualification_suites(category) {
        match tests.iter().position(|t| t.suite == *suite) {
            None => check.issue(Issue::new(
                "validation-suite-missing",
                Severity::High,
                format!(
                    "no `{suite}` qualification results for a change to a GAMP 5 category {} system",
                    category.number()
                ),
                format!(
                    "run the {} protocol and attach its results as the `{suite}` suite (for \
                     example `tollgate manifest --junit {suite}=<report.xml>`)",
                    protocol(suite)
                ),
                "evidence.tests",
            )),
            Some(index) if tests[index].passed == 0 => check.issue(Issue::new(
                "validation-suite-empty",
                Severity::High,
                format!("the `{suite}` qualification suite ran no passing tests"),
                format!(
                    "execute the {} protocol's test scripts against the change",
                    protocol(suite)
                ),
                format!("evidence.tests[{index}].passed"),
            )),
            Some(index) => check.evidence(format!(
                "{} executed: {} passed, {} failed",
                protocol(suite),
                tests[index].passed,
                tests[index].failed
            )),
        }
    }
    if category != GampCategory::Infrastructure {
        check = check.and(traced(facts));
    }
    check
}

/// Every user requirement the change affects is traced to a test (Annex 11 §4.4).
fn traced(facts: &FdaFacts) -> Check {
    let mut check = Check::default();
    match &facts.requirements {
        None => check.issue(Issue::new(
            "requirements-trace-missing",
            Severity::High,
            "no requirement traceability is recorded for the change",
            "trace the user requirements the change affects to the tests that verify them and \
             record the matrix in `extensions.fda.requirements`",
            "extensions.fda.requirements",
        )),
        Some(requirements) if requirements.total == 0 => check.issue(Issue::new(
            "requirements-trace-missing",
            Severity::High,
            format!(
                "trace matrix `{}` lists no requirement affected by the change",
                requirements.trace_matrix
            ),
            "identify the user requirements the change affects and trace them to tests",
            "extensions.fda.requirements.total",
        )),
        Some(requirements) if requirements.traced < requirements.total => {
            check.issue(Issue::new(
                "requirements-not-traced",
                Severity::High,
                format!(
                    "{} of {} affected requirements are not traced to a test in `{}`",
                    requirements.total - requirements.traced,
                    requirements.total,
                    requirements.trace_matrix
                ),
                "trace every affected requirement to a passed test before release",
                "extensions.fda.requirements.traced",
            ));
        }
        Some(requirements) => check.evidence(format!(
            "all {} affected requirements traced to tests in `{}`",
            requirements.total, requirements.trace_matrix
        )),
    }
    check
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::Format;

    use super::*;
    use crate::facts::Requirements;

    fn manifest(tests: &str) -> Manifest {
        let text = format!(
            "version: 1\nchange: {{id: C, title: t, ticket_status: approved, author: a, deployer: b, \
             environment: production}}\nevidence: {{tests: [{tests}]}}\n"
        );
        Manifest::from_text(&text, Format::Yaml).unwrap()
    }

    fn rules(check: &Check) -> Vec<(&str, &str)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.field_path.as_str()))
            .collect()
    }

    fn facts(category: Option<GampCategory>, traced: Option<(u32, u32)>) -> FdaFacts {
        FdaFacts {
            gamp_category: category,
            requirements: traced.map(|(total, traced)| Requirements {
                total,
                traced,
                trace_matrix: "TM-7".into(),
            }),
            ..FdaFacts::default()
        }
    }

    #[test]
    fn the_category_scales_the_suites() {
        let iq_only = manifest("{suite: iq, passed: 3, failed: 0}");
        let infra = facts(Some(GampCategory::Infrastructure), None);
        assert!(validated(&iq_only, &infra).issues.is_empty());
        let custom = facts(Some(GampCategory::Custom), Some((4, 4)));
        assert_eq!(
            rules(&validated(&iq_only, &custom)),
            [
                ("validation-suite-missing", "evidence.tests"),
                ("validation-suite-missing", "evidence.tests")
            ]
        );
        let empty_pq =
            manifest("{suite: iq, passed: 3, failed: 0}, {suite: pq, passed: 0, failed: 0}");
        let product = facts(Some(GampCategory::NonConfigured), Some((4, 4)));
        assert_eq!(
            rules(&validated(&empty_pq, &product)),
            [("validation-suite-empty", "evidence.tests[1].passed")]
        );
    }

    #[test]
    fn traceability_is_required_above_category_one() {
        let all = manifest(
            "{suite: iq, passed: 3, failed: 0}, {suite: oq, passed: 3, failed: 0}, \
             {suite: pq, passed: 3, failed: 0}",
        );
        let configured = Some(GampCategory::Configured);
        assert_eq!(
            rules(&validated(&all, &facts(configured, None))),
            [("requirements-trace-missing", "extensions.fda.requirements")]
        );
        assert_eq!(
            rules(&validated(&all, &facts(configured, Some((0, 0))))),
            [(
                "requirements-trace-missing",
                "extensions.fda.requirements.total"
            )]
        );
        assert_eq!(
            rules(&validated(&all, &facts(configured, Some((5, 3))))),
            [(
                "requirements-not-traced",
                "extensions.fda.requirements.traced"
            )]
        );
        assert!(
            validated(&all, &facts(configured, Some((5, 5))))
                .issues
                .is_empty()
        );
        assert_eq!(
            rules(&validated(&all, &facts(None, Some((5, 5))))),
            [("gamp-category-missing", "extensions.fda.gamp_category")]
        );
    }
}
