//! Who asked: the subject authenticated for the request being served — a bearer token's subject,
//! else the subject of the TLS client certificate — kept beside the request while it is served,
//! so that its decision and rejected-attempt records name the requester (PCI DSS 10.2.2) and not
//! the gateway process's own user.

use tollgate_pipeline::Actor;

/// `actor_source` of an actor named by a bearer token.
pub const TOKEN: &str = "token";
/// `actor_source` of an actor named by a verified TLS client certificate.
pub const TLS_CLIENT_CERTIFICATE: &str = "tls_client_certificate";
/// `actor_source` of a request nobody authenticated (no `--authentication`, no mutual TLS).
pub const UNAUTHENTICATED: &str = "unauthenticated";
/// The actor of a request nobody authenticated.
pub const ANONYMOUS: &str = "anonymous";

/// The verified subject of a connection's TLS client certificate (set by [`crate::tls`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate(pub String);

tokio::task_local! {
    static REQUESTER: Actor;
}

/// The requester: the token's subject when a token was checked, else the client certificate's.
pub(crate) fn of(token_subject: Option<String>, certificate: Option<&ClientCertificate>) -> Actor {
    match (token_subject, certificate) {
        (Some(subject), _) => Actor::new(subject, TOKEN),
        (None, Some(ClientCertificate(subject))) => Actor::new(subject, TLS_CLIENT_CERTIFICATE),
        (None, None) => Actor::new(ANONYMOUS, UNAUTHENTICATED),
    }
}

/// Serves `work` (the rest of a request) with `actor` as its requester.
pub(crate) async fn serving<F: Future>(actor: Actor, work: F) -> F::Output {
    REQUESTER.scope(actor, work).await
}

/// The requester of the request being served on this task, if any (read it before moving work
/// to the blocking pool).
pub(crate) fn current() -> Option<Actor> {
    REQUESTER.try_with(Clone::clone).ok()
}
