//! Exit codes of a decision, as `tollgate` exits with them and as the decision record and the JSON
//! report state them. Every error maps to a non-zero code; no error is ever an approval.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | approved: every policy approved the change |
//! | 1 | unexpected internal error of the host |
//! | 2 | invalid input: bad usage, an unreadable or malformed manifest or settings file, settings a policy rejects, an unknown policy |
//! | 3 | needs approval: the change may proceed once the missing roles approve |
//! | 4 | denied: at least one policy denied the change |
//! | 5 | policy failure: a policy could not be loaded or compiled, trapped, timed out, hit a resource limit, returned an evaluation error other than invalid settings, or returned a malformed result. Any failing policy makes the run exit 5, even if the others approved |
//! | 6 | audit failure: the decision log could not be written (missing directory, full disk, permission, lock held too long), so no result is reported; for `tollgate audit` and `tollgate report`, the log could not be read or fails verification |
//!
//! Commands other than `eval` exit 0 on success, and 1, 2, 5 or 6 as above on error.

use tollgate_decision::Outcome;

/// Exit code 0: every policy approved the change (or, for other commands, success).
pub const APPROVED: u8 = 0;
/// Exit code 1: unexpected internal error.
pub const INTERNAL_ERROR: u8 = 1;
/// Exit code 2: invalid input (usage, manifest, settings, unknown policy).
pub const INVALID_INPUT: u8 = 2;
/// Exit code 3: the change needs approvals it does not have yet.
pub const NEEDS_APPROVAL: u8 = 3;
/// Exit code 4: the change is denied.
pub const DENIED: u8 = 4;
/// Exit code 5: a policy failed (load, compile, trap, timeout, limit, evaluation error, malformed result).
pub const POLICY_FAILURE: u8 = 5;
/// Exit code 6: the decision log could not be written or read, or fails verification.
pub const AUDIT_FAILURE: u8 = 6;

/// The exit code of a combined outcome.
pub fn for_outcome(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Approved => APPROVED,
        Outcome::NeedsApproval => NEEDS_APPROVAL,
        Outcome::Denied => DENIED,
    }
}
