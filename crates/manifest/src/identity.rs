//! Comparing the identities named in a manifest (author, deployer, approvers).
//!
//! Identities come from different systems: git gives emails (`alice@bank.example`), ticket systems
//! and CI give logins (`alice`). Separation of duties must never take one person for two, so the
//! comparison has three answers ([`IdentityMatch`]) and an identity that cannot be matched is never
//! a different person. The rule, after resolving aliases (the `identities` settings: alias →
//! canonical identity) and ignoring case and surrounding blanks:
//!
//! 1. equal identities are the **same** person;
//! 2. two emails, or two bare names, that differ are **different** people (one system's
//!    identities);
//! 3. an email and a bare name are the **same** person when the bare name is the email's local part
//!    (`alice` and `alice@bank.example`), else **unknown**: nothing says whether they are one
//!    person, and the caller fails closed (the approval does not count, a finding names the
//!    `identities` settings that resolve it).
//!
//! Mapping a login to its canonical email in `identities` turns an unknown into a definite answer,
//! in both directions: `bob: bob@bank.example` makes `bob` comparable with emails, and
//! `alice: alice.smith@bank.example` says that the login `alice` is not `alice@vendor.example`.

use std::collections::BTreeMap;

/// How two identities compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityMatch {
    /// The same person.
    Same,
    /// Different people.
    Different,
    /// Identities of different systems that nothing maps to each other: possibly one person.
    Unknown,
}

impl IdentityMatch {
    /// Whether the identities may name the same person (same or unknown): what separation of
    /// duties must treat as a conflict.
    pub fn may_be_same(self) -> bool {
        self != Self::Different
    }
}

/// Aliases: alias → canonical identity (the `identities` settings). Keys compare ignoring case and
/// surrounding blanks.
pub type IdentityAliases = BTreeMap<String, String>;

/// The identity with case and surrounding blanks removed, resolved through `aliases`.
pub fn canonical_identity(identity: &str, aliases: &IdentityAliases) -> String {
    resolve(identity, aliases).to_ascii_lowercase()
}

/// The identity without surrounding blanks, resolved through `aliases` (keys compared ignoring
/// case); case is left as it is, for comparisons that ignore it. Allocates nothing: separation of
/// duties compares every approver with the author and the deployer.
fn resolve<'a>(identity: &'a str, aliases: &'a IdentityAliases) -> &'a str {
    let key = identity.trim();
    aliases
        .iter()
        .find(|(alias, _)| alias.trim().eq_ignore_ascii_case(key))
        .map_or(key, |(_, canonical)| canonical.trim())
}

/// Compares two identities by the rule of the module documentation.
pub fn compare_identities(a: &str, b: &str, aliases: &IdentityAliases) -> IdentityMatch {
    let (a, b) = (resolve(a, aliases), resolve(b, aliases));
    if a.eq_ignore_ascii_case(b) {
        return IdentityMatch::Same;
    }
    if a.is_empty() || b.is_empty() {
        return IdentityMatch::Unknown;
    }
    match (a.split_once('@'), b.split_once('@')) {
        (Some(_), Some(_)) | (None, None) => IdentityMatch::Different,
        (Some((local, _)), None) if local.eq_ignore_ascii_case(b) => IdentityMatch::Same,
        (None, Some((local, _))) if local.eq_ignore_ascii_case(a) => IdentityMatch::Same,
        _ => IdentityMatch::Unknown,
    }
}

/// Whether two identities are the same person by [`compare_identities`] without aliases (an
/// unknown match is not "the same": use [`compare_identities`] where unknown must fail closed).
pub fn same_identity(a: &str, b: &str) -> bool {
    compare_identities(a, b, &IdentityAliases::new()) == IdentityMatch::Same
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases(pairs: &[(&str, &str)]) -> IdentityAliases {
        pairs
            .iter()
            .map(|(a, c)| ((*a).to_owned(), (*c).to_owned()))
            .collect()
    }

    #[test]
    fn identities_compare_without_case_and_surrounding_blanks() {
        assert!(same_identity("alice", " ALICE "));
        assert!(same_identity("Alice@Example.com", "alice@example.com"));
        assert!(!same_identity("alice", "alicia"));
        assert!(!same_identity("alice", "al ice"));
    }

    #[test]
    fn a_login_and_an_email_are_never_taken_for_different_people() {
        let none = IdentityAliases::new();
        assert_eq!(
            compare_identities("alice", "alice@bank.example", &none),
            IdentityMatch::Same
        );
        assert_eq!(
            compare_identities("bob", "alice@bank.example", &none),
            IdentityMatch::Unknown
        );
        assert_eq!(
            compare_identities("bob@bank.example", "alice@bank.example", &none),
            IdentityMatch::Different
        );
        assert_eq!(
            compare_identities("bob", "alice", &none),
            IdentityMatch::Different
        );
        assert_eq!(
            compare_identities("", "alice", &none),
            IdentityMatch::Unknown
        );
    }

    #[test]
    fn aliases_resolve_logins_to_canonical_identities() {
        let map = aliases(&[
            ("Bob", "bob@bank.example"),
            ("alice", "alice.smith@bank.example"),
        ]);
        assert_eq!(
            compare_identities(" BOB ", "alice@bank.example", &map),
            IdentityMatch::Different
        );
        assert_eq!(
            compare_identities("bob", "Bob@Bank.Example", &map),
            IdentityMatch::Same
        );
        // The mapping separates namesakes of different systems.
        assert_eq!(
            compare_identities("alice", "alice@vendor.example", &map),
            IdentityMatch::Different
        );
        assert!(IdentityMatch::Unknown.may_be_same());
        assert!(!IdentityMatch::Different.may_be_same());
    }
}
