//! `tollgate policies --export DIR` writes the built-in components, byte for byte, for other
//! component hosts (README "Embedding").

use assert_cmd::Command;

#[test]
fn policies_export_writes_every_builtin_component() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("components");
    Command::cargo_bin("tollgate")
        .unwrap()
        .args(["policies", "--no-cache", "--export"])
        .arg(&out)
        .assert()
        .success();
    for pack in tollgate_engine::builtin_packs() {
        let written = std::fs::read(out.join(format!("{}.wasm", pack.name))).unwrap();
        assert_eq!(written, pack.bytes, "{}", pack.name);
    }
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names.len(),
        tollgate_engine::builtin_packs().len(),
        "{names:?}"
    );
}

#[test]
fn policies_export_into_an_unwritable_place_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    Command::cargo_bin("tollgate")
        .unwrap()
        .args(["policies", "--no-cache", "--export"])
        .arg(file.join("sub"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot create"));
}
