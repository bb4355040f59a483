//! Sensitive-data detectors over the lines a change adds. A detection records the kind of data and
//! where it is (`path:line`); the matched value is kept only in masked form.
//!
//! | kind | what is matched | why it is not noise |
//! |---|---|---|
//! | `pan` | 13–19 digits, optionally grouped by spaces or dashes | Luhn check digit valid, issuer prefix with a length that issuer uses (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro, Mir), not a published test card |
//! | `ssn` | `AAA-GG-SSSS`, or 9 digits after an `SSN` / `social security` label | area not 000, 666 or 900–999; group not 00; serial not 0000; not a famous specimen number |
//! | `medical_record_number` | an identifier after an `MRN` / `medical record` label | at least 5 digits (MRNs have no universal format, so the label is required) |
//! | `health_plan_id` | a Medicare Beneficiary Identifier (CMS format `1EG4-TE5-MK73`) | position rules of the MBI: digit 1–9, letters without S, L, O, I, B, Z |
//!
//! Medical record numbers and health-plan beneficiary numbers are identifiers (H) and (I) of the
//! HIPAA Safe Harbor list, 45 CFR 164.514(b)(2)(i); live PANs in pre-production breach PCI DSS v4.0
//! requirement 6.5.5.

use globset::GlobSet;
use regex::Regex;
use tollgate_manifest::SensitiveDataKind;

use crate::GatherError;
use crate::config::SensitiveDataConfig;
use crate::git::AddedLine;
use crate::paths::glob_set;

/// Published test card numbers of card networks and payment processors: Luhn-valid, never issued,
/// and allowed in test fixtures.
pub const TEST_PANS: &[&str] = &[
    // Visa
    "4111111111111111",
    "4242424242424242",
    "4012888888881881",
    "4000056655665556",
    "4222222222222",
    "4917610000000000",
    // Mastercard
    "5555555555554444",
    "5105105105105100",
    "5200828282828210",
    "2223003122003222",
    "5454545454545454",
    // American Express
    "378282246310005",
    "371449635398431",
    "378734493671000",
    "340000000000009",
    // Discover
    "6011111111111117",
    "6011000990139424",
    // Diners Club
    "30569309025904",
    "38520000023237",
    "36227206271667",
    // JCB
    "3530111333300000",
    "3566002020360505",
    // UnionPay
    "6200000000000005",
];

/// Specimen SSNs that were published and never belong to a person.
const SPECIMEN_SSNS: &[&str] = &["078051120", "219099999", "123456789"];

/// The specimen Medicare Beneficiary Identifier CMS publishes.
const SPECIMEN_MBIS: &[&str] = &["1EG4TE5MK73"];

/// One detection of sensitive data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// What was found.
    pub kind: SensitiveDataKind,
    /// File path.
    pub path: String,
    /// Line number, from 1.
    pub line: u32,
    /// The matched value, masked (for example `**** **** **** 1234`).
    pub masked: String,
}

impl Detection {
    /// The manifest location, `path:line`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.path, self.line)
    }
}

/// The compiled detectors.
#[derive(Debug, Clone)]
pub struct Detectors {
    pan: Regex,
    ssn: Regex,
    ssn_labelled: Regex,
    mrn: Regex,
    mbi: Regex,
    exclude: GlobSet,
    allowed_pans: Vec<String>,
    disabled: bool,
}

impl Detectors {
    /// Compiles the detectors for a configuration.
    pub fn new(config: &SensitiveDataConfig) -> Result<Self, GatherError> {
        let compile = |pattern: &str| {
            Regex::new(pattern).map_err(|e| GatherError::Internal(format!("detector pattern: {e}")))
        };
        let mbi_letter = "[AC-HJKMNP-RT-Y]";
        let mbi_alnum = "[AC-HJKMNP-RT-Y0-9]";
        let mut allowed_pans: Vec<String> = TEST_PANS.iter().map(|p| (*p).to_owned()).collect();
        for pan in &config.allowed_test_pans {
            let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
            if !luhn_valid(&digits) {
                return Err(GatherError::Config {
                    path: "tollgate.toml".to_owned(),
                    message: format!(
                        "`sensitive_data.allowed_test_pans` entry ending in {} is not Luhn-valid",
                        last_digits(&digits, 4)
                    ),
                });
            }
            allowed_pans.push(digits);
        }
        Ok(Self {
            pan: compile(r"\b(?:\d[ -]?){12,18}\d\b")?,
            ssn: compile(r"\b(\d{3})-(\d{2})-(\d{4})\b")?,
            ssn_labelled: compile(
                r"(?i)\b(?:ssn|social[ _-]?security(?:[ _-]?(?:number|num|no))?)\b\W{0,4}(\d{9})\b",
            )?,
            mrn: compile(
                r#"(?i)\b(?:mrn|medical[ _-]?record(?:[ _-]?(?:number|num|no|id))?)\b["']?\s*[:=#]?\s*["']?([A-Z0-9][A-Z0-9-]{4,19})\b"#,
            )?,
            mbi: compile(&format!(
                r"\b[1-9]{mbi_letter}{mbi_alnum}[0-9]-?{mbi_letter}{mbi_alnum}[0-9]-?{mbi_letter}{{2}}[0-9]{{2}}\b"
            ))?,
            exclude: glob_set(&config.exclude, "sensitive_data.exclude")?,
            allowed_pans,
            disabled: config.disabled,
        })
    }

    /// Scans added lines; detections are in line order, one per kind and location.
    pub fn scan(&self, lines: &[AddedLine]) -> Vec<Detection> {
        let mut found: Vec<Detection> = Vec::new();
        if self.disabled {
            return found;
        }
        for line in lines {
            if self.exclude.is_match(&line.path) {
                continue;
            }
            for (kind, masked) in self.scan_text(&line.text) {
                // Detections are in line order: only this line's can be duplicates.
                let duplicate = found
                    .iter()
                    .rev()
                    .take_while(|d| d.line == line.line && d.path == line.path)
                    .any(|d| d.kind == kind);
                if !duplicate {
                    found.push(Detection {
                        kind,
                        path: line.path.clone(),
                        line: line.line,
                        masked,
                    });
                }
            }
        }
        found
    }

    /// Scans one line of text: each detection's kind and masked value.
    pub fn scan_text(&self, text: &str) -> Vec<(SensitiveDataKind, String)> {
        let mut found = Vec::new();
        for m in self.pan.find_iter(text) {
            let digits: String = m.as_str().chars().filter(char::is_ascii_digit).collect();
            if is_pan(&digits) && !self.allowed_pans.contains(&digits) {
                found.push((SensitiveDataKind::Pan, mask(m.as_str(), 4)));
            }
        }
        for c in self.ssn.captures_iter(text) {
            let (area, group, serial) = (&c[1], &c[2], &c[3]);
            if ssn_valid(area, group, serial) {
                found.push((SensitiveDataKind::Ssn, mask(&c[0], 4)));
            }
        }
        for c in self.ssn_labelled.captures_iter(text) {
            let digits = &c[1];
            if ssn_valid(&digits[..3], &digits[3..5], &digits[5..]) {
                found.push((SensitiveDataKind::Ssn, mask(digits, 4)));
            }
        }
        for c in self.mrn.captures_iter(text) {
            let value = &c[1];
            if value.chars().filter(char::is_ascii_digit).count() >= 5 {
                found.push((SensitiveDataKind::MedicalRecordNumber, mask(value, 2)));
            }
        }
        for m in self.mbi.find_iter(text) {
            let compact: String = m.as_str().chars().filter(|c| *c != '-').collect();
            if !SPECIMEN_MBIS.contains(&compact.as_str()) {
                found.push((SensitiveDataKind::HealthPlanId, mask(m.as_str(), 4)));
            }
        }
        found
    }
}

/// Whether a digit string passes the Luhn (mod 10) check.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether a digit string has an issuer prefix with a length that issuer uses, and a valid Luhn
/// check digit.
pub fn is_pan(digits: &str) -> bool {
    let len = digits.len();
    if !(13..=19).contains(&len) || !luhn_valid(digits) {
        return false;
    }
    let prefix = |n: usize| digits[..n].parse::<u32>().unwrap_or(0);
    const ANY: &[usize] = &[16, 17, 18, 19];
    let visa = digits.starts_with('4');
    let mastercard = (51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4));
    let amex = matches!(prefix(2), 34 | 37);
    let discover = prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65;
    let jcb = (3528..=3589).contains(&prefix(4));
    let diners = (300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38 | 39);
    let unionpay = prefix(2) == 62;
    let mir = (2200..=2204).contains(&prefix(4));
    let maestro = matches!(
        prefix(4),
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761..=6763
    );
    let issuer_lengths: &[usize] = if visa {
        &[13, 16, 19]
    } else if mastercard {
        &[16]
    } else if amex {
        &[15]
    } else if discover || jcb || unionpay || mir {
        ANY
    } else if diners {
        &[14, 15, 16, 17, 18, 19]
    } else if maestro {
        &[13, 14, 15, 16, 17, 18, 19]
    } else {
        &[]
    };
    issuer_lengths.contains(&len)
}

/// Whether an SSN's parts follow the SSA's rules, and it is not a published specimen.
pub fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    let area_number: u32 = area.parse().unwrap_or(0);
    let valid = area_number != 0
        && area_number != 666
        && area_number < 900
        && group != "00"
        && serial != "0000";
    valid && !SPECIMEN_SSNS.contains(&format!("{area}{group}{serial}").as_str())
}

/// Masks a matched value: every letter and digit but the last `keep` becomes `*`; separators stay.
pub fn mask(value: &str, keep: usize) -> String {
    let total = value.chars().filter(char::is_ascii_alphanumeric).count();
    // A value no longer than the kept tail is masked whole.
    let hide = if total > keep { total - keep } else { total };
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                seen += 1;
                if seen <= hide { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

fn last_digits(digits: &str, n: usize) -> &str {
    &digits[digits.len().saturating_sub(n)..]
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn detectors() -> Detectors {
        Detectors::new(&SensitiveDataConfig::default()).unwrap()
    }

    fn kinds(text: &str) -> Vec<SensitiveDataKind> {
        detectors()
            .scan_text(text)
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    #[test]
    fn every_allowlisted_test_card_is_a_luhn_valid_pan() {
        for pan in TEST_PANS {
            assert!(is_pan(pan), "{pan} is not a valid PAN");
        }
    }

    #[rstest]
    #[case("79927398713", true)]
    #[case("79927398710", false)]
    #[case("4539578763621486", true)]
    #[case("4539578763621487", false)]
    #[case("", false)]
    #[case("12a4", false)]
    fn luhn(#[case] digits: &str, #[case] valid: bool) {
        assert_eq!(luhn_valid(digits), valid);
    }

    #[rstest]
    #[case("4539578763621486", true)] // Visa 16
    #[case("4539578763621", false)] // Visa prefix, 13 digits, Luhn fails
    #[case("5425233430109903", true)] // Mastercard
    #[case("2720992593319364", true)] // Mastercard 2-series
    #[case("374245455400126", true)] // Amex 15
    #[case("3742454554001263", false)] // Amex prefix with 16 digits
    #[case("6011000991300009", true)] // Discover
    #[case("1234567812345670", false)] // Luhn-valid, no issuer
    fn issuer_lengths(#[case] digits: &str, #[case] expected: bool) {
        assert_eq!(is_pan(digits), expected, "{digits}");
    }

    #[test]
    fn finds_live_pans_but_not_test_cards() {
        assert_eq!(kinds("card=4539578763621486"), [SensitiveDataKind::Pan]);
        assert_eq!(
            kinds("card: 4539 5787 6362 1486;"),
            [SensitiveDataKind::Pan]
        );
        assert_eq!(kinds("card: 4539-5787-6362-1486"), [SensitiveDataKind::Pan]);
        assert!(kinds("card=4111111111111111").is_empty());
        assert!(kinds("card=4111 1111 1111 1111").is_empty());
        assert!(kinds("order id 4539578763621487").is_empty());
        assert!(kinds("ts 1700000000000000000000").is_empty());
        assert!(kinds("id=x4539578763621486").is_empty());
    }

    #[test]
    fn configured_test_cards_are_allowed_and_must_be_luhn_valid() {
        let config = SensitiveDataConfig {
            allowed_test_pans: vec!["4539 5787 6362 1486".into()],
            ..SensitiveDataConfig::default()
        };
        assert!(
            Detectors::new(&config)
                .unwrap()
                .scan_text("4539578763621486")
                .is_empty()
        );
        let config = SensitiveDataConfig {
            allowed_test_pans: vec!["4539578763621487".into()],
            ..SensitiveDataConfig::default()
        };
        let error = Detectors::new(&config).unwrap_err().to_string();
        assert!(error.contains("ending in 1487"), "{error}");
        assert!(!error.contains("4539578763621487"), "{error}");
    }

    #[rstest]
    #[case("ssn: 536-22-8726", true)]
    #[case("000-12-3456", false)]
    #[case("666-12-3456", false)]
    #[case("912-12-3456", false)]
    #[case("536-00-8726", false)]
    #[case("536-22-0000", false)]
    #[case("078-05-1120", false)]
    #[case("SSN=536228726", true)]
    #[case("social_security_number: \"536228726\"", true)]
    #[case("order 536228726", false)]
    fn ssn_rules(#[case] text: &str, #[case] found: bool) {
        assert_eq!(kinds(text) == [SensitiveDataKind::Ssn], found, "{text}");
    }

    #[rstest]
    #[case("MRN: 00482913", true)]
    #[case("medical_record_number = \"A-2291847\"", true)]
    #[case("patient mrn 55831-07", true)]
    #[case("let mrn = patient.mrn;", false)]
    #[case("MRN: AB12", false)]
    fn medical_record_numbers_need_a_label_and_digits(#[case] text: &str, #[case] found: bool) {
        assert_eq!(
            kinds(text) == [SensitiveDataKind::MedicalRecordNumber],
            found,
            "{text}"
        );
    }

    #[rstest]
    #[case("mbi: 5EG4TE5MK72", true)]
    #[case("beneficiary 5EG4-TE5-MK72", true)]
    #[case("1EG4-TE5-MK73", false)] // the CMS specimen
    #[case("5SG4TE5MK72", false)] // S is never used
    #[case("0EG4TE5MK72", false)] // first position is 1-9
    #[case("5eg4te5mk72", false)]
    fn medicare_beneficiary_identifiers(#[case] text: &str, #[case] found: bool) {
        assert_eq!(
            kinds(text) == [SensitiveDataKind::HealthPlanId],
            found,
            "{text}"
        );
    }

    #[rstest]
    #[case("4539 5787 6362 1486", 4, "**** **** **** 1486")]
    #[case("536-22-8726", 4, "***-**-8726")]
    #[case("00482913", 2, "******13")]
    #[case("12", 4, "**")]
    fn masking_keeps_separators_and_the_tail(
        #[case] value: &str,
        #[case] keep: usize,
        #[case] masked: &str,
    ) {
        assert_eq!(mask(value, keep), masked);
    }

    #[test]
    fn scan_records_locations_masks_values_and_skips_excluded_files() {
        let config = SensitiveDataConfig {
            exclude: vec!["docs/**".into()],
            ..SensitiveDataConfig::default()
        };
        let detectors = Detectors::new(&config).unwrap();
        let line = |path: &str, line: u32, text: &str| AddedLine {
            path: path.into(),
            line,
            text: text.into(),
        };
        let found = detectors.scan(&[
            line("fixtures/cards.csv", 12, "alice,4539578763621486,12/29"),
            line("docs/example.md", 3, "4539578763621486"),
            line("fixtures/people.csv", 2, "bob,536-22-8726,MRN: 00482913"),
        ]);
        let summary: Vec<(SensitiveDataKind, String, &str)> = found
            .iter()
            .map(|d| (d.kind, d.location(), d.masked.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    SensitiveDataKind::Pan,
                    "fixtures/cards.csv:12".into(),
                    "************1486"
                ),
                (
                    SensitiveDataKind::Ssn,
                    "fixtures/people.csv:2".into(),
                    "***-**-8726"
                ),
                (
                    SensitiveDataKind::MedicalRecordNumber,
                    "fixtures/people.csv:2".into(),
                    "******13"
                ),
            ]
        );
        let rendered = format!("{found:?}");
        assert!(!rendered.contains("4539578763621486"));
        assert!(!rendered.contains("536-22-8726"));
    }
}
