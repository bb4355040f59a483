//! Metric names of PromQL expressions, and the gateway's `/metrics` they are checked against,
//! shared by the tests of the alerting rules and of the Grafana dashboard.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use tollgate_gateway::Gateway;
use tower::ServiceExt as _;

/// The gateway's `GET /metrics` exposition text.
pub async fn scrape(gateway: Arc<Gateway>) -> String {
    let response = tollgate_gateway::router(gateway)
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Words of PromQL that are neither metrics nor functions, besides those of [`LABEL_LISTS`].
const KEYWORDS: &[&str] = &["bool", "and", "or", "unless", "offset", "atan2"];

/// Words followed by a parenthesised list of label names, not of expressions.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names of a PromQL expression (Grafana variables such as `$__rate_interval` allowed):
/// its identifiers outside strings, label matchers `{...}`, ranges `[...]` and label lists
/// (`by (...)`), that are not keywords and not followed by `(` (functions and aggregations).
pub fn metric_names(expr: &str) -> Vec<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    let skip_to = |from: usize, close: char| {
        let mut j = from + 1;
        let mut quote: Option<char> = None;
        while j < chars.len() {
            match (quote, chars[j]) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), '\\') => j += 1,
                (None, '"' | '\'' | '`') => quote = Some(chars[j]),
                (None, c) if c == close => return j + 1,
                _ => {}
            }
            j += 1;
        }
        chars.len()
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_to(i, c),
            '{' => i = skip_to(i, '}'),
            '[' => i = skip_to(i, ']'),
            '$' => {
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_to(i, '}');
                } else {
                    while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let rest: String = chars[next..].iter().take(8).collect();
                // `sum by (x) (...)`: an aggregation with its grouping before the argument.
                let grouped = ["by", "without"].iter().any(|k| {
                    rest.strip_prefix(k)
                        .is_some_and(|r| r.starts_with([' ', '(']))
                });
                let called = chars.get(next) == Some(&'(') || grouped;
                if LABEL_LISTS.contains(&word.as_str()) && called {
                    i = skip_to(next, ')');
                } else if !called
                    && !KEYWORDS.contains(&word.as_str())
                    && !LABEL_LISTS.contains(&word.as_str())
                {
                    names.push(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

#[test]
fn metric_names_are_read_from_expressions() {
    assert_eq!(
        metric_names(r#"sum by (pod) (increase(a_total{x="b_c"}[5m])) > 5"#),
        ["a_total"]
    );
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.9, sum by (le, rule_id) (rate(x_seconds_bucket{env=~"$environment"}[$__rate_interval]))) / on (pod) group_left (node) up offset 5m"#
        ),
        ["x_seconds_bucket", "up"]
    );
    assert_eq!(
        metric_names("sum(x) without (a_b) / ignoring(c_d) y and z_total"),
        ["x", "y", "z_total"]
    );
}
