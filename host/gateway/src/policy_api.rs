//! OPA's REST Policy API (`GET /v1/policies`, `GET /v1/policies/{id}`): the loaded policy set as
//! OPA lists its modules.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::error::{ApiError, json_text_response};
use crate::gateway::{Gateway, PolicySet};

/// The rules of each policy's package.
pub(crate) const POLICY_RULES: [&str; 3] = ["decision", "allow", "deny"];

fn term(kind: &str, value: &str) -> Value {
    json!({ "type": kind, "value": value })
}

/// The policies as OPA lists them: one module per package (`tollgate`, `tollgate.<policy>`),
/// with the package path and rule heads OPA clients read, and Tollgate's metadata under
/// `tollgate`. There is no Rego source: `raw` says what runs instead.
fn modules(set: &PolicySet) -> Vec<Value> {
    let rule = |name: &str| json!({ "head": { "name": name, "ref": [term("var", name)] } });
    let mut modules = vec![json!({
        "id": "tollgate",
        "raw": "package tollgate\n\n# decision: the whole gate (strictest outcome of every policy), evaluated by Tollgate's pipeline\n",
        "ast": {
            "package": { "path": [term("var", "data"), term("string", "tollgate")] },
            "rules": [rule("decision")],
        },
        "tollgate": { "policies": set.ids },
    })];
    let metadata = set.policies.as_array().cloned().unwrap_or_default();
    for (id, metadata) in set.ids.iter().zip(metadata) {
        modules.push(json!({
            "id": format!("tollgate/{id}"),
            "raw": format!(
                "package tollgate.{id}\n\n# decision, allow, deny: Tollgate policy `{id}` ({}), a WebAssembly component run by Tollgate's pipeline\n",
                metadata["digest"].as_str().unwrap_or("")
            ),
            "ast": {
                "package": {
                    "path": [term("var", "data"), term("string", "tollgate"), term("string", id)],
                },
                "rules": POLICY_RULES.iter().map(|name| rule(name)).collect::<Vec<_>>(),
            },
            "tollgate": metadata,
        }));
    }
    modules
}

/// `GET /v1/policies`.
pub(crate) async fn policies(State(gateway): State<Arc<Gateway>>) -> Response {
    let set = gateway.current();
    json_text_response(StatusCode::OK, &json!({ "result": modules(&set) }), true)
}

/// `GET /v1/policies/{id}`.
pub(crate) async fn policy(
    State(gateway): State<Arc<Gateway>>,
    Path(id): Path<String>,
) -> Response {
    let set = gateway.current();
    let id = id.trim_matches('/');
    match modules(&set).into_iter().find(|m| m["id"] == id) {
        Some(module) => json_text_response(StatusCode::OK, &json!({ "result": module }), true),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("storage_not_found_error: policy id {id:?}"),
        )
        .into_opa_response(false),
    }
}
