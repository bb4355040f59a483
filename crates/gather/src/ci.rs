//! The CI context of a run, read from the standard environment variables of GitLab CI, GitHub
//! Actions and Jenkins.

use std::fmt;

/// A CI system Tollgate knows the variables of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CiSystem {
    /// GitLab CI/CD (`GITLAB_CI=true`).
    Gitlab,
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    Github,
    /// Jenkins (`JENKINS_URL` set).
    Jenkins,
}

impl CiSystem {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gitlab => "gitlab",
            Self::Github => "github",
            Self::Jenkins => "jenkins",
        }
    }

    /// Detects the CI system from the environment: GitLab, then GitHub, then Jenkins.
    pub fn detect(env: &dyn Fn(&str) -> Option<String>) -> Option<Self> {
        let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
        if env("GITLAB_CI").is_some_and(|v| v == "true") {
            Some(Self::Gitlab)
        } else if env("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
            Some(Self::Github)
        } else if set("JENKINS_URL") || set("JENKINS_HOME") {
            Some(Self::Jenkins)
        } else {
            None
        }
    }
}

impl fmt::Display for CiSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The CI variable that carries the deployer's directory groups.
pub const DEPLOYER_GROUPS_VARIABLE: &str = "TOLLGATE_DEPLOYER_GROUPS";

/// What the CI environment says about the run. Each value records the variable it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CiContext {
    /// The CI system, if one was detected or named.
    pub system: Option<CiSystem>,
    /// Pipeline (run, build) id.
    pub pipeline_id: Option<Sourced>,
    /// Commit being built.
    pub commit: Option<Sourced>,
    /// Who started the run: the deployer.
    pub actor: Option<Sourced>,
    /// Branch being built.
    pub branch: Option<Sourced>,
    /// Deployment environment, where the CI system has one.
    pub environment: Option<Sourced>,
    /// The revision a merge or pull request is compared with.
    pub base: Option<Sourced>,
    /// Title of the merge or pull request, if any.
    pub title: Option<Sourced>,
    /// The merge or pull request being built, as a change id when no ticket names the change:
    /// `MR-<iid>` (GitLab `CI_MERGE_REQUEST_IID`), `PR-<number>` (GitHub `GITHUB_REF`
    /// `refs/pull/<number>/merge`, Jenkins `CHANGE_ID`).
    pub change_request: Option<Sourced>,
    /// The deployer's directory groups, comma-separated in `TOLLGATE_DEPLOYER_GROUPS`: a variable
    /// the platform team sets on the protected deployment environment (never in the repository),
    /// so that the groups come from CI rather than from a file the change's author can edit.
    pub deployer_groups: Option<Sourced>,
}

/// A value and the environment variable it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// The value.
    pub value: String,
    /// The variable, for example `CI_PIPELINE_ID`.
    pub variable: &'static str,
}

impl CiContext {
    /// Reads the context of `system` (or of the detected system when `None`) through `env`.
    pub fn read(system: Option<CiSystem>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let Some(system) = system.or_else(|| CiSystem::detect(env)) else {
            return Self::default();
        };
        let first = |names: &[&'static str]| -> Option<Sourced> {
            names.iter().find_map(|name| {
                env(name)
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .map(|value| Sourced {
                        value,
                        variable: name,
                    })
            })
        };
        // A base that names a branch is compared with the remote-tracking branch CI fetched.
        let remote = |sourced: Option<Sourced>| {
            sourced.map(|s| Sourced {
                value: format!("origin/{}", s.value),
                variable: s.variable,
            })
        };
        let not_null_commit =
            |sourced: Option<Sourced>| sourced.filter(|s| !s.value.chars().all(|c| c == '0'));
        let deployer_groups = first(&[DEPLOYER_GROUPS_VARIABLE]);
        let context = match system {
            CiSystem::Gitlab => Self {
                system: Some(system),
                pipeline_id: first(&["CI_PIPELINE_ID"]),
                commit: first(&["CI_COMMIT_SHA"]),
                actor: first(&["GITLAB_USER_LOGIN"]),
                branch: first(&["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME"]),
                environment: first(&["CI_ENVIRONMENT_NAME"]),
                base: first(&["CI_MERGE_REQUEST_DIFF_BASE_SHA"])
                    .or_else(|| not_null_commit(first(&["CI_COMMIT_BEFORE_SHA"]))),
                title: first(&["CI_MERGE_REQUEST_TITLE"]),
                change_request: prefixed("MR-", first(&["CI_MERGE_REQUEST_IID"])),
                ..Self::default()
            },
            CiSystem::Github => Self {
                system: Some(system),
                pipeline_id: first(&["GITHUB_RUN_ID"]).map(|run| {
                    match first(&["GITHUB_RUN_ATTEMPT"]) {
                        Some(attempt) if attempt.value != "1" => Sourced {
                            value: format!("{}-{}", run.value, attempt.value),
                            variable: run.variable,
                        },
                        _ => run,
                    }
                }),
                commit: first(&["GITHUB_SHA"]),
                actor: first(&["GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR"]),
                branch: first(&["GITHUB_HEAD_REF", "GITHUB_REF_NAME"]),
                environment: None,
                base: remote(first(&["GITHUB_BASE_REF"])),
                title: None,
                change_request: prefixed("PR-", github_pull_request(first(&["GITHUB_REF"]))),
                ..Self::default()
            },
            CiSystem::Jenkins => Self {
                system: Some(system),
                pipeline_id: first(&["BUILD_TAG", "BUILD_ID"]),
                commit: first(&["GIT_COMMIT"]),
                actor: first(&["BUILD_USER_ID", "BUILD_USER"]),
                branch: first(&["CHANGE_BRANCH", "BRANCH_NAME", "GIT_BRANCH"]),
                environment: first(&["DEPLOY_ENVIRONMENT"]),
                base: remote(first(&["CHANGE_TARGET"]))
                    .or_else(|| first(&["GIT_PREVIOUS_SUCCESSFUL_COMMIT"])),
                title: first(&["CHANGE_TITLE"]),
                change_request: prefixed("PR-", first(&["CHANGE_ID"])),
                ..Self::default()
            },
        };
        Self {
            deployer_groups,
            ..context
        }
    }

    /// Reads the context from the process environment.
    pub fn from_process_env(system: Option<CiSystem>) -> Self {
        Self::read(system, &|name| std::env::var(name).ok())
    }
}

/// `prefix` + the value, when the value is a request number (digits only).
fn prefixed(prefix: &str, sourced: Option<Sourced>) -> Option<Sourced> {
    sourced
        .filter(|s| !s.value.is_empty() && s.value.chars().all(|c| c.is_ascii_digit()))
        .map(|s| Sourced {
            value: format!("{prefix}{}", s.value),
            variable: s.variable,
        })
}

/// The pull request number of a `GITHUB_REF` `refs/pull/<number>/merge` (or `/head`).
fn github_pull_request(sourced: Option<Sourced>) -> Option<Sourced> {
    let sourced = sourced?;
    let number = sourced
        .value
        .strip_prefix("refs/pull/")?
        .split('/')
        .next()?
        .to_owned();
    Some(Sourced {
        value: number,
        variable: sourced.variable,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn value(s: &Option<Sourced>) -> Option<&str> {
        s.as_ref().map(|s| s.value.as_str())
    }

    #[test]
    fn deployer_groups_come_from_the_deployment_environment_variable() {
        let context = CiContext::read(
            None,
            &env(&[
                ("GITLAB_CI", "true"),
                ("TOLLGATE_DEPLOYER_GROUPS", " production-deployers, dba "),
            ]),
        );
        assert_eq!(
            value(&context.deployer_groups),
            Some("production-deployers, dba")
        );
    }

    #[test]
    fn nothing_detected_outside_ci() {
        let context = CiContext::read(None, &env(&[("HOME", "/root")]));
        assert_eq!(context, CiContext::default());
    }

    #[test]
    fn gitlab_merge_request_pipeline() {
        let context = CiContext::read(
            None,
            &env(&[
                ("GITLAB_CI", "true"),
                ("CI_PIPELINE_ID", "48213"),
                ("CI_COMMIT_SHA", "3f9c2a1e"),
                ("GITLAB_USER_LOGIN", "carol"),
                ("CI_COMMIT_REF_NAME", "feature/x"),
                ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "abc123"),
                (
                    "CI_COMMIT_BEFORE_SHA",
                    "0000000000000000000000000000000000000000",
                ),
                ("CI_ENVIRONMENT_NAME", "production"),
            ]),
        );
        assert_eq!(context.system, Some(CiSystem::Gitlab));
        assert_eq!(value(&context.pipeline_id), Some("48213"));
        assert_eq!(value(&context.actor), Some("carol"));
        assert_eq!(value(&context.base), Some("abc123"));
        assert_eq!(value(&context.environment), Some("production"));
        assert_eq!(context.actor.unwrap().variable, "GITLAB_USER_LOGIN");
        assert_eq!(context.change_request, None);
    }

    #[test]
    fn merge_and_pull_requests_name_the_change() {
        let gitlab = CiContext::read(
            None,
            &env(&[("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_IID", "42")]),
        );
        assert_eq!(value(&gitlab.change_request), Some("MR-42"));
        assert_eq!(
            gitlab.change_request.map(|s| s.variable),
            Some("CI_MERGE_REQUEST_IID")
        );
        let github = CiContext::read(
            None,
            &env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF", "refs/pull/17/merge"),
            ]),
        );
        assert_eq!(value(&github.change_request), Some("PR-17"));
        let push = CiContext::read(
            None,
            &env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF", "refs/heads/main"),
            ]),
        );
        assert_eq!(push.change_request, None);
        let jenkins = CiContext::read(
            None,
            &env(&[("JENKINS_URL", "https://ci.example/"), ("CHANGE_ID", "7")]),
        );
        assert_eq!(value(&jenkins.change_request), Some("PR-7"));
        let odd = CiContext::read(
            None,
            &env(&[("GITLAB_CI", "true"), ("CI_MERGE_REQUEST_IID", "4 2")]),
        );
        assert_eq!(odd.change_request, None);
    }

    #[test]
    fn gitlab_push_with_null_before_sha_has_no_base() {
        let context = CiContext::read(
            None,
            &env(&[
                ("GITLAB_CI", "true"),
                (
                    "CI_COMMIT_BEFORE_SHA",
                    "0000000000000000000000000000000000000000",
                ),
            ]),
        );
        assert_eq!(context.base, None);
    }

    #[test]
    fn github_pull_request_rerun() {
        let context = CiContext::read(
            None,
            &env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_RUN_ID", "9001"),
                ("GITHUB_RUN_ATTEMPT", "2"),
                ("GITHUB_SHA", "deadbeef"),
                ("GITHUB_ACTOR", "alice"),
                ("GITHUB_TRIGGERING_ACTOR", "carol"),
                ("GITHUB_BASE_REF", "main"),
                ("GITHUB_HEAD_REF", "feature/y"),
            ]),
        );
        assert_eq!(context.system, Some(CiSystem::Github));
        assert_eq!(value(&context.pipeline_id), Some("9001-2"));
        assert_eq!(value(&context.actor), Some("carol"));
        assert_eq!(value(&context.base), Some("origin/main"));
        assert_eq!(value(&context.branch), Some("feature/y"));
    }

    #[test]
    fn jenkins_multibranch_change() {
        let context = CiContext::read(
            None,
            &env(&[
                ("JENKINS_URL", "https://ci.example/"),
                ("BUILD_TAG", "jenkins-payments-PR-7-12"),
                ("BUILD_ID", "12"),
                ("GIT_COMMIT", "cafe"),
                ("BUILD_USER_ID", "carol"),
                ("CHANGE_TARGET", "main"),
            ]),
        );
        assert_eq!(context.system, Some(CiSystem::Jenkins));
        assert_eq!(
            value(&context.pipeline_id),
            Some("jenkins-payments-PR-7-12")
        );
        assert_eq!(value(&context.base), Some("origin/main"));
        assert_eq!(value(&context.actor), Some("carol"));
    }

    #[test]
    fn explicit_system_overrides_detection() {
        let vars = env(&[
            ("GITLAB_CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_RUN_ID", "1"),
        ]);
        assert_eq!(CiSystem::detect(&vars), Some(CiSystem::Gitlab));
        let context = CiContext::read(Some(CiSystem::Github), &vars);
        assert_eq!(value(&context.pipeline_id), Some("1"));
    }

    #[test]
    fn empty_variables_are_absent() {
        let context = CiContext::read(
            None,
            &env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_ACTOR", "  ")]),
        );
        assert_eq!(context.actor, None);
    }
}
