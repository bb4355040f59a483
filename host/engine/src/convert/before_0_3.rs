// The hooks of `from_wit.rs` for contracts before 0.3.0, whose decisions always carry risk and
// routing, whose findings carry their references, and whose metadata declares no schemas.

fn present<T>(value: T) -> Option<T> {
    Some(value)
}

fn finding_references(
    finding: &wd::Finding,
    _catalogue: &d::PolicyMetadata,
) -> Vec<d::RegulatoryReference> {
    references(finding.references.clone())
}

fn schemas(_meta: &wd::PolicyMetadata) -> (Option<String>, Vec<d::ExtensionSchema>) {
    (None, Vec::new())
}
