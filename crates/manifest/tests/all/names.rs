//! The names the policies print for enum values are the names manifests and settings spell.

use serde::Serialize;
use tollgate_manifest::{
    ChangeCategory, DataStoreKind, RollbackStrategy, SensitiveDataKind, SourceKind,
};

fn assert_serde_name<T: Serialize + std::fmt::Debug>(value: T, name: &str) {
    assert_eq!(
        serde_json::to_value(&value).ok(),
        Some(serde_json::Value::from(name)),
        "{value:?}"
    );
}

#[test]
fn every_name_is_the_serde_name() {
    for category in ChangeCategory::ALL {
        assert_serde_name(category, category.as_str());
    }
    for kind in SourceKind::ALL {
        assert_serde_name(kind, kind.as_str());
    }
    for kind in [
        DataStoreKind::Bucket,
        DataStoreKind::Database,
        DataStoreKind::Volume,
        DataStoreKind::FileSystem,
    ] {
        assert_serde_name(kind, kind.as_str());
    }
    for strategy in [
        RollbackStrategy::BlueGreen,
        RollbackStrategy::Canary,
        RollbackStrategy::RedeployPrevious,
        RollbackStrategy::FeatureFlag,
        RollbackStrategy::RestoreBackup,
        RollbackStrategy::Other,
    ] {
        assert_serde_name(strategy, strategy.as_str());
    }
    for kind in [
        SensitiveDataKind::Pan,
        SensitiveDataKind::Ssn,
        SensitiveDataKind::MedicalRecordNumber,
        SensitiveDataKind::HealthPlanId,
        SensitiveDataKind::PhiOther,
    ] {
        assert_serde_name(kind, kind.as_str());
    }
}
