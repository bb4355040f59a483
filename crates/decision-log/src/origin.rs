//! Who ran a command and from where (PCI DSS 10.2.2: user identification, origination), read from
//! the CI system's environment variables.

use serde::{Deserialize, Serialize};

/// Who ran a command and from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The user or CI actor, or `unknown`.
    pub actor: String,
    /// The environment variable the actor was read from, or `none`.
    pub actor_source: String,
    /// CI system: `github-actions`, `gitlab-ci`, `jenkins`, `buildkite`, `circleci`, `azure-pipelines`,
    /// `ci` for another CI, `local` outside CI.
    pub ci: String,
    /// CI pipeline or run id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_id: Option<String>,
    /// Host name of the machine.
    pub host: String,
    /// Process id of the command.
    pub pid: u32,
}

/// Environment variables naming the actor, in order of preference.
pub const ACTOR_VARIABLES: &[&str] = &[
    "TOLLGATE_ACTOR",
    "GITHUB_ACTOR",
    "GITLAB_USER_LOGIN",
    "BUILD_USER_ID",
    "BUILD_USER",
    "BUILDKITE_BUILD_CREATOR_EMAIL",
    "CIRCLE_USERNAME",
    "BUILD_REQUESTEDFOREMAIL",
    "USER",
    "USERNAME",
];

/// Environment variables naming the pipeline run, in order of preference.
pub const PIPELINE_VARIABLES: &[&str] = &[
    "TOLLGATE_PIPELINE_ID",
    "CI_PIPELINE_ID",
    "GITHUB_RUN_ID",
    "BUILD_TAG",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_WORKFLOW_ID",
    "BUILD_BUILDID",
];

impl Origin {
    /// Reads the origin from environment variables through `var` (for example
    /// `|name| std::env::var(name).ok()`); `fallback_pipeline` is used when no CI variable names the
    /// pipeline (the manifest's `change.pipeline_id`).
    pub fn detect(
        var: impl Fn(&str) -> Option<String>,
        fallback_pipeline: Option<&str>,
        host: String,
        pid: u32,
    ) -> Self {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let (actor, actor_source) = ACTOR_VARIABLES
            .iter()
            .find_map(|name| get(name).map(|v| (v, (*name).to_owned())))
            .unwrap_or_else(|| ("unknown".to_owned(), "none".to_owned()));
        let pipeline_id = PIPELINE_VARIABLES
            .iter()
            .find_map(|name| get(name))
            .or_else(|| fallback_pipeline.map(str::to_owned));
        let ci = if get("GITHUB_ACTIONS").is_some() {
            "github-actions"
        } else if get("GITLAB_CI").is_some() {
            "gitlab-ci"
        } else if get("JENKINS_URL").is_some() {
            "jenkins"
        } else if get("BUILDKITE").is_some() {
            "buildkite"
        } else if get("CIRCLECI").is_some() {
            "circleci"
        } else if get("TF_BUILD").is_some() {
            "azure-pipelines"
        } else if get("CI").is_some_and(|v| v != "false" && v != "0") {
            "ci"
        } else {
            "local"
        };
        Self {
            actor,
            actor_source,
            ci: ci.to_owned(),
            pipeline_id,
            host,
            pid,
        }
    }

    /// The same origin, with the actor an edge authenticated (a gateway's token or client
    /// certificate) instead of the one read from the process's environment.
    #[must_use]
    pub fn with_actor(mut self, actor: impl Into<String>, actor_source: impl Into<String>) -> Self {
        self.actor = actor.into();
        self.actor_source = actor_source.into();
        self
    }

    /// The origin of the current process, from its environment.
    /// The environment is read once per process (a gateway stamps an origin on every record).
    pub fn current(fallback_pipeline: Option<&str>) -> Self {
        static FROM_ENVIRONMENT: std::sync::OnceLock<Origin> = std::sync::OnceLock::new();
        let mut origin = FROM_ENVIRONMENT
            .get_or_init(|| {
                Self::detect(
                    |name| std::env::var(name).ok(),
                    None,
                    host_name(),
                    std::process::id(),
                )
            })
            .clone();
        if origin.pipeline_id.is_none() {
            origin.pipeline_id = fallback_pipeline.map(str::to_owned);
        }
        origin
    }
}

/// The machine's host name: `/proc/sys/kernel/hostname`, `/etc/hostname`, `$HOSTNAME`, else
/// `unknown`. Read once per process: a gateway stamps it on every record.
pub fn host_name() -> String {
    static HOST_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST_NAME
        .get_or_init(|| {
            ["/proc/sys/kernel/hostname", "/etc/hostname"]
                .iter()
                .find_map(|path| std::fs::read_to_string(path).ok())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
                .unwrap_or_else(|| "unknown".to_owned())
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn ci_actor_and_pipeline_win_over_the_local_user() {
        let origin = Origin::detect(
            env(&[
                ("GITLAB_CI", "true"),
                ("GITLAB_USER_LOGIN", "dana"),
                ("CI_PIPELINE_ID", "9912"),
                ("USER", "runner"),
            ]),
            Some("from-manifest"),
            "build-7".into(),
            42,
        );
        assert_eq!(origin.actor, "dana");
        assert_eq!(origin.actor_source, "GITLAB_USER_LOGIN");
        assert_eq!(origin.ci, "gitlab-ci");
        assert_eq!(origin.pipeline_id.as_deref(), Some("9912"));
        assert_eq!(origin.host, "build-7");
    }

    #[test]
    fn local_runs_fall_back_to_the_manifest_pipeline() {
        let origin = Origin::detect(env(&[("USER", "erin")]), Some("p-1"), "laptop".into(), 1);
        assert_eq!(origin.actor, "erin");
        assert_eq!(origin.ci, "local");
        assert_eq!(origin.pipeline_id.as_deref(), Some("p-1"));
        let nobody = Origin::detect(env(&[]), None, "laptop".into(), 1);
        let asked = nobody.clone().with_actor("gitlab-runner", "token");
        assert_eq!(
            (asked.actor.as_str(), asked.actor_source.as_str()),
            ("gitlab-runner", "token")
        );
        assert_eq!(nobody.actor, "unknown");
        assert_eq!(nobody.pipeline_id, None);
    }
}
