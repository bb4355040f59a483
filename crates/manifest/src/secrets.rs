//! Masking of secrets in text that can quote input (error messages, stored copies): the one
//! function every edge applies before a message reaches standard error, the decision log or an
//! HTTP body. Written without a regex engine so that policy modules can link it cheaply.
//!
//! Masked: AWS access key ids and secret keys, private key blocks, bearer and basic credentials,
//! GitHub, GitLab and Slack tokens, passwords in URLs, the values of `password=`, `secret:`,
//! `token=`-like assignments, and high-entropy values after `key`-like names.

/// What a secret is replaced with.
pub const MASKED: &str = "[masked]";

/// Names whose assigned value is always a secret (matched inside the lowercase name).
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "credential",
    "api_key",
    "apikey",
    "api-key",
    "private_key",
    "privatekey",
    "access_key",
    "session_key",
    "cookie",
];

/// Names whose assigned value is masked when it looks random (see [`high_entropy`]).
const KEY_NAMES: &[&str] = &["key", "sig", "signature", "salt", "client_id", "dsn"];

/// Prefixes of tokens that are secrets whatever surrounds them, with the least number of token
/// characters that must follow.
const TOKEN_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 20),
    ("gho_", 20),
    ("ghu_", 20),
    ("ghs_", 20),
    ("ghr_", 20),
    ("github_pat_", 20),
    ("glpat-", 16),
    ("gldt-", 16),
    ("glrt-", 16),
    ("glptt-", 16),
    ("glcbt-", 16),
    ("glsoat-", 16),
    ("gloas-", 16),
    ("xoxa-", 8),
    ("xoxb-", 8),
    ("xoxp-", 8),
    ("xoxo-", 8),
    ("xoxr-", 8),
    ("xoxs-", 8),
    ("xapp-", 8),
    ("hooks.slack.com/services/", 8),
    ("sk_live_", 12),
    ("rk_live_", 12),
];

/// Prefixes of AWS access key ids (followed by 16 upper-case letters or digits).
const AWS_KEY_PREFIXES: &[&str] = &[
    "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA",
];

/// Replaces every secret in `text` by [`MASKED`]. Text without secrets comes back unchanged;
/// masking masked text changes nothing.
pub fn mask_secrets(text: &str) -> String {
    let text = mask_private_keys(text);
    let text = mask_tokens(&text);
    let text = mask_url_passwords(&text);
    mask_assignments(&text)
}

/// Whether a field or variable name is one whose value is always a secret (`password`,
/// `AWS_SECRET_ACCESS_KEY`, `api_token`, ...).
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|n| lower.contains(n))
}

/// Whether `text` holds anything [`mask_secrets`] would mask.
pub fn has_secrets(text: &str) -> bool {
    mask_secrets(text) != text
}

/// `-----BEGIN … PRIVATE KEY-----` through its `-----END … PRIVATE KEY-----` (or the end of the
/// text, when the block is cut off).
fn mask_private_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let header_end = rest[start + 11..].find("-----").map(|i| start + 11 + i + 5);
        let is_private = header_end.is_some_and(|end| rest[start..end].contains("PRIVATE KEY"));
        let Some(header_end) = header_end.filter(|_| is_private) else {
            out.push_str(&rest[..start + 11]);
            rest = &rest[start + 11..];
            continue;
        };
        out.push_str(&rest[..start]);
        out.push_str(MASKED);
        let after = &rest[header_end..];
        rest = match after.find("-----END ") {
            Some(end) => {
                let tail = &after[end + 9..];
                match tail.find("-----") {
                    Some(close) => &tail[close + 5..],
                    None => "",
                }
            }
            None => "",
        };
    }
    out.push_str(rest);
    out
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Tokens recognised by their prefix, AWS access key ids, bare AWS secret keys, and
/// `Bearer`/`Basic` credentials.
fn mask_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    let bytes = text.as_bytes();
    while index < text.len() {
        let rest = &text[index..];
        let at_word_start = index == 0 || !text[..index].ends_with(is_token_char);
        if at_word_start && let Some(length) = secret_token_at(rest) {
            out.push_str(MASKED);
            index += length;
            continue;
        }
        if at_word_start && let Some((keep, length)) = credential_at(rest) {
            out.push_str(&rest[..keep]);
            out.push_str(MASKED);
            index += keep + length;
            continue;
        }
        let step = rest.chars().next().map_or(1, char::len_utf8);
        out.push_str(&rest[..step]);
        index += step;
        debug_assert!(index <= bytes.len());
    }
    out
}

/// The length of a secret token starting `text`, if one does.
fn secret_token_at(text: &str) -> Option<usize> {
    for (prefix, least) in TOKEN_PREFIXES {
        if let Some(after) = text.strip_prefix(prefix) {
            let length = after
                .find(|c: char| !(is_token_char(c) || c == '/'))
                .unwrap_or(after.len());
            if length >= *least {
                return Some(prefix.len() + length);
            }
        }
    }
    if AWS_KEY_PREFIXES.iter().any(|p| text.starts_with(p)) {
        let length = text.find(|c: char| !is_token_char(c)).unwrap_or(text.len());
        let id = &text[..length];
        if length == 20
            && id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Some(20);
        }
    }
    // A bare AWS secret access key: 40 characters of base64 with upper- and lower-case letters
    // and a digit (a hexadecimal commit id has no upper case).
    let length = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '+'))
        .unwrap_or(text.len());
    let word = &text[..length];
    if length == 40
        && word.contains(|c: char| c.is_ascii_uppercase())
        && word.contains(|c: char| c.is_ascii_lowercase())
        && word.contains(|c: char| c.is_ascii_digit())
    {
        return Some(40);
    }
    None
}

/// `Bearer TOKEN` or `Basic TOKEN`: the length kept (the scheme and space) and the token's length.
fn credential_at(text: &str) -> Option<(usize, usize)> {
    let scheme = ["bearer", "basic", "token"].into_iter().find(|s| {
        text.get(..s.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(s))
    })?;
    let after = &text[scheme.len()..];
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    if spaces == 0 {
        return None;
    }
    let value = &after[spaces..];
    let length = value
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ';'))
        .unwrap_or(value.len());
    let token = &value[..length];
    // Words of a sentence ("a bearer token is missing") are not credentials.
    let credential = length >= 8
        && token.starts_with(MASKED).then_some(()).is_none()
        && (token.contains(|c: char| c.is_ascii_digit())
            || token.contains(['.', '=', '-', '_', '+', '/']));
    credential.then_some((scheme.len() + spaces, length))
}

/// `scheme://user:password@host`: the password.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
            && colon + 1 < at
            && &authority[colon + 1..at] != MASKED
        {
            out.push_str(&authority[..=colon]);
            out.push_str(MASKED);
            out.push_str(&authority[at..]);
            rest = &rest[authority_end..];
        }
    }
    out.push_str(rest);
    out
}

/// `NAME=VALUE`, `NAME: VALUE`, `"NAME": "VALUE"` where the name is secret-like: the value.
fn mask_assignments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < text.len() {
        let rest = &text[index..];
        let Some(separator) = rest.find(['=', ':']) else {
            break;
        };
        let before = &text[..index + separator];
        let after = &text[index + separator + 1..];
        out.push_str(&rest[..=separator]);
        index += separator + 1;
        let Some(name) = assigned_name(before) else {
            continue;
        };
        // `https://` and `key::path` are not assignments.
        if after.starts_with("//") || after.starts_with(':') {
            continue;
        }
        let Some((skip, length)) = assigned_value(after) else {
            continue;
        };
        if after[skip..].starts_with(MASKED) {
            continue;
        }
        let value = &after[skip..skip + length];
        let secret = is_secret_name(name)
            || (KEY_NAMES
                .iter()
                .any(|n| name_has_word(&name.to_ascii_lowercase(), n))
                && high_entropy(value));
        if secret {
            out.push_str(&after[..skip]);
            out.push_str(MASKED);
            index += skip + length;
        }
    }
    out.push_str(&text[index..]);
    out
}

/// Whether a lowercase name has `word` as one of its `_`/`-`/`.`-separated parts (`aws_key`,
/// `key`, not `keyboard`).
fn name_has_word(name: &str, word: &str) -> bool {
    name.split(['_', '-', '.']).any(|part| part == word)
}

/// The name just before a separator: letters, digits, `_`, `-`, `.`, optionally inside quotes.
fn assigned_name(before: &str) -> Option<&str> {
    let trimmed = before.trim_end_matches([' ', '\t']);
    let unquoted = trimmed
        .strip_suffix('"')
        .or_else(|| trimmed.strip_suffix('\''))
        .unwrap_or(trimmed);
    let start = unquoted
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map_or(0, |i| i + 1);
    let name = &unquoted[start..];
    (!name.is_empty()).then_some(name)
}

/// Where the assigned value starts after the separator and how long it is: up to the closing
/// quote when quoted, else up to white space or punctuation that ends a value.
fn assigned_value(after: &str) -> Option<(usize, usize)> {
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    let value = &after[spaces..];
    let (skip, length) = match value.chars().next()? {
        quote @ ('"' | '\'') => {
            let inner = &value[1..];
            (spaces + 1, inner.find(quote).unwrap_or(inner.len()))
        }
        _ => (
            spaces,
            value
                .find(|c: char| {
                    c.is_whitespace() || matches!(c, ',' | ';' | '&' | '}' | ']' | ')' | '`')
                })
                .unwrap_or(value.len()),
        ),
    };
    (length > 0).then_some((skip, length))
}

/// Whether a value looks random: 16 characters or more, of at least three classes (upper case,
/// lower case, digits, symbols) or over 3.5 bits of entropy per character.
fn high_entropy(value: &str) -> bool {
    let length = value.chars().count();
    if length < 16 || value.contains(char::is_whitespace) {
        return false;
    }
    let classes = [
        value.contains(|c: char| c.is_ascii_uppercase()),
        value.contains(|c: char| c.is_ascii_lowercase()),
        value.contains(|c: char| c.is_ascii_digit()),
        value.contains(|c: char| !c.is_ascii_alphanumeric()),
    ]
    .into_iter()
    .filter(|&b| b)
    .count();
    classes >= 3 || entropy_bits(value) > 3.5
}

fn entropy_bits(value: &str) -> f64 {
    let mut counts = [0_u32; 256];
    for byte in value.bytes() {
        counts[usize::from(byte)] += 1;
    }
    let total = f64::from(u32::try_from(value.len()).unwrap_or(u32::MAX));
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS_ID: &str = "AKIAIOSFODNN7EXAMPLE";
    const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    #[test]
    fn masks_each_kind_of_secret() {
        let cases = [
            (
                format!("AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"),
                "AWS_ACCESS_KEY_ID=[masked]\nAWS_SECRET_ACCESS_KEY=[masked]\n".to_owned(),
            ),
            (
                format!("key id {AWS_ID} and {AWS_SECRET} alone"),
                "key id [masked] and [masked] alone".to_owned(),
            ),
            (
                "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nb"
                    .to_owned(),
                "a\n[masked]\nb".to_owned(),
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA".to_owned(),
                "[masked]".to_owned(),
            ),
            (
                "Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig".to_owned(),
                "Authorization: Bearer [masked]".to_owned(),
            ),
            (
                "GITHUB_TOKEN ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789".to_owned(),
                "GITHUB_TOKEN [masked]".to_owned(),
            ),
            (
                "use glpat-xxxxxxxxxxxxxxxxxxxx now".to_owned(),
                "use [masked] now".to_owned(),
            ),
            (
                "slack xoxb-123456789012-abcdefghijkl".to_owned(),
                "slack [masked]".to_owned(),
            ),
            (
                "postgres://app:s3cr3t@db.internal:5432/app".to_owned(),
                "postgres://app:[masked]@db.internal:5432/app".to_owned(),
            ),
            (
                "password=hunter2 secret: 'x y' \"api_token\": \"abc\"".to_owned(),
                "password=[masked] secret: '[masked]' \"api_token\": \"[masked]\"".to_owned(),
            ),
            (
                "STRIPE_KEY=Zx81kQp0Lm3Rt7Vw9Yb2 signing_key: short".to_owned(),
                "STRIPE_KEY=[masked] signing_key: short".to_owned(),
            ),
        ];
        for (text, masked) in cases {
            assert_eq!(mask_secrets(&text), masked, "{text}");
            assert_eq!(mask_secrets(&masked), masked, "masking is idempotent");
        }
    }

    #[test]
    fn ordinary_messages_are_unchanged() {
        for text in [
            "invalid YAML at `change.approvals[0].at` (line 3, column 5): expected a mapping",
            "unknown field `password`, expected one of `id`, `title`",
            "found character that cannot start any token",
            "a bearer token is missing",
            "commit 0123456789abcdef0123456789abcdef01234567 by alice",
            "see https://example.com/docs?x=1 and sha256:0f3a",
            "change CHG-1 to production: 2 approvals, key risk: high",
            "evaluated at 2026-06-01T00:00:00Z",
        ] {
            assert_eq!(mask_secrets(text), text);
            assert!(!has_secrets(text));
        }
    }
}
