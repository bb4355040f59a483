//! Approval time: from the ticket's submission to the last approval that a required approver role
//! was satisfied by. The evidence report (median and p90 over a period) and the gateway's
//! `tollgate_approval_time_seconds` histogram both measure it with [`approval_time_seconds`].

use crate::{Approval, Timestamp};

/// Seconds from `submitted_at` to the last approval that satisfied a required role.
///
/// `required` lists each required approver role with the identity that satisfied it, if any (a
/// decision's routing). The answer is `None` while a required role is unsatisfied, when no role was
/// required (no human approval to wait for), when no recorded approval matches a satisfying
/// identity and role, or when the last one predates the submission. A satisfied role without a
/// matching recorded approval (a routing that counts an approval under another identity) adds no
/// time of its own.
pub fn approval_time_seconds<'a>(
    submitted_at: Timestamp,
    approvals: &[Approval],
    required: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Option<f64> {
    let mut last: Option<Timestamp> = None;
    for (role, satisfied_by) in required {
        let by = satisfied_by?;
        let at = approvals
            .iter()
            .filter(|a| a.by == by && a.role == role)
            .map(|a| a.at)
            .max();
        last = last.max(at);
    }
    let last = last?;
    (last >= submitted_at).then(|| seconds_between(submitted_at, last))
}

/// Seconds from `from` to `to` (negative when `to` is earlier).
pub fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    #[expect(clippy::cast_precision_loss, reason = "seconds within centuries")]
    let seconds = (to.seconds - from.seconds) as f64;
    seconds + (f64::from(to.nanoseconds) - f64::from(from.nanoseconds)) / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn approval(by: &str, role: &str, when: &str) -> Approval {
        Approval {
            by: by.to_owned(),
            role: role.to_owned(),
            at: at(when),
            meaning: None,
        }
    }

    #[test]
    fn measures_to_the_last_required_approval() {
        let approvals = [
            approval("bob", "TECHNICAL_LEAD", "2026-05-20T10:00:00Z"),
            approval("carol", "CHANGE_ADVISORY_BOARD", "2026-05-21T09:00:00Z"),
            approval("dave", "OBSERVER", "2026-05-25T09:00:00Z"),
        ];
        let required = [
            ("TECHNICAL_LEAD", Some("bob")),
            ("CHANGE_ADVISORY_BOARD", Some("carol")),
        ];
        let seconds =
            approval_time_seconds(at("2026-05-20T09:00:00Z"), &approvals, required).unwrap();
        assert_eq!(seconds, 24.0 * 3600.0);
    }

    #[test]
    fn unknown_while_a_role_is_missing_or_none_was_required() {
        let approvals = [approval("bob", "TECHNICAL_LEAD", "2026-05-20T10:00:00Z")];
        let submitted = at("2026-05-20T09:00:00Z");
        let missing = [
            ("TECHNICAL_LEAD", Some("bob")),
            ("CHANGE_ADVISORY_BOARD", None),
        ];
        assert_eq!(approval_time_seconds(submitted, &approvals, missing), None);
        assert_eq!(approval_time_seconds(submitted, &approvals, []), None);
        let before = at("2026-05-21T09:00:00Z");
        let required = [("TECHNICAL_LEAD", Some("bob"))];
        assert_eq!(approval_time_seconds(before, &approvals, required), None);
        assert_eq!(
            approval_time_seconds(submitted, &approvals, required),
            Some(3600.0)
        );
    }
}
