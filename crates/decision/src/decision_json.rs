//! A hand-written JSON encoder of [`Decision`] and [`EvalError`]: the same bytes as
//! `serde_json::to_string` (field order, skipped fields, enum names, string escaping and float
//! formatting), without linking serde_json, so that a policy module can answer in JSON cheaply.

use std::fmt::Write as _;

use crate::{
    ControlResult, Decision, DiscountedApproval, EvalError, Finding, Obligation,
    RegulatoryReference, RequiredApproval, RiskAssessment, RiskFactor, Routing,
};

impl Decision {
    /// The decision as compact JSON text: exactly what `serde_json::to_string` writes.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut w = Object::open(&mut out);
        w.string("policy_id", &self.policy_id);
        w.string("framework", &self.framework);
        w.raw("applicable", bool_text(self.applicable));
        w.string("outcome", self.outcome.as_str());
        if let Some(risk) = &self.risk {
            w.key("risk");
            risk_json(w.out, risk);
        }
        if let Some(routing) = &self.routing {
            w.key("routing");
            routing_json(w.out, routing);
        }
        w.list("findings", &self.findings, finding_json);
        w.list("controls", &self.controls, control_json);
        w.list("obligations", &self.obligations, obligation_json);
        w.string("summary", &self.summary);
        w.close();
        out
    }
}

impl EvalError {
    /// The error as compact JSON text, `{"kind":"…","message":"…"}`: exactly what
    /// `serde_json::to_string` writes.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(32 + self.message().len());
        let mut w = Object::open(&mut out);
        w.string("kind", self.kind());
        w.string("message", self.message());
        w.close();
        out
    }
}

/// Appends `text` as a JSON string literal, escaped as serde_json escapes it: `"` and `\`, the
/// control characters as `\b` `\t` `\n` `\f` `\r` or `\u00XX`, everything else as is.
pub fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\t' => "\\t",
            b'\r' => "\\r",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..at]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
        start = at + 1;
    }
    out.push_str(&text[start..]);
    out.push('"');
}

/// Appends a float as serde_json writes it: with the `zmij` crate serde_json itself uses (`1.0`,
/// `0.05`, `1e+16`, `1.5e-7`), `null` when it is not finite.
pub fn write_json_f64(out: &mut String, value: f64) {
    if value.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(value));
    } else {
        out.push_str("null");
    }
}

fn bool_text(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// Writes the members of one JSON object.
struct Object<'o> {
    out: &'o mut String,
    first: bool,
}

impl<'o> Object<'o> {
    fn open(out: &'o mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn raw(&mut self, key: &str, text: &str) {
        self.key(key);
        self.out.push_str(text);
    }

    fn string(&mut self, key: &str, text: &str) {
        self.key(key);
        write_json_string(self.out, text);
    }

    fn optional_string(&mut self, key: &str, text: Option<&str>) {
        match text {
            Some(text) => self.string(key, text),
            None => self.raw(key, "null"),
        }
    }

    fn number(&mut self, key: &str, value: f64) {
        self.key(key);
        write_json_f64(self.out, value);
    }

    fn list<T>(&mut self, key: &str, items: &[T], item: fn(&mut String, &T)) {
        self.key(key);
        list_json(self.out, items, item);
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn list_json<T>(out: &mut String, items: &[T], item: fn(&mut String, &T)) {
    out.push('[');
    for (index, value) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        item(out, value);
    }
    out.push(']');
}

fn reference_json(out: &mut String, reference: &RegulatoryReference) {
    let mut w = Object::open(out);
    w.string("source", &reference.source);
    w.string("section", &reference.section);
    w.close();
}

fn risk_json(out: &mut String, risk: &RiskAssessment) {
    let mut w = Object::open(out);
    w.number("score", risk.score);
    w.string("class", risk.class.as_str());
    w.string("score_class", risk.score_class.as_str());
    w.optional_string("category_class", risk.category_class.map(|c| c.as_str()));
    w.list("factors", &risk.factors, factor_json);
    w.close();
}

fn factor_json(out: &mut String, factor: &RiskFactor) {
    let mut w = Object::open(out);
    w.string("id", &factor.id);
    w.string("description", &factor.description);
    w.number("points", factor.points);
    w.close();
}

fn routing_json(out: &mut String, routing: &Routing) {
    let mut w = Object::open(out);
    w.string("route", &routing.route);
    w.string("rationale", &routing.rationale);
    w.list("required", &routing.required, required_json);
    w.list("discounted", &routing.discounted, discounted_json);
    w.list(
        "automated_checks",
        &routing.automated_checks,
        |out, check| {
            let mut w = Object::open(out);
            w.string("id", &check.id);
            w.raw("passed", bool_text(check.passed));
            w.close();
        },
    );
    w.close();
}

fn required_json(out: &mut String, required: &RequiredApproval) {
    let mut w = Object::open(out);
    w.string("role", &required.role);
    w.optional_string("satisfied_by", required.satisfied_by.as_deref());
    w.close();
}

fn discounted_json(out: &mut String, discounted: &DiscountedApproval) {
    let mut w = Object::open(out);
    w.string("by", &discounted.by);
    w.string("role", &discounted.role);
    w.string("reason", &discounted.reason);
    w.close();
}

fn finding_json(out: &mut String, finding: &Finding) {
    let mut w = Object::open(out);
    w.string("rule_id", &finding.rule_id);
    w.string("control_id", &finding.control_id);
    w.list("references", &finding.references, reference_json);
    w.string("severity", finding.severity.as_str());
    w.string("message", &finding.message);
    w.string("remediation", &finding.remediation);
    w.string("field_path", &finding.field_path);
    w.close();
}

fn control_json(out: &mut String, control: &ControlResult) {
    let mut w = Object::open(out);
    w.string("control_id", &control.control_id);
    w.string("status", control.status.as_str());
    w.list("evidence", &control.evidence, |out, text| {
        write_json_string(out, text)
    });
    w.close();
}

fn obligation_json(out: &mut String, obligation: &Obligation) {
    let mut w = Object::open(out);
    w.string("id", &obligation.id);
    w.string("control_id", &obligation.control_id);
    w.string("description", &obligation.description);
    w.key("due_within_days");
    match obligation.due_within_days {
        Some(days) => {
            let _ = write!(w.out, "{days}");
        }
        None => w.out.push_str("null"),
    }
    w.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(value: f64) -> String {
        let mut out = String::new();
        write_json_f64(&mut out, value);
        out
    }

    #[test]
    fn floats_are_written_as_serde_json_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.05,
            0.1,
            0.3,
            1.5,
            12.0,
            123.456,
            1e15,
            1e16,
            1e17,
            1.2345e16,
            9_007_199_254_740_993.0,
            1e-4,
            1e-5,
            1e-6,
            1.5e-7,
            0.000_123_4,
            1e300,
            -1e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            2.0 / 3.0,
            100.0,
            1234567890123456.0,
            12345678901234567.0,
        ];
        let mut x = 1.0_f64;
        for _ in 0..700 {
            x *= 3.7;
            values.push(x);
            values.push(1.0 / x);
            values.push(-x / 7.0);
        }
        for value in values {
            assert_eq!(
                float(value),
                serde_json::to_string(&value).unwrap(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut all = String::new();
        for c in (0u32..0x80).filter_map(char::from_u32) {
            all.push(c);
        }
        all.push_str("é ☃ 😀 \u{2028} \u{2029} \u{7f} \u{ffff}");
        for text in [
            all.as_str(),
            "",
            "\"",
            "\\",
            "a\"b\\c\n\r\t\u{8}\u{c}\u{0}\u{1f}",
        ] {
            let mut out = String::new();
            write_json_string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap());
        }
    }

    #[test]
    fn eval_errors_are_written_as_serde_json_writes_them() {
        for error in [
            EvalError::InvalidSettings("x \"y\"\n".into()),
            EvalError::InvalidManifest(String::new()),
            EvalError::Internal("😀\u{1}".into()),
        ] {
            assert_eq!(error.to_json(), serde_json::to_string(&error).unwrap());
        }
    }
}
