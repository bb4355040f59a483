//! The layer under the HTTP metrics: checks the bearer token of every request for its route's
//! role and names the requester (the token's subject, else the client certificate's) for the
//! records of its decision. A refusal is answered at once: 401 or 403, or 429 with `Retry-After`
//! once its source has spent its budget of refusals ([`crate::access`]); it is counted exactly,
//! and aggregated for the access log (subject, path, source address; never the token).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tollgate_manifest::Timestamp;
use tollgate_pipeline::Actor;

use crate::access::{Refused, Source};
use crate::auth::{Check, Role, Tokens, role_of};
use crate::error::ApiError;
use crate::gateway::Gateway;
use crate::handler_names::{handler_of, is_opa};
use crate::metrics::RefusalLabels;
use crate::requester::{self, ClientCertificate};

/// The reason of a refusal past the source's budget.
const OVER_BUDGET: &str = "too many refused requests from this source";

/// Serves `request` on behalf of its requester, or answers its refusal.
pub(crate) async fn authorise(
    State(gateway): State<Arc<Gateway>>,
    request: Request,
    next: Next,
) -> Response {
    let certificate = request.extensions().get::<ClientCertificate>();
    let handler = handler_of(request.uri().path());
    // Without tokens, or on a route that needs no role, nothing is checked or copied.
    let (Some(tokens), Some(role)) = (gateway.tokens(), role_of(handler)) else {
        let actor = requester::of(None, certificate);
        return requester::serving(actor, next.run(request)).await;
    };
    let asked = Asked {
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        peer: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0),
        certificate: certificate.cloned(),
    };
    match authorised(&gateway, &tokens, role, handler, asked) {
        Authorised::Asked(actor) => requester::serving(actor, next.run(request)).await,
        Authorised::Refused(refused) => refused,
    }
}

/// What authorisation needs of a request.
struct Asked {
    authorization: Option<String>,
    method: String,
    path: String,
    peer: Option<SocketAddr>,
    certificate: Option<ClientCertificate>,
}

/// What authorisation made of a request.
enum Authorised {
    /// Served, on behalf of this requester.
    Asked(Actor),
    /// Refused with this answer.
    Refused(Response),
}

/// The requester of an authorised request, or the answer to a refused one (counted, and noted for
/// the access log).
fn authorised(
    gateway: &Gateway,
    tokens: &Tokens,
    role: Role,
    handler: &'static str,
    asked: Asked,
) -> Authorised {
    let certificate = asked.certificate.as_ref();
    let (status, subject, reason) = match tokens.check(asked.authorization.as_deref(), role) {
        Check::Allowed(subject) => {
            return Authorised::Asked(requester::of(Some(subject), certificate));
        }
        Check::Unauthenticated(reason) => (StatusCode::UNAUTHORIZED, None, reason.to_owned()),
        Check::Forbidden { subject, role } => (
            StatusCode::FORBIDDEN,
            Some(subject),
            format!("the role `{}` is missing", role.as_str()),
        ),
    };
    let (source, budget) = gateway
        .refusals
        .charge(Source::of(asked.peer), Instant::now());
    let (status, reason) = match budget {
        Ok(()) => (status, reason),
        Err(_) => (StatusCode::TOO_MANY_REQUESTS, OVER_BUDGET.to_owned()),
    };
    gateway
        .metrics()
        .unauthorized
        .get_or_create(&RefusalLabels {
            code: status.as_u16(),
        })
        .inc();
    if gateway.access_log.is_some() {
        gateway.refusals.note(
            &Refused {
                source,
                status: status.as_u16(),
                reason: &reason,
                subject: subject.as_deref(),
                method: &asked.method,
                path: &asked.path,
            },
            Timestamp::now(),
        );
    }
    let retry_after = budget
        .err()
        .map(|wait| (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1));
    let (kind, message) = match (status, retry_after) {
        (StatusCode::UNAUTHORIZED, _) => (
            "unauthorized",
            format!("{reason}: send `Authorization: Bearer <token>`"),
        ),
        (_, Some(seconds)) => (
            "too_many_requests",
            format!("{reason}: retry after {seconds} s"),
        ),
        _ => ("unauthorized", reason),
    };
    let error = ApiError::new(status, kind, message);
    let mut response = if is_opa(handler) {
        error.into_opa_response(false)
    } else {
        error.into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Authorised::Refused(response)
}
