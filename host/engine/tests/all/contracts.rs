//! Contract versions: the host binds `tollgate:policy@0.4.0`, `@0.3.0`, `@0.2.0` and `@0.1.0`
//! components alike, maps an earlier component's results into the current types, and lowers for it
//! only what its contract can express. The earlier components are SOX packs built before the
//! contract moved on (`tests/data/sox-policy-0.1.0.wasm`, `tests/data/sox-policy-0.2.0.wasm`,
//! `tests/data/sox-policy-0.3.0.wasm`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::{data, engine, manifest, now};
use tollgate_decision::{ControlStatus, Outcome};
use tollgate_engine::{Contract, LoadedPolicy, PolicySource, builtin_pack, builtin_packs};
use tollgate_manifest::{DataClass, FactSource, Manifest, SignatureMeaning, SourceKind};

fn sox_0_1() -> LoadedPolicy {
    engine()
        .load(PolicySource::File(data("sox-policy-0.1.0.wasm")))
        .expect("the 0.1.0 component loads")
}

fn sox_current() -> LoadedPolicy {
    engine()
        .load(PolicySource::Builtin(builtin_pack("sox").expect("sox")))
        .expect("the built-in pack loads")
}

fn status(decision: &tollgate_decision::Decision, control: &str) -> ControlStatus {
    decision
        .controls
        .iter()
        .find(|c| c.control_id == control)
        .map(|c| c.status)
        .unwrap_or_else(|| panic!("no {control}"))
}

#[test]
fn the_built_in_packs_implement_the_current_contract() {
    assert_eq!(Contract::CURRENT.abi(), "tollgate:policy@0.4.0");
    for pack in builtin_packs() {
        let policy = engine().load(PolicySource::Builtin(pack)).unwrap();
        assert_eq!(policy.contract(), Contract::V0_4, "{}", pack.name);
        assert!(
            policy.imports().iter().all(|i| i.name.ends_with("@0.4.0")),
            "{:?}",
            policy.imports()
        );
    }
}

#[test]
fn a_0_1_0_component_still_loads_and_decides() {
    let old = sox_0_1();
    assert_eq!(old.contract(), Contract::V0_1);
    assert_eq!(old.contract().abi(), "tollgate:policy@0.1.0");
    assert!(old.imports().iter().all(|i| i.name.ends_with("@0.1.0")));
    assert_eq!(old.metadata(), sox_current().metadata());
    old.validate_settings("")
        .expect("default settings are valid");
    assert!(
        old.validate_settings(r#"{"no_such_setting": 1}"#)
            .unwrap_err()
            .is_invalid_settings()
    );

    let decision = old.evaluate(&manifest(), "", now()).expect("decides");
    assert_eq!(decision.policy_id, "sox");
    assert_eq!(decision.outcome, Outcome::Approved);
    // Its statuses are the 0.1.0 subset: it calls the untested change-tracking control compliant
    // where the current pack says not assessed.
    assert!(decision.controls.iter().all(|c| matches!(
        c.status,
        ControlStatus::Compliant | ControlStatus::NonCompliant | ControlStatus::NotApplicable
    )));
    assert_eq!(status(&decision, "SOX-CC-06"), ControlStatus::Compliant);
    let current = sox_current().evaluate(&manifest(), "", now()).unwrap();
    assert_eq!(status(&current, "SOX-CC-06"), ControlStatus::NotAssessed);
    assert_eq!(current.outcome, decision.outcome);
    assert_eq!(current.findings, decision.findings);
}

#[test]
fn awaiting_approval_is_pending_in_0_2_0_and_compliant_in_0_1_0() {
    let mut waiting = manifest();
    waiting.change.approvals.clear();
    let old = sox_0_1().evaluate(&waiting, "", now()).unwrap();
    let current = sox_current().evaluate(&waiting, "", now()).unwrap();
    assert_eq!(old.outcome, Outcome::NeedsApproval);
    assert_eq!(current.outcome, Outcome::NeedsApproval);
    assert_eq!(status(&old, "SOX-CC-05"), ControlStatus::Compliant);
    assert_eq!(status(&current, "SOX-CC-05"), ControlStatus::Pending);
}

#[test]
fn contracts_are_named_by_their_abi() {
    for contract in Contract::ALL {
        assert_eq!(Contract::from_abi(contract.abi()), Some(contract));
    }
    assert_eq!(Contract::from_abi("tollgate:policy@0.5.0"), None);
}

#[test]
fn a_0_2_0_component_decides_exactly_as_todays_pack() {
    let old = engine()
        .load(PolicySource::File(data("sox-policy-0.2.0.wasm")))
        .expect("the 0.2.0 component loads");
    assert_eq!(old.contract(), Contract::V0_2);
    assert!(old.imports().iter().all(|i| i.name.ends_with("@0.2.0")));
    assert_eq!(old.metadata(), sox_current().metadata());
    let mut waiting = manifest();
    waiting.change.approvals.clear();
    for manifest in [manifest(), waiting] {
        let decision = old.evaluate(&manifest, "", now()).expect("decides");
        let current = sox_current().evaluate(&manifest, "", now()).unwrap();
        // Findings carry the catalogue's references either way: the 0.2.0 pack returned them, the
        // host filled them in for today's.
        assert_eq!(decision, current);
    }
}

#[test]
fn a_0_3_0_component_decides_exactly_as_todays_pack() {
    let old = engine()
        .load(PolicySource::File(data("sox-policy-0.3.0.wasm")))
        .expect("the 0.3.0 component loads");
    assert_eq!(old.contract(), Contract::V0_3);
    assert!(old.imports().iter().all(|i| i.name.ends_with("@0.3.0")));
    assert_eq!(old.metadata(), sox_current().metadata());
    let mut waiting = manifest();
    waiting.change.approvals.clear();
    for manifest in [manifest(), waiting, with_part_11_facts(manifest())] {
        let decision = old.evaluate(&manifest, "", now()).expect("decides");
        let current = sox_current().evaluate(&manifest, "", now()).unwrap();
        assert_eq!(decision, current);
    }
}

/// `manifest` with what only 0.4.0 can express: the `gxp` data class, a signature meaning on every
/// approval, and the meanings' provenance.
fn with_part_11_facts(mut manifest: Manifest) -> Manifest {
    manifest.change.data_classes.insert(0, DataClass::Gxp);
    for approval in &mut manifest.change.approvals {
        approval.meaning = Some(SignatureMeaning::Approval);
    }
    manifest.provenance.insert(
        "change.approvals[*].meaning",
        FactSource::new(SourceKind::Ticket, Some("CHG-2041".into())),
    );
    manifest.provenance.insert(
        "change.approvals",
        FactSource::new(SourceKind::Ticket, None),
    );
    manifest
}

#[test]
fn earlier_components_receive_no_gxp_class_or_signature_meaning_and_decide_as_without_them() {
    let plain = manifest();
    let mut recorded = manifest();
    recorded.provenance.insert(
        "change.approvals",
        FactSource::new(SourceKind::Ticket, None),
    );
    let part_11 = with_part_11_facts(manifest());
    for (file, contract) in [
        ("sox-policy-0.3.0.wasm", Contract::V0_3),
        ("sox-policy-0.2.0.wasm", Contract::V0_2),
        ("sox-policy-0.1.0.wasm", Contract::V0_1),
    ] {
        let old = engine()
            .load(PolicySource::File(data(file)))
            .expect("loads");
        assert_eq!(old.contract(), contract);
        // The meanings' provenance is a fact the earlier guests do not know: passed on, it would be
        // refused as an invalid manifest.
        let with = old.evaluate(&part_11, "", now()).expect(file);
        let without = old.evaluate(&recorded, "", now()).expect(file);
        assert_eq!(with, without, "{file}");
        assert_eq!(
            with.outcome,
            old.evaluate(&plain, "", now()).unwrap().outcome
        );
    }
    // Today's pack reads them and, for SOX, decides the same.
    let current = sox_current();
    assert_eq!(current.contract(), Contract::V0_4);
    assert_eq!(
        current.evaluate(&part_11, "", now()).unwrap(),
        current.evaluate(&recorded, "", now()).unwrap()
    );
}
