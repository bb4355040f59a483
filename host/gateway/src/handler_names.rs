//! OPA's handler name of a request path: the `handler` label of the HTTP metrics, what names the
//! role a route needs ([`crate::auth::role_of`]) and whether its errors take OPA's shape.

/// OPA's handler name of a path.
pub(crate) fn handler_of(path: &str) -> &'static str {
    let handlers: [(&str, &'static str); 9] = [
        ("/v1/data", "v1/data"),
        ("/v0/data", "v0/data"),
        ("/v1/policies", "v1/policies"),
        ("/v1/evaluate", "v1/evaluate"),
        ("/v1/marks", "v1/marks"),
        ("/v1/admin", "v1/admin"),
        ("/v1/schema", "v1/schema"),
        ("/health", "health"),
        ("/metrics", "metrics"),
    ];
    if path == "/" {
        return "index";
    }
    handlers
        .iter()
        .find(|(prefix, _)| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map_or("catchall", |(_, handler)| handler)
}

/// Whether errors of `handler` take OPA's shape.
pub(crate) fn is_opa(handler: &str) -> bool {
    matches!(handler, "v1/data" | "v0/data" | "v1/policies" | "index")
}
