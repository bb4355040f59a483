//! OPA's REST Data API over the gate (`/v1/data/{path}`, `/v0/data/{path}`, `POST /`), so OPA
//! clients work unchanged.
//!
//! The documents are views of the one [`tollgate_pipeline::Report`] of a decision:
//! - `data.tollgate.decision`: the whole gate (strictest outcome over every pack), the JSON report
//!   of `tollgate eval --format json`;
//! - `data.tollgate.<policy>.decision`: that policy's entry of the report (`outcome` after
//!   waivers, `decision`); `.allow`: `true` only when that outcome is `approved`; `.deny`: the
//!   messages of its denying findings (high or critical, not waived).
//!
//! Every document depends on `input` (the change manifest): without input a rule is undefined
//! and a package an empty object, as in OPA. A path no rule defines answers `{}` without
//! evaluating anything. Evaluating records the decision first; its record id is `decision_id`.
//! A failing policy fails the whole request (500 `evaluation_error`): a failure is never a value
//! anyone could read as an approval.

mod envelope;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};
use tollgate_manifest::{Format, Timestamp};
use tollgate_pipeline::{Decided, InputError, InputSource, Submission, Timings};

use crate::admission::{Received, admit, read_body, refuse};
use crate::deadline::within_deadline;
use crate::deciding::decide;
use crate::error::{ApiError, json_bytes_response, json_text_response};
use crate::gateway::{Gateway, PolicySet};
use crate::policy_api::POLICY_RULES;

/// The manifest path recorded for an input received over OPA's API.
const INPUT_PATH: &str = "<input>";

/// OPA's query parameters of the Data API.
#[derive(Debug)]
struct DataQuery {
    pretty: bool,
    metrics: bool,
    input: Option<String>,
    /// When the request started being answered.
    start: Instant,
}

fn flag(value: &str) -> bool {
    !value.eq_ignore_ascii_case("false")
}

fn data_query(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> DataQuery {
    let mut parsed = DataQuery {
        pretty: false,
        metrics: false,
        input: None,
        start: Instant::now(),
    };
    if let Ok(Query(pairs)) = query {
        for (key, value) in pairs {
            match key.as_str() {
                "pretty" => parsed.pretty = flag(&value),
                "metrics" => parsed.metrics = flag(&value),
                "input" => parsed.input = Some(value),
                _ => {}
            }
        }
    }
    parsed
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `GET /v1/data`.
pub(crate) async fn data_get_root(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    get_data(gateway, Vec::new(), data_query(query)).await
}

/// `GET /v1/data/{path}`.
pub(crate) async fn data_get(
    State(gateway): State<Arc<Gateway>>,
    Path(path): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    get_data(gateway, segments(&path), data_query(query)).await
}

/// `POST /v1/data`.
pub(crate) async fn data_post_root(
    State(gateway): State<Arc<Gateway>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    post_data(gateway, Vec::new(), data_query(query), headers, body).await
}

/// `POST /v1/data/{path}`.
pub(crate) async fn data_post(
    State(gateway): State<Arc<Gateway>>,
    Path(path): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    post_data(gateway, segments(&path), data_query(query), headers, body).await
}

/// `POST /v0/data/{path}`: the body is the input, the answer the bare document; undefined is 404
/// `undefined_document`.
pub(crate) async fn v0_data_post(
    State(gateway): State<Arc<Gateway>>,
    Path(path): Path<String>,
    body: Body,
) -> Response {
    bare(gateway, segments(&path), body).await
}

/// `POST /`: the default decision, `data.tollgate.decision`, of the input in the body.
pub(crate) async fn default_decision(State(gateway): State<Arc<Gateway>>, body: Body) -> Response {
    bare(gateway, vec!["tollgate".into(), "decision".into()], body).await
}

async fn get_data(gateway: Arc<Gateway>, path: Vec<String>, query: DataQuery) -> Response {
    let text = query.input.clone();
    let deadline = Arc::clone(&gateway);
    let work =
        async move { evaluate_path(gateway, &path, text.as_deref().map(str::as_bytes)).await };
    answer_data(within_deadline(&deadline, work).await, query, None)
}

async fn post_data(
    gateway: Arc<Gateway>,
    path: Vec<String>,
    query: DataQuery,
    _headers: HeaderMap,
    body: Body,
) -> Response {
    let pretty = query.pretty;
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_opa_response(pretty),
    };
    let deadline = Arc::clone(&gateway);
    let work = async move {
        let (input, warning) = match envelope_input(&gateway, &bytes).await? {
            Envelope::Empty => (None, None),
            Envelope::NoInput => (None, Some(missing_input_warning())),
            Envelope::Input(input) => (Some(input), None),
        };
        Ok((evaluate_path(gateway, &path, input).await?, warning))
    };
    match within_deadline(&deadline, work).await {
        Ok((evaluated, warning)) => answer_data(Ok(evaluated), query, warning),
        Err(error) => error.into_opa_response(pretty),
    }
}

async fn bare(gateway: Arc<Gateway>, path: Vec<String>, body: Body) -> Response {
    let bytes = match read_body(body).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_opa_response(false),
    };
    let deadline = Arc::clone(&gateway);
    let asked = path.clone();
    let work = async move {
        let input = (!bytes.iter().all(u8::is_ascii_whitespace)).then_some(&bytes[..]);
        evaluate_path(gateway, &asked, input).await
    };
    match within_deadline(&deadline, work).await {
        Ok(Evaluated {
            result: Some(result),
            ..
        }) => {
            let mut body = Vec::new();
            match result.write_compact(&mut body) {
                Ok(()) => {
                    body.push(b'\n');
                    json_bytes_response(StatusCode::OK, body)
                }
                Err(error) => error.into_opa_response(false),
            }
        }
        Ok(Evaluated { result: None, .. }) => ApiError::new(
            StatusCode::NOT_FOUND,
            "undefined_document",
            format!("document missing: data/{}", path.join("/")),
        )
        .into_opa_response(false),
        Err(error) => error.into_opa_response(false),
    }
}

/// What the body of a Data API request holds.
enum Envelope<'a> {
    /// Nothing but whitespace: the documents without input.
    Empty,
    /// An object without `input`: the documents without input, with OPA's warning.
    NoInput,
    /// The exact bytes of the `input` member's value.
    Input(&'a [u8]),
}

/// Reads the `{"input": ...}` envelope of a Data API body without decoding the input: a body that
/// is not UTF-8 JSON text of an object, or that repeats a key, is refused and put on record.
async fn envelope_input<'a>(
    gateway: &Arc<Gateway>,
    bytes: &'a [u8],
) -> Result<Envelope<'a>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Envelope::Empty);
    }
    let refused = |message: String| InputError::new(InputSource::Manifest, message);
    let Ok(text) = std::str::from_utf8(bytes) else {
        let error = refused("the request body is not UTF-8 text".to_owned());
        return Err(refuse(gateway, error, INPUT_PATH, None, Timestamp::now()).await);
    };
    match envelope::input_member(text) {
        Ok(Some(range)) => Ok(Envelope::Input(&bytes[range])),
        Ok(None) => Ok(Envelope::NoInput),
        Err(message) => {
            let error = refused(format!("body contains malformed input: {message}"));
            Err(refuse(
                gateway,
                error,
                INPUT_PATH,
                Some(text.to_owned()),
                Timestamp::now(),
            )
            .await)
        }
    }
}

fn missing_input_warning() -> Value {
    json!({
        "code": "api_usage_warning",
        "message": "'input' key missing from the request",
    })
}

/// The document at `path` for `input` (the exact bytes of the manifest received), admitted only
/// when a decision could define the document.
async fn evaluate_path(
    gateway: Arc<Gateway>,
    path: &[String],
    input: Option<&[u8]>,
) -> Result<Evaluated, ApiError> {
    let set = gateway.current();
    let Some(input) = input else {
        return Ok(Evaluated {
            result: walk(skeleton(&set), path)
                .filter(Value::is_object)
                .map(Document::Value),
            decision_id: None,
            timings: None,
        });
    };
    if !may_be_defined(path, &set) {
        return Ok(Evaluated {
            result: None,
            decision_id: None,
            timings: None,
        });
    }
    let input = admit_input(&gateway, input).await?;
    let decided = decide(&gateway, input.submission).await?;
    Ok(Evaluated {
        result: document(&decided, path)?,
        decision_id: decided.record_id().map(str::to_owned),
        timings: Some((input.parse, decided.timings())),
    })
}

/// What a data query evaluated to.
struct Evaluated {
    /// The document at the path, `None` when undefined.
    result: Option<Document>,
    /// The decision's record id, when a decision was made and recorded.
    decision_id: Option<String>,
    /// How long admission, evaluation and the record took, when a decision was made.
    timings: Option<(std::time::Duration, Timings)>,
}

impl Evaluated {
    /// OPA's `metrics` of the answer (`?metrics`), the handler's time until now included.
    fn metrics(&self, start: Instant) -> Value {
        let mut metrics = Map::new();
        if let Some((parse, timings)) = self.timings {
            metrics.insert("timer_rego_input_parse_ns".to_owned(), json!(nanos(parse)));
            metrics.insert(
                "timer_rego_query_eval_ns".to_owned(),
                json!(nanos(timings.evaluation)),
            );
            metrics.insert(
                "timer_tollgate_audit_append_ns".to_owned(),
                json!(nanos(timings.record)),
            );
        }
        metrics.insert(
            "timer_server_handler_ns".to_owned(),
            json!(nanos(start.elapsed())),
        );
        Value::Object(metrics)
    }
}

/// Whether a decision could define the document at `path` (else it is undefined whatever the
/// input, and nothing is evaluated).
fn may_be_defined(path: &[String], set: &PolicySet) -> bool {
    match path {
        [] => true,
        [root, rest @ ..] if root == "tollgate" => match rest {
            [] => true,
            [rule, ..] if rule == "decision" => true,
            [policy] => set.ids.contains(policy),
            [policy, rule, ..] => set.ids.contains(policy) && POLICY_RULES.contains(&rule.as_str()),
        },
        _ => false,
    }
}

/// The documents when `input` is undefined: every rule undefined, every package an empty object.
fn skeleton(set: &PolicySet) -> Value {
    let packages: Map<String, Value> = set.ids.iter().map(|id| (id.clone(), json!({}))).collect();
    json!({ "tollgate": packages })
}

fn walk(mut document: Value, path: &[String]) -> Option<Value> {
    for segment in path {
        document = match document {
            Value::Object(mut object) => object.remove(segment)?,
            Value::Array(mut array) => {
                let index: usize = segment.parse().ok()?;
                if index >= array.len() {
                    return None;
                }
                array.swap_remove(index)
            }
            _ => return None,
        };
    }
    Some(document)
}

/// Admits the input (a change manifest, JSON) through the one admission of every route.
async fn admit_input(gateway: &Arc<Gateway>, bytes: &[u8]) -> Result<Admitted, ApiError> {
    let start = Instant::now();
    let received = Received {
        path: INPUT_PATH,
        subject: "input",
        bytes,
        format: Some(Format::Json),
        now: Timestamp::now(),
    };
    let submission = admit(gateway, received).await?;
    Ok(Admitted {
        submission,
        parse: start.elapsed(),
    })
}

/// An admitted input and the time its admission took.
struct Admitted {
    submission: Submission,
    parse: std::time::Duration,
}

/// A document a query evaluated to.
enum Document {
    /// A value built for the query.
    Value(Value),
    /// `data.tollgate.decision`, the most asked document: the JSON report rendered once, as
    /// compact JSON text, and written into the answer as it is.
    Report(String),
}

impl Document {
    /// Appends the document's compact JSON text to `out`.
    fn write_compact(&self, out: &mut Vec<u8>) -> Result<(), ApiError> {
        match self {
            Self::Value(value) => serde_json::to_writer(out, value).map_err(internal),
            Self::Report(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(())
            }
        }
    }

    /// The document as a value (to be pretty-printed).
    fn into_value(self) -> Result<Value, ApiError> {
        match self {
            Self::Value(value) => Ok(value),
            Self::Report(text) => serde_json::from_str(&text).map_err(internal),
        }
    }
}

/// A 500 `internal` for a failure to write or read back JSON.
fn internal(error: serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        error.to_string(),
    )
}

/// The document at `path` that a decision defines (see the module documentation); the JSON
/// report is rendered once, and decoded only for the documents built from its parts.
fn document(decided: &Decided, path: &[String]) -> Result<Option<Document>, ApiError> {
    let report = decided.report();
    let text = tollgate_report_formats::json_compact(&report.view()).map_err(internal)?;
    if report.failures.is_empty()
        && let [root, rule] = path
        && root == "tollgate"
        && rule == "decision"
    {
        return Ok(Some(Document::Report(text)));
    }
    let whole: Value = serde_json::from_str(&text).map_err(internal)?;
    Ok(walk(documents(decided, whole)?, path).map(Document::Value))
}

/// The documents under `data` that a decision defines, from its JSON report `whole`.
fn documents(decided: &Decided, whole: Value) -> Result<Value, ApiError> {
    let report = decided.report();
    if !report.failures.is_empty() {
        let mut error = ApiError::policy_failure(&report.failures, whole);
        if let (Value::Object(extra), Some(id)) = (&mut error.extra, decided.record_id()) {
            extra.insert("decision_id".to_owned(), Value::String(id.to_owned()));
        }
        return Err(error);
    }
    let mut packages = Map::new();
    let entries = whole["policies"].as_array().cloned().unwrap_or_default();
    for (index, entry) in entries.into_iter().enumerate() {
        let Some(id) = entry["id"].as_str().map(str::to_owned) else {
            continue;
        };
        let allow = entry["outcome"] == "approved";
        let deny: Vec<Value> = report
            .combined
            .decisions
            .get(index)
            .map(|decision| {
                decision
                    .findings
                    .iter()
                    .enumerate()
                    .filter(|(i, finding)| {
                        finding.severity.denies()
                            && !report
                                .waivers
                                .waived
                                .iter()
                                .any(|w| w.policy_id == id && w.finding_index == *i)
                    })
                    .map(|(_, finding)| Value::String(finding.message.clone()))
                    .collect()
            })
            .unwrap_or_default();
        // Built by moving the parts in: `json!` would copy each value it is given.
        let mut package = Map::new();
        package.insert("decision".to_owned(), entry);
        package.insert("allow".to_owned(), Value::Bool(allow));
        package.insert("deny".to_owned(), Value::Array(deny));
        packages.insert(id, Value::Object(package));
    }
    packages.insert("decision".to_owned(), whole);
    let mut data = Map::new();
    data.insert("tollgate".to_owned(), Value::Object(packages));
    Ok(Value::Object(data))
}

fn answer_data(
    evaluated: Result<Evaluated, ApiError>,
    query: DataQuery,
    warning: Option<Value>,
) -> Response {
    let pretty = query.pretty;
    let answered = evaluated.and_then(|evaluated| {
        let metrics = query.metrics.then(|| evaluated.metrics(query.start));
        if pretty {
            answer_value(evaluated, warning, metrics)
        } else {
            answer_compact(evaluated, warning, metrics)
        }
    });
    answered.unwrap_or_else(|error| error.into_opa_response(pretty))
}

/// The answer written compact, each part once, its members in the order `Value` keeps them:
/// `{"decision_id", "metrics", "result", "warning"}`.
fn answer_compact(
    evaluated: Evaluated,
    warning: Option<Value>,
    metrics: Option<Value>,
) -> Result<Response, ApiError> {
    let mut body = Vec::new();
    body.push(b'{');
    let member = |name: &str, body: &mut Vec<u8>| {
        if body.len() > 1 {
            body.push(b',');
        }
        body.push(b'"');
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\":");
    };
    if let Some(id) = &evaluated.decision_id {
        member("decision_id", &mut body);
        serde_json::to_writer(&mut body, id).map_err(internal)?;
    }
    if let Some(metrics) = &metrics {
        member("metrics", &mut body);
        serde_json::to_writer(&mut body, metrics).map_err(internal)?;
    }
    if let Some(result) = &evaluated.result {
        member("result", &mut body);
        result.write_compact(&mut body)?;
    }
    if let Some(warning) = &warning {
        member("warning", &mut body);
        serde_json::to_writer(&mut body, warning).map_err(internal)?;
    }
    body.extend_from_slice(b"}\n");
    Ok(json_bytes_response(StatusCode::OK, body))
}

/// The answer as a value, pretty-printed (`?pretty`).
fn answer_value(
    evaluated: Evaluated,
    warning: Option<Value>,
    metrics: Option<Value>,
) -> Result<Response, ApiError> {
    let mut body = Map::new();
    if let Some(result) = evaluated.result {
        body.insert("result".to_owned(), result.into_value()?);
    }
    if let Some(id) = evaluated.decision_id {
        body.insert("decision_id".to_owned(), Value::String(id));
    }
    if let Some(warning) = warning {
        body.insert("warning".to_owned(), warning);
    }
    if let Some(metrics) = metrics {
        body.insert("metrics".to_owned(), metrics);
    }
    Ok(json_text_response(
        StatusCode::OK,
        &Value::Object(body),
        true,
    ))
}

fn nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
