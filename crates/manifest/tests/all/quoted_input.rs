//! Errors never quote a document that is not a manifest, and mask secrets they do quote.

use tollgate_manifest::{Format, Manifest, decode};

const CREDS: &str = "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n";

#[test]
fn a_text_that_is_not_a_mapping_is_not_quoted() {
    for (text, format) in [
        (CREDS, Format::Yaml),
        (PASSWD, Format::Yaml),
        ("\"AKIAIOSFODNN7EXAMPLE\"", Format::Json),
    ] {
        let message = Manifest::from_text(text, format).unwrap_err().to_string();
        assert!(message.contains("invalid type: a string"), "{message}");
        for quoted in ["AKIA", "wJalr", "root:x", "nologin"] {
            assert!(!message.contains(quoted), "{message}");
        }
    }
}

#[test]
fn secrets_quoted_by_an_error_are_masked() {
    let text = "change:\n  id: CHG-1\n  deployer: { password=hunter2: x }\n";
    let message = decode::<Manifest>(text, Format::Yaml)
        .unwrap_err()
        .to_string();
    assert!(!message.contains("hunter2"), "{message}");
    let text = "{\"change\": {\"environment\": 7, \"token\": \"ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789\"}}";
    let message = decode::<Manifest>(text, Format::Json)
        .unwrap_err()
        .to_string();
    assert!(!message.contains("ghp_aBc"), "{message}");
}
