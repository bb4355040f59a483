//! Comparing the identities named in a manifest (author, deployer, approvers).

/// Whether two identities name the same person (case-insensitive, surrounding blanks ignored).
pub fn same_identity(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::same_identity;

    #[test]
    fn identities_compare_without_case_and_surrounding_blanks() {
        assert!(same_identity("alice", " ALICE "));
        assert!(same_identity("Alice@Example.com", "alice@example.com"));
        assert!(!same_identity("alice", "alicia"));
        assert!(!same_identity("alice", "al ice"));
    }
}
