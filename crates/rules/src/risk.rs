//! Risk scoring and classification: the weighted score of a change and the class implied by its
//! categories, which decide how it is approved (COBIT 2019 BAI06.01).

use tollgate_decision::{RiskAssessment, RiskClass, RiskFactor};
use tollgate_manifest::Manifest;

use crate::Settings;

/// Scores the change and classifies it: the class is the higher of the class implied by the score
/// and the class implied by the change categories.
pub fn assess_risk(manifest: &Manifest, settings: &Settings) -> RiskAssessment {
    let change = &manifest.change;
    let weights = &settings.risk;
    let mut factors = Vec::new();
    let mut add = |id: &str, description: String, points: f64| {
        if points > 0.0 {
            factors.push(RiskFactor {
                id: id.to_owned(),
                description,
                points,
            });
        }
    };
    if settings.is_production(&change.environment) {
        add(
            "production",
            format!("deploys to production environment `{}`", change.environment),
            weights.production,
        );
    }
    if change.includes_schema_changes {
        add(
            "schema-changes",
            "includes database schema changes".into(),
            weights.schema_changes,
        );
    }
    if change.touches_security_components {
        add(
            "security-components",
            "touches security components".into(),
            weights.security_components,
        );
    }
    if change.lines_changed > weights.large_change_lines {
        add(
            "large-change",
            format!(
                "{} lines changed, more than {}",
                change.lines_changed, weights.large_change_lines
            ),
            weights.large_change,
        );
    }
    let failure_points = change.historical_failure_rate * weights.historical_failure_rate_weight;
    add(
        "historical-failure-rate",
        format!(
            "similar changes failed at a rate of {} (x {})",
            change.historical_failure_rate, weights.historical_failure_rate_weight
        ),
        failure_points,
    );

    // Rounded to thousandths so that sums such as 3 + 0.1 print as written; `+ 0.0` turns the
    // empty sum's -0.0 into 0.
    let score = (factors.iter().map(|f| f.points).sum::<f64>() * 1000.0).round() / 1000.0 + 0.0;
    let score_class = if score >= weights.high_threshold {
        RiskClass::High
    } else if score >= weights.medium_threshold {
        RiskClass::Medium
    } else {
        RiskClass::Low
    };
    let category_class = change
        .categories
        .iter()
        .filter_map(|category| {
            let classes = &settings.category_classes;
            if classes.high.contains(category) {
                Some(RiskClass::High)
            } else if classes.medium.contains(category) {
                Some(RiskClass::Medium)
            } else if classes.low.contains(category) {
                Some(RiskClass::Low)
            } else {
                None
            }
        })
        .max();
    RiskAssessment {
        score,
        class: category_class.map_or(score_class, |c| c.max(score_class)),
        score_class,
        category_class,
        factors,
    }
}
