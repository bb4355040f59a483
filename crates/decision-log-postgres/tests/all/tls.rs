//! libpq's `sslmode` semantics against a server with Debian's self-signed certificate (the
//! machine's, or a private one with the same certificate): what each mode accepts, refuses, and
//! whether the connection it makes is encrypted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use crate::common::mark;
use std::sync::Arc;

use tollgate_decision_log::AuditLog;
use tollgate_decision_log_postgres::PostgresLog;
use tollgate_test_support::postgres::{Database, SNAKEOIL_CERT, Server};

/// A server offering TLS with the snakeoil certificate: the machine's, else a private one.
fn tls_server() -> Server {
    let server = Server::shared_or_private();
    assert!(
        server.offers_snakeoil_tls(),
        "the server must offer TLS with {SNAKEOIL_CERT}: run `bash tests/setup`"
    );
    server
}

/// A root file that does not sign the server's certificate: a CA of the system's store.
fn other_root() -> &'static str {
    "/etc/ssl/certs/ca-certificates.crt"
}

/// Appends one record through `url`; the error text when it fails.
fn append(url: &str) -> Result<(), String> {
    let log = AuditLog::from_store(Arc::new(PostgresLog::open(url).map_err(|e| e.to_string())?));
    log.append(&mark("x"))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Whether the log's connections to `database` use TLS (they stay open in its pool).
fn encrypted(database: &Database<'_>) -> bool {
    let answer = database.sql(&format!(
        "SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'tollgate' AND a.datname = '{}'",
        database.name()
    ));
    match answer.as_str() {
        "t" => true,
        "f" => false,
        other => panic!("no connection of the log found: `{other}`"),
    }
}

/// Appends through `url` with a log kept open, and says whether its connection is encrypted.
fn connects(database: &Database<'_>, url: &str) -> Result<bool, String> {
    let log = AuditLog::from_store(Arc::new(PostgresLog::open(url).map_err(|e| e.to_string())?));
    log.append(&mark("x")).map_err(|e| e.to_string())?;
    Ok(encrypted(database))
}

#[test]
fn each_sslmode_connects_as_libpq_would_to_a_self_signed_server() {
    let server = tls_server();
    // No root file anywhere: `sslrootcert` names one that does not exist.
    let none = "sslrootcert=/nonexistent/root.crt";
    let cases = [
        ("127.0.0.1", format!("sslmode=disable&{none}"), false),
        ("127.0.0.1", format!("sslmode=allow&{none}"), false),
        ("127.0.0.1", format!("sslmode=prefer&{none}"), true),
        ("127.0.0.1", none.to_owned(), true),
        // Encrypted without verification: the self-signed certificate is accepted.
        ("127.0.0.1", format!("sslmode=require&{none}"), true),
        // Verified against the certificate itself: the chain, not the name.
        (
            "127.0.0.1",
            format!("sslmode=verify-ca&sslrootcert={SNAKEOIL_CERT}"),
            true,
        ),
        // The name the certificate holds.
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={SNAKEOIL_CERT}"),
            true,
        ),
        // A root file that exists makes `require` verify the chain, and it does verify.
        (
            "127.0.0.1",
            format!("sslmode=require&sslrootcert={SNAKEOIL_CERT}"),
            true,
        ),
        // A root file that does not verify the server: `prefer` falls back to plain.
        (
            "127.0.0.1",
            format!("sslmode=prefer&sslrootcert={}", other_root()),
            false,
        ),
    ];
    for (host, query, tls) in cases {
        let database = Database::create(&server);
        let url = database.url_to(host, &query);
        assert_eq!(connects(&database, &url), Ok(tls), "{url}");
    }
}

#[test]
fn verification_failures_refuse_the_connection_and_say_why() {
    let server = tls_server();
    let database = Database::create(&server);
    let refused = [
        // The certificate names `localhost`, not the address.
        (
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={SNAKEOIL_CERT}"),
            "not valid for name \"127.0.0.1\"",
        ),
        // Not signed by any of these roots.
        (
            "localhost",
            format!("sslmode=verify-ca&sslrootcert={}", other_root()),
            "UnknownIssuer",
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={}", other_root()),
            "UnknownIssuer",
        ),
        // `require` verifies the chain when it is given a root file, as libpq does.
        (
            "localhost",
            format!("sslmode=require&sslrootcert={}", other_root()),
            "UnknownIssuer",
        ),
        (
            "localhost",
            "sslmode=verify-full&sslrootcert=system".to_owned(),
            "UnknownIssuer",
        ),
    ];
    for (host, query, reason) in refused {
        let url = database.url_to(host, &query);
        let error = append(&url).unwrap_err();
        assert!(
            error.contains(reason) && error.contains("sslmode="),
            "{url}: {error}"
        );
    }
}

#[test]
fn settings_libpq_refuses_are_refused_when_the_log_is_opened() {
    let server = tls_server();
    let database = Database::create(&server);
    let open_error = |query: &str| {
        PostgresLog::open(&database.url_to("localhost", query))
            .unwrap_err()
            .to_string()
    };
    let error = open_error("sslmode=verify-fulll");
    assert!(
        error.contains("invalid sslmode value `verify-fulll`"),
        "{error}"
    );
    let error = open_error("sslmode=verify-ca&sslrootcert=/nonexistent/root.crt");
    assert!(
        error.contains("/nonexistent/root.crt") && error.contains("does not exist"),
        "{error}"
    );
    let error = open_error("sslmode=require&sslrootcert=system");
    assert!(error.contains("weak sslmode `require`"), "{error}");
    let error = open_error("sslrootcert=/etc/hostname");
    assert!(
        error.contains("/etc/hostname") && error.contains("no certificate"),
        "{error}"
    );
}

#[test]
fn allow_tries_plain_then_tls_when_the_server_refuses_plain() {
    let Some(server) = Server::private_tls_only() else {
        panic!("{SNAKEOIL_CERT} and its key are needed: run `bash tests/setup` as root");
    };
    let database = Database::create(&server);
    let none = "sslrootcert=/nonexistent/root.crt";
    assert_eq!(
        connects(
            &database,
            &database.url_to("127.0.0.1", &format!("sslmode=allow&{none}"))
        ),
        Ok(true)
    );
    let error =
        append(&database.url_to("127.0.0.1", &format!("sslmode=disable&{none}"))).unwrap_err();
    assert!(error.contains("no encryption"), "{error}");
}
