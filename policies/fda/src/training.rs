//! 21 CFR 11.10(i): the people who develop (the author), approve (every approver) and deploy (the
//! deployer) the change have the education and training for it, shown by a training record
//! completed before the evaluation and not expired at it (EU GMP Annex 11 §2).

use tollgate_policy_sdk::decision::Severity;
use tollgate_policy_sdk::manifest::{IdentityMatch, Manifest, Timestamp};
use tollgate_policy_sdk::{Check, Issue, Settings};

use crate::facts::{FdaFacts, TrainingRecord};

/// One person and what they do in the change.
struct Person<'m> {
    identity: &'m str,
    duties: Vec<&'static str>,
}

/// The people who develop, approve and deploy the change, each once (identities compared through
/// the `identities` settings), in that order.
fn people<'m>(manifest: &'m Manifest, settings: &Settings) -> Vec<Person<'m>> {
    let change = &manifest.change;
    let involved = std::iter::once((change.author.as_str(), "develops"))
        .chain(change.approvals.iter().map(|a| (a.by.as_str(), "approves")))
        .chain(std::iter::once((change.deployer.as_str(), "deploys")));
    let mut people: Vec<Person<'m>> = Vec::new();
    for (identity, duty) in involved {
        let known = people
            .iter_mut()
            .find(|p| settings.compare_identities(p.identity, identity) == IdentityMatch::Same);
        match known {
            Some(person) if person.duties.contains(&duty) => {}
            Some(person) => person.duties.push(duty),
            None => people.push(Person {
                identity,
                duties: vec![duty],
            }),
        }
    }
    people
}

/// Every person involved has a current training record.
pub fn trained(
    manifest: &Manifest,
    facts: &FdaFacts,
    settings: &Settings,
    now: Timestamp,
) -> Check {
    let mut check = Check::default();
    for person in people(manifest, settings) {
        let duties = person.duties.join(" and ");
        let records: Vec<(usize, &TrainingRecord)> = facts
            .training
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                settings.compare_identities(&r.person, person.identity) == IdentityMatch::Same
            })
            .collect();
        let current = records
            .iter()
            .find(|(_, r)| r.completed <= now && r.expires.is_none_or(|e| e > now));
        if let Some((_, record)) = current {
            check.evidence(format!(
                "`{}` ({duties}) trained on `{}`, completed {}{}",
                person.identity,
                record.curriculum,
                record.completed,
                record
                    .expires
                    .map(|e| format!(", valid until {e}"))
                    .unwrap_or_default()
            ));
            continue;
        }
        let issue = match records.last() {
            None => Issue::new(
                "training-record-missing",
                Severity::High,
                format!(
                    "`{}` {duties} the change but has no GxP training record",
                    person.identity
                ),
                format!(
                    "train `{}` on the system's SOPs and record it in `extensions.fda.training`",
                    person.identity
                ),
                "extensions.fda.training",
            ),
            Some((index, record)) if record.completed > now => Issue::new(
                "training-not-completed",
                Severity::High,
                format!(
                    "the `{}` training of `{}`, who {duties} the change, is dated {}, after the \
                     evaluation time {now}",
                    record.curriculum, person.identity, record.completed
                ),
                "complete the training before taking part in the change",
                format!("extensions.fda.training[{index}].completed"),
            ),
            Some((index, record)) => Issue::new(
                "training-expired",
                Severity::High,
                format!(
                    "the `{}` training of `{}`, who {duties} the change, expired {}",
                    record.curriculum,
                    person.identity,
                    record.expires.map(|e| e.to_string()).unwrap_or_default()
                ),
                format!("renew the training of `{}`", person.identity),
                format!("extensions.fda.training[{index}].expires"),
            ),
        };
        check.issue(issue);
    }
    check
}

#[cfg(test)]
mod tests {
    use tollgate_policy_sdk::manifest::Format;

    use super::*;

    fn manifest() -> Manifest {
        let text = "version: 1\nchange: {id: C, title: t, ticket_status: approved, author: alice, \
                    deployer: carol, environment: production, approvals: [{by: bob, role: QA, \
                    at: '2026-05-20T09:00:00Z'}, {by: Bob, role: TECHNICAL_LEAD, \
                    at: '2026-05-20T09:00:00Z'}]}\n";
        Manifest::from_text(text, Format::Yaml).unwrap()
    }

    fn record(person: &str, completed: &str, expires: Option<&str>) -> TrainingRecord {
        TrainingRecord {
            person: person.into(),
            curriculum: "GxP-SDLC".into(),
            completed: Timestamp::parse(completed).unwrap(),
            expires: expires.map(|e| Timestamp::parse(e).unwrap()),
        }
    }

    fn rules(check: &Check) -> Vec<(&str, &str)> {
        check
            .issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.field_path.as_str()))
            .collect()
    }

    #[test]
    fn each_person_needs_a_current_record() {
        let now = Timestamp::parse("2026-05-21T12:00:00Z").unwrap();
        let facts = FdaFacts {
            training: vec![
                record("alice", "2026-01-01T00:00:00Z", None),
                record("bob", "2025-01-01T00:00:00Z", Some("2026-01-01T00:00:00Z")),
                record("carol", "2026-06-01T00:00:00Z", None),
            ],
            ..FdaFacts::default()
        };
        let check = trained(&manifest(), &facts, &Settings::default(), now);
        assert_eq!(
            rules(&check),
            [
                ("training-expired", "extensions.fda.training[1].expires"),
                (
                    "training-not-completed",
                    "extensions.fda.training[2].completed"
                ),
            ]
        );
        assert!(check.issues[0].message.contains("`bob`, who approves"));
        let none = trained(&manifest(), &FdaFacts::default(), &Settings::default(), now);
        assert_eq!(
            rules(&none),
            [("training-record-missing", "extensions.fda.training"); 3]
        );
    }
}
