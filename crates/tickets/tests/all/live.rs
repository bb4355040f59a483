//! The clients against a local server answering with the documented shapes of Jira's REST API,
//! Jira Service Management's approvals and ServiceNow's Table API (fixtures under `fixtures/`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail loudly too"
)]

use std::time::Duration;

use tollgate_manifest::{SignatureMeaning, TicketStatus, Timestamp};
use tollgate_tickets::test_server::{Reply, TestServer};
use tollgate_tickets::{
    Environment, LiveTicket, System, TicketError, TicketRef, TicketsConfig, UrlOrigin, fetch,
};

const TOKEN: &str = "tok-8f3a1c9e-secret";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn config() -> TicketsConfig {
    let mut config = TicketsConfig {
        timeout_seconds: 5,
        connect_timeout_seconds: 5,
        retries: 2,
        retry_backoff_millis: 10,
        ..TicketsConfig::default()
    };
    let servicenow = &mut config.servicenow;
    servicenow.group_roles.insert(
        "Change Advisory Board".into(),
        "CHANGE_ADVISORY_BOARD".into(),
    );
    servicenow
        .approver_roles
        .insert("bob".into(), "TECHNICAL_LEAD".into());
    let jira = &mut config.jira;
    jira.approval_roles
        .insert("Change manager approval".into(), "TECHNICAL_LEAD".into());
    jira.approval_roles
        .insert("CAB approval".into(), "CHANGE_ADVISORY_BOARD".into());
    jira.reason_field = Some("customfield_10060".into());
    jira.security_impact_field = Some("customfield_10061".into());
    config
}

fn env(server: &TestServer, system: System) -> Environment {
    let url = server.url.clone();
    Environment::read(move |name| match (system, name) {
        (System::Jira, "TOLLGATE_JIRA_URL") | (System::ServiceNow, "TOLLGATE_SERVICENOW_URL") => {
            Some(url.clone())
        }
        (System::Jira, "TOLLGATE_JIRA_TOKEN")
        | (System::ServiceNow, "TOLLGATE_SERVICENOW_TOKEN") => Some(TOKEN.to_owned()),
        _ => None,
    })
}

fn reference(text: &str) -> TicketRef {
    TicketRef::parse(text).unwrap().unwrap()
}

fn servicenow(change: &str, approvers: &str) -> TestServer {
    TestServer::start(vec![
        (
            "/api/now/table/change_request",
            vec![Reply::json(fixture(&format!("servicenow/{change}.json")))],
        ),
        (
            "/api/now/table/sysapproval_approver",
            vec![Reply::json(fixture(&format!(
                "servicenow/{approvers}.json"
            )))],
        ),
    ])
    .unwrap()
}

fn jira(issue: &str, approvals: &str) -> TestServer {
    TestServer::start(vec![
        (
            "/rest/api/2/issue/",
            vec![Reply::json(fixture(&format!("jira/{issue}.json")))],
        ),
        (
            "/rest/servicedeskapi/request/",
            vec![Reply::json(fixture(&format!("jira/{approvals}.json")))],
        ),
    ])
    .unwrap()
}

fn fetch_from(
    server: &TestServer,
    text: &str,
    config: &TicketsConfig,
) -> Result<LiveTicket, TicketError> {
    let reference = reference(text);
    fetch(&reference, config, &env(server, reference.system))
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[test]
fn servicenow_approved_change_with_its_approvals_and_roles() {
    let server = servicenow("change-approved", "approvers-approved");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert_eq!(ticket.id, "CHG0030001");
    assert_eq!(ticket.status, TicketStatus::Approved);
    assert_eq!(
        ticket.title.as_deref(),
        Some("Retry payment capture on timeout")
    );
    assert_eq!(ticket.submitted_at, Some(at("2026-05-19T16:40:00Z")));
    assert!(!ticket.emergency);
    assert_eq!(
        ticket.reason.as_deref(),
        Some("failed captures during network blips")
    );
    assert!(
        ticket
            .security_impact
            .unwrap()
            .starts_with("none identified")
    );
    let approvals: Vec<(&str, &str, Timestamp)> = ticket
        .approvals
        .iter()
        .map(|a| (a.by.as_str(), a.role.as_str(), a.at))
        .collect();
    assert_eq!(
        approvals,
        [
            ("bob", "TECHNICAL_LEAD", at("2026-05-20T09:12:00Z")),
            ("erin", "CHANGE_ADVISORY_BOARD", at("2026-05-21T14:30:00Z")),
        ]
    );
    assert_eq!(
        ticket.detail,
        format!("servicenow:CHG0030001 ({})", server.url)
    );
    assert_eq!(ticket.url_origin, UrlOrigin::Environment);
    assert!(ticket.notes.is_empty(), "{:?}", ticket.notes);
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[0].target.contains("sysparm_query=number%3DCHG0030001"),
        "{seen:?}"
    );
    assert!(
        seen[0].target.contains("sysparm_display_value=false"),
        "{seen:?}"
    );
    assert!(
        seen[1].target.contains(
            "sysparm_query=sysapproval%3Dc83c5e5347c12200e0ef563dbb9a7190%5Estate%3Dapproved%5EORDERBYsys_id"
        ),
        "{seen:?}"
    );
    for request in &seen {
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {TOKEN}"))
        );
    }
}

#[test]
fn servicenow_signature_meanings_from_the_meaning_field_else_the_group() {
    let server = servicenow("change-approved", "approvers-meanings");
    let mut config = config();
    config.servicenow.meaning_field = Some("u_signature_meaning".into());
    config
        .servicenow
        .group_meanings
        .insert("Change Advisory Board".into(), SignatureMeaning::Approval);
    config
        .servicenow
        .approver_roles
        .insert("frank".into(), "QUALITY_ASSURANCE".into());
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config).unwrap();
    let meanings: Vec<(&str, Option<SignatureMeaning>)> = ticket
        .approvals
        .iter()
        .map(|a| (a.by.as_str(), a.meaning))
        .collect();
    // Bob states `Review`; Erin states nothing, so her group's meaning counts; Frank states a
    // meaning that is none of the four: noted, and no meaning (never his group's in its place).
    assert_eq!(
        meanings,
        [
            ("bob", Some(SignatureMeaning::Review)),
            ("erin", Some(SignatureMeaning::Approval)),
            ("frank", None),
        ]
    );
    assert!(
        ticket
            .notes
            .iter()
            .any(|n| n.contains("`frank`") && n.contains("`witnessed`")),
        "{:?}",
        ticket.notes
    );
    let seen = server.seen();
    assert!(seen[1].target.contains("u_signature_meaning"), "{seen:?}");
    // Without the settings no meaning is read or stated.
    let server = servicenow("change-approved", "approvers-meanings");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &self::config()).unwrap();
    assert!(ticket.approvals.iter().all(|a| a.meaning.is_none()));
    assert!(!server.seen()[1].target.contains("u_signature_meaning"));
}

#[test]
fn jira_signature_meanings_come_from_the_approval_names() {
    let server = jira("issue-approved", "approvals-approved");
    let mut config = config();
    config
        .jira
        .approval_meanings
        .insert("CAB approval".into(), SignatureMeaning::Approval);
    let ticket = fetch_from(&server, "jira:OPS-42", &config).unwrap();
    let meanings: Vec<Option<SignatureMeaning>> =
        ticket.approvals.iter().map(|a| a.meaning).collect();
    assert_eq!(meanings, [None, Some(SignatureMeaning::Approval)]);
}

#[test]
fn servicenow_pending_rejected_and_emergency_changes() {
    let server = servicenow("change-pending", "approvers-none");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Submitted);
    assert!(ticket.approvals.is_empty());

    let server = servicenow("change-rejected", "approvers-none");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Rejected);

    let server = servicenow("change-emergency", "approvers-approved");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert!(ticket.emergency);
    assert_eq!(ticket.status, TicketStatus::Approved);
}

#[test]
fn servicenow_approvals_without_a_role_are_noted_not_counted() {
    let server = servicenow("change-approved", "approvers-unmapped");
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert!(ticket.approvals.is_empty());
    assert!(
        ticket.notes[0].contains("`zed` for group `Facilities`"),
        "{:?}",
        ticket.notes
    );
    let mut config = config();
    config.servicenow.default_role = Some("TECHNICAL_LEAD".into());
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config).unwrap();
    assert_eq!(ticket.approvals[0].role, "TECHNICAL_LEAD");
}

#[test]
fn servicenow_unknown_change_is_not_found() {
    let server = servicenow("change-none", "approvers-none");
    let error = fetch_from(&server, "servicenow:CHG0099999", &config()).unwrap_err();
    assert!(
        matches!(error, TicketError::NotFound { status: None, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("ServiceNow has no ticket `CHG0099999`"),
        "{text}"
    );
    assert!(text.contains(&server.url), "{text}");
}

/// A page of `count` approved approval records from number `first`, by `approver-N`.
fn approver_page(first: usize, count: usize) -> String {
    let records: Vec<serde_json::Value> = (first..first + count)
        .map(|n| {
            serde_json::json!({
                "sys_id": format!("d9c8b7a6e5f4{n:020}"),
                "state": "approved",
                "approver.user_name": format!("approver-{n}"),
                "approver.email": format!("approver-{n}@example.com"),
                "group.assignment_group.name": "Change Advisory Board",
                "sys_updated_on": "2026-05-20 09:12:00"
            })
        })
        .collect();
    serde_json::json!({ "result": records }).to_string()
}

fn servicenow_pages(pages: Vec<Reply>) -> TestServer {
    TestServer::start(vec![
        (
            "/api/now/table/change_request",
            vec![Reply::json(fixture("servicenow/change-approved.json"))],
        ),
        ("/api/now/table/sysapproval_approver", pages),
    ])
    .unwrap()
}

#[test]
fn servicenow_approvals_are_read_page_by_page_to_the_total_count() {
    let total = |reply: Reply| reply.header("X-Total-Count", "201");
    let server = servicenow_pages(vec![
        total(Reply::json(approver_page(0, 100))),
        total(Reply::json(approver_page(100, 100))),
        total(Reply::json(approver_page(200, 1))),
    ]);
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert_eq!(ticket.approvals.len(), 201);
    assert_eq!(ticket.approvals[200].by, "approver-200");
    assert_eq!(ticket.approvals[200].role, "CHANGE_ADVISORY_BOARD");
    let pages: Vec<String> = server
        .seen()
        .into_iter()
        .filter(|s| s.target.starts_with("/api/now/table/sysapproval_approver"))
        .map(|s| s.target)
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    for (page, offset) in pages.iter().zip(["0", "100", "200"]) {
        assert!(page.contains("sysparm_limit=100"), "{page}");
        assert!(
            page.contains(&format!("sysparm_offset={offset}&"))
                || page.ends_with(&format!("sysparm_offset={offset}")),
            "{page}"
        );
    }
}

#[test]
fn servicenow_approvals_past_the_cap_are_an_error_not_dropped() {
    let server = servicenow_pages(vec![
        Reply::json(approver_page(0, 100)).header("X-Total-Count", "1001"),
    ]);
    let error = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap_err();
    assert!(
        matches!(
            error,
            TicketError::TooMany {
                count: Some(1001),
                limit: 1000,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("approval records"), "{error}");

    // Without a count, full pages are read until the cap is passed.
    let server = servicenow_pages(vec![Reply::json(approver_page(0, 100))]);
    let error = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap_err();
    assert!(
        matches!(error, TicketError::TooMany { count: None, .. }),
        "{error:?}"
    );
}

#[test]
fn servicenow_a_page_that_ends_before_the_total_count_is_an_error() {
    let total = |reply: Reply| reply.header("X-Total-Count", "201");
    let server = servicenow_pages(vec![
        total(Reply::json(approver_page(0, 100))),
        total(Reply::json(approver_page(100, 100))),
        total(Reply::json(r#"{"result": []}"#)),
    ]);
    let error = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap_err();
    assert!(
        matches!(&error, TicketError::Malformed { field, .. } if field == "result"),
        "{error:?}"
    );
    assert!(error.to_string().contains("said 201 records"), "{error}");
}

#[test]
fn jira_an_empty_page_that_is_not_the_last_is_an_error() {
    let server = TestServer::start(vec![
        (
            "/rest/api/2/issue/",
            vec![Reply::json(fixture("jira/issue-approved.json"))],
        ),
        (
            "/rest/servicedeskapi/request/",
            vec![Reply::json(
                r#"{"size": 0, "start": 0, "limit": 50, "isLastPage": false, "values": []}"#,
            )],
        ),
    ])
    .unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(&error, TicketError::Malformed { field, .. } if field == "isLastPage"),
        "{error:?}"
    );
    // One request: no loop over the same empty page.
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn jira_an_issue_that_is_not_a_service_management_request_says_so() {
    let server = TestServer::start(vec![
        (
            "/rest/api/2/issue/",
            vec![Reply::json(fixture("jira/issue-approved.json"))],
        ),
        (
            "/rest/servicedeskapi/request/",
            vec![Reply::status(
                404,
                r#"{"errorMessage": "The request could not be found.", "i18nErrorMessage": {"i18nKey": "sd.request.error.not.found", "parameters": []}}"#,
            )],
        ),
    ])
    .unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(&error, TicketError::NotARequest { key, status: 404, .. } if key == "OPS-42"),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("Jira issue `OPS-42` is not a Service Management request"),
        "{text}"
    );
    assert!(!text.contains("has no ticket"), "{text}");
}

#[test]
fn jira_approved_issue_with_service_management_approvals() {
    let server = jira("issue-approved", "approvals-approved");
    let ticket = fetch_from(&server, "jira:OPS-42", &config()).unwrap();
    assert_eq!(ticket.id, "OPS-42");
    assert_eq!(ticket.status, TicketStatus::Approved);
    assert_eq!(ticket.submitted_at, Some(at("2026-05-19T16:40:00Z")));
    assert!(!ticket.emergency);
    assert_eq!(
        ticket.reason.as_deref(),
        Some("failed captures during network blips")
    );
    assert_eq!(ticket.security_impact.as_deref(), Some("none identified"));
    let approvals: Vec<(&str, &str)> = ticket
        .approvals
        .iter()
        .map(|a| (a.by.as_str(), a.role.as_str()))
        .collect();
    // Dan's decision is still pending; Carol's email is hidden, so her account id is recorded.
    assert_eq!(
        approvals,
        [
            ("bob@example.com", "TECHNICAL_LEAD"),
            ("5b10ac8d82e05b22cc7d4ef5", "CHANGE_ADVISORY_BOARD")
        ]
    );
    assert!(
        ticket
            .approvals
            .iter()
            .all(|a| a.at == at("2026-05-20T09:12:00Z"))
    );
    assert!(
        ticket.notes.iter().any(|n| n.contains("hides the email")),
        "{:?}",
        ticket.notes
    );
    assert_eq!(ticket.detail, format!("jira:OPS-42 ({})", server.url));
    let seen = server.seen();
    assert!(
        seen[0]
            .target
            .starts_with("/rest/api/2/issue/OPS-42?fields=summary,status,created,issuetype"),
        "{seen:?}"
    );
    assert!(
        seen[1]
            .target
            .starts_with("/rest/servicedeskapi/request/OPS-42/approval"),
        "{seen:?}"
    );
}

#[test]
fn jira_pending_declined_and_emergency_issues() {
    let server = jira("issue-pending", "approvals-pending");
    let ticket = fetch_from(&server, "jira:OPS-43", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Submitted);
    assert!(ticket.approvals.is_empty());

    // A declined approval rejects the ticket even under a status that reads approved.
    let server = jira("issue-approved", "approvals-declined");
    let ticket = fetch_from(&server, "jira:OPS-42", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Rejected);

    let server = jira("issue-declined", "approvals-none");
    let ticket = fetch_from(&server, "jira:OPS-44", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Rejected);

    let server = jira("issue-emergency", "approvals-approved");
    let ticket = fetch_from(&server, "jira:OPS-45", &config()).unwrap();
    assert!(ticket.emergency);
    assert_eq!(ticket.status, TicketStatus::Approved);
}

#[test]
fn jira_unlisted_status_is_submitted_and_noted() {
    let mut config = config();
    config.jira.approved_statuses.retain(|s| s != "Approved");
    let server = jira("issue-approved", "approvals-none");
    let ticket = fetch_from(&server, "jira:OPS-42", &config).unwrap();
    assert_eq!(ticket.status, TicketStatus::Submitted);
    assert!(ticket.notes[0].contains("`Approved`"), "{:?}", ticket.notes);
}

#[test]
fn jira_cloud_basic_authentication_with_the_account_email() {
    let server = jira("issue-pending", "approvals-none");
    let url = server.url.clone();
    let env = Environment::read(move |name| match name {
        "TOLLGATE_JIRA_URL" => Some(url.clone()),
        "TOLLGATE_JIRA_USER" => Some("ci@example.com".into()),
        "TOLLGATE_JIRA_TOKEN" => Some(TOKEN.into()),
        _ => None,
    });
    fetch(&reference("jira:OPS-43"), &config(), &env).unwrap();
    let header = server.seen()[0].authorization.clone().unwrap();
    assert!(header.starts_with("Basic "), "{header}");
    assert!(!header.contains(TOKEN));
}

#[test]
fn unauthorised_is_an_error_naming_system_url_and_status_never_the_token() {
    let server = TestServer::start(vec![(
        "/api/now/table/",
        vec![Reply::status(401, fixture("servicenow/error-401.json"))],
    )])
    .unwrap();
    let error = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap_err();
    assert!(
        matches!(error, TicketError::Unauthorized { status: 401, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.starts_with("ServiceNow refused"), "{text}");
    assert!(text.contains(&server.url) && text.contains("401"), "{text}");
    assert!(text.contains("TOLLGATE_SERVICENOW_TOKEN"), "{text}");
    assert!(
        !text.contains(TOKEN) && !format!("{error:?}").contains(TOKEN),
        "{text}"
    );
    assert_eq!(server.seen().len(), 1, "a 401 is not retried");

    let server = TestServer::start(vec![("/rest/", vec![Reply::status(403, "{}")])]).unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(error, TicketError::Unauthorized { status: 403, .. }),
        "{error:?}"
    );
}

#[test]
fn a_missing_jira_issue_is_not_found() {
    let server = TestServer::start(vec![(
        "/rest/api/2/issue/",
        vec![Reply::status(404, fixture("jira/error-404.json"))],
    )])
    .unwrap();
    let error = fetch_from(&server, "jira:OPS-404", &config()).unwrap_err();
    assert!(
        matches!(
            error,
            TicketError::NotFound {
                status: Some(404),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("Jira has no ticket `OPS-404`"),
        "{error}"
    );
}

#[test]
fn too_many_requests_is_retried_after_its_retry_after() {
    let server = TestServer::start(vec![
        (
            "/api/now/table/change_request",
            vec![
                Reply::status(
                    429,
                    r#"{"error":{"message":"Too many requests"},"status":"failure"}"#,
                )
                .header("Retry-After", "0"),
                Reply::json(fixture("servicenow/change-approved.json")),
            ],
        ),
        (
            "/api/now/table/sysapproval_approver",
            vec![Reply::json(fixture("servicenow/approvers-approved.json"))],
        ),
    ])
    .unwrap();
    let ticket = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap();
    assert_eq!(ticket.status, TicketStatus::Approved);
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = TestServer::start(vec![("/rest/", vec![Reply::status(500, "{}")])]).unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(
            error,
            TicketError::Status {
                status: 500,
                attempts: 3,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("after 3 attempts"), "{error}");
    assert_eq!(server.seen().len(), 3);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = TestServer::start(vec![(
        "/",
        vec![Reply::Silent {
            hold: Duration::from_secs(30),
        }],
    )])
    .unwrap();
    let config = TicketsConfig {
        timeout_seconds: 1,
        ..config()
    };
    let error = fetch_from(&server, "servicenow:CHG0030001", &config).unwrap_err();
    assert!(
        matches!(error, TicketError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("timed out"), "{error}");
    assert_eq!(server.seen().len(), 1, "a timeout is not retried");
}

#[test]
fn a_refused_connection_is_unreachable_after_the_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let env = Environment::read(move |name| match name {
        "TOLLGATE_JIRA_URL" => Some(format!("http://127.0.0.1:{port}")),
        "TOLLGATE_JIRA_TOKEN" => Some(TOKEN.into()),
        _ => None,
    });
    let error = fetch(&reference("jira:OPS-1"), &config(), &env).unwrap_err();
    assert!(
        matches!(error, TicketError::Unreachable { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

#[test]
fn malformed_answers_name_the_field() {
    let server = TestServer::start(vec![(
        "/rest/",
        vec![Reply::json("{\"key\": \"OPS-42\", ")],
    )])
    .unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(&error, TicketError::Malformed { field, .. } if field == "(document)"),
        "{error:?}"
    );

    let server = TestServer::start(vec![(
        "/rest/",
        vec![Reply::json(
            r#"{"key": "OPS-42", "fields": {"summary": "x"}}"#,
        )],
    )])
    .unwrap();
    let error = fetch_from(&server, "jira:OPS-42", &config()).unwrap_err();
    assert!(
        matches!(&error, TicketError::Malformed { field, .. } if field == "fields.status.name"),
        "{error:?}"
    );

    let server = TestServer::start(vec![(
        "/api/now/table/",
        vec![Reply::json(r#"{"result": {"number": "CHG0030001"}}"#)],
    )])
    .unwrap();
    let error = fetch_from(&server, "servicenow:CHG0030001", &config()).unwrap_err();
    assert!(
        error.to_string().contains("`result` is not a list"),
        "{error}"
    );
}

#[test]
fn an_oversized_answer_is_refused() {
    let mut body = fixture("servicenow/change-approved.json");
    body.truncate(body.len() - 3);
    body.extend(format!(", \"padding\": \"{}\"}}]}}", "x".repeat(4096)).bytes());
    let server = TestServer::start(vec![("/api/now/table/", vec![Reply::json(body)])]).unwrap();
    let config = TicketsConfig {
        max_response_bytes: 2048,
        ..config()
    };
    let error = fetch_from(&server, "servicenow:CHG0030001", &config).unwrap_err();
    assert!(
        matches!(error, TicketError::TooLarge { limit: 2048, .. }),
        "{error:?}"
    );
}

#[test]
fn missing_settings_are_errors_before_any_request() {
    let error = fetch(&reference("jira:OPS-1"), &config(), &Environment::default()).unwrap_err();
    assert!(
        matches!(
            error,
            TicketError::Settings {
                system: System::Jira,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("TOLLGATE_JIRA_URL"), "{error}");
}
