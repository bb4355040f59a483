//! The project configuration file, `tollgate.toml`: path rules for change categories and data
//! classes, JUnit suite kinds, sensitive-data scanning, identities and the live ticket systems. Every table and key is optional; unknown keys are
//! errors, so a misspelt rule can never silently drop a category.

use std::collections::BTreeMap;

use serde::Deserialize;
use tollgate_manifest::{ChangeCategory, DataClass};

use crate::GatherError;

/// The conventional name of the configuration file, looked up at the repository root.
pub const CONFIG_FILE: &str = "tollgate.toml";

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Path rules: which changed files put the change in which category.
    #[serde(default)]
    pub categories: CategoryConfig,
    /// Path rules: which changed files bring which data classes into scope.
    #[serde(default)]
    pub data_classes: DataClassConfig,
    /// How JUnit reports map to suite kinds.
    #[serde(default)]
    pub junit: JunitConfig,
    /// The sensitive-data scan of added lines.
    #[serde(default)]
    pub sensitive_data: SensitiveDataConfig,
    /// How git identities become manifest identities.
    #[serde(default)]
    pub identity: IdentityConfig,
    /// The live ticket systems of `--ticket jira:KEY` and `--ticket servicenow:NUMBER`: base URLs,
    /// status and role mappings, timeouts and retries (credentials come from the environment).
    #[serde(default)]
    pub tickets: tollgate_tickets::TicketsConfig,
}

impl Config {
    /// Parses the configuration from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, GatherError> {
        toml::from_str(text).map_err(|e| GatherError::Config {
            path: origin.to_owned(),
            message: describe_toml_error(text, &e),
        })
    }
}

/// Renders a TOML error on one line: message, then line and column.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().to_owned();
    match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before
                .rfind('\n')
                .map_or(before.len(), |i| before.len() - i - 1)
                + 1;
            format!("{message} (line {line}, column {column})")
        }
        None => message,
    }
}

/// Path rules per category. A category given here replaces its built-in rules; the others keep
/// theirs unless `use_defaults = false`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    /// Keep the built-in rules of categories not given here. Default: `true`.
    #[serde(default = "yes")]
    pub use_defaults: bool,
    /// Category of a changed file that no rule matches, or `none`. Default: `business_logic`
    /// (fail-closed: unclassified code is at least medium risk).
    #[serde(default = "business_logic")]
    pub unmatched: Unmatched,
    /// Globs for `config_only`.
    pub config_only: Option<Vec<String>>,
    /// Globs for `feature_flags`.
    pub feature_flags: Option<Vec<String>>,
    /// Globs for `content_updates`.
    pub content_updates: Option<Vec<String>>,
    /// Globs for `business_logic`.
    pub business_logic: Option<Vec<String>>,
    /// Globs for `database_views`.
    pub database_views: Option<Vec<String>>,
    /// Globs for `ui_changes`.
    pub ui_changes: Option<Vec<String>>,
    /// Globs for `database_schema`; a match sets `includes_schema_changes`.
    pub database_schema: Option<Vec<String>>,
    /// Globs for `security_changes`; a match sets `touches_security_components`.
    pub security_changes: Option<Vec<String>>,
    /// Globs for `infrastructure`.
    pub infrastructure: Option<Vec<String>>,
}

impl Default for CategoryConfig {
    fn default() -> Self {
        Self {
            use_defaults: true,
            unmatched: Unmatched::Category(ChangeCategory::BusinessLogic),
            config_only: None,
            feature_flags: None,
            content_updates: None,
            business_logic: None,
            database_views: None,
            ui_changes: None,
            database_schema: None,
            security_changes: None,
            infrastructure: None,
        }
    }
}

impl CategoryConfig {
    /// The globs in force for each category: configured ones, else the built-in defaults (when
    /// `use_defaults`), in the category order of the manifest.
    pub fn effective_rules(&self) -> Vec<(ChangeCategory, Vec<String>)> {
        use ChangeCategory as C;
        let given = [
            (C::ConfigOnly, &self.config_only),
            (C::FeatureFlags, &self.feature_flags),
            (C::ContentUpdates, &self.content_updates),
            (C::BusinessLogic, &self.business_logic),
            (C::DatabaseViews, &self.database_views),
            (C::UiChanges, &self.ui_changes),
            (C::DatabaseSchema, &self.database_schema),
            (C::SecurityChanges, &self.security_changes),
            (C::Infrastructure, &self.infrastructure),
        ];
        given
            .into_iter()
            .map(|(category, globs)| {
                let globs = match globs {
                    Some(globs) => globs.clone(),
                    None if self.use_defaults => default_rules(category)
                        .iter()
                        .map(|g| (*g).to_owned())
                        .collect(),
                    None => Vec::new(),
                };
                (category, globs)
            })
            .collect()
    }
}

/// Path rules per data class: a change touching a matching file affects that class of data, which
/// brings its framework into scope (for example `gxp = ["lims/**"]` for a GxP system kept in one
/// directory of a larger repository). No class has built-in rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataClassConfig {
    /// Globs for `phi`.
    #[serde(default)]
    pub phi: Vec<String>,
    /// Globs for `cardholder_data`.
    #[serde(default)]
    pub cardholder_data: Vec<String>,
    /// Globs for `financial_reporting`.
    #[serde(default)]
    pub financial_reporting: Vec<String>,
    /// Globs for `pii`.
    #[serde(default)]
    pub pii: Vec<String>,
    /// Globs for `gxp`.
    #[serde(default)]
    pub gxp: Vec<String>,
}

impl DataClassConfig {
    /// The rules given, with their class and its name in the manifest.
    pub fn rules(&self) -> [(DataClass, &'static str, &[String]); 5] {
        [
            (DataClass::Phi, "phi", &self.phi),
            (
                DataClass::CardholderData,
                "cardholder_data",
                &self.cardholder_data,
            ),
            (
                DataClass::FinancialReporting,
                "financial_reporting",
                &self.financial_reporting,
            ),
            (DataClass::Pii, "pii", &self.pii),
            (DataClass::Gxp, "gxp", &self.gxp),
        ]
    }
}

/// The built-in path rules of a category.
pub fn default_rules(category: ChangeCategory) -> &'static [&'static str] {
    use ChangeCategory as C;
    match category {
        C::ConfigOnly => &["config/**", "conf/**", "settings/**"],
        C::FeatureFlags => &["flags/**", "**/feature-flags/**", "**/feature_flags/**"],
        C::ContentUpdates => &["docs/**", "content/**", "locales/**", "**/*.md"],
        C::BusinessLogic | C::DatabaseViews => &[],
        C::UiChanges => &[
            "ui/**",
            "frontend/**",
            "web/**",
            "**/*.css",
            "**/*.scss",
            "**/*.html",
            "**/*.vue",
            "**/*.jsx",
            "**/*.tsx",
        ],
        C::DatabaseSchema => &[
            "migrations/**",
            "**/migrations/**",
            "db/migrate/**",
            "**/*.sql",
            "**/schema.prisma",
            "**/liquibase/**",
            "**/flyway/**",
        ],
        C::SecurityChanges => &[
            "auth/**",
            "**/auth/**",
            "**/security/**",
            "**/crypto/**",
            "**/iam/**",
            "**/rbac/**",
            "**/permissions/**",
        ],
        C::Infrastructure => &[
            "terraform/**",
            "**/*.tf",
            "**/*.tfvars",
            "k8s/**",
            "kubernetes/**",
            "helm/**",
            "charts/**",
            "ansible/**",
            "**/Dockerfile",
            "**/docker-compose*.yml",
            "**/docker-compose*.yaml",
            ".gitlab-ci.yml",
            ".github/workflows/**",
            "**/Jenkinsfile",
        ],
    }
}

/// Category of files no rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// Unmatched files add no category.
    None,
    /// Unmatched files add this category.
    Category(ChangeCategory),
}

impl<'de> Deserialize<'de> for Unmatched {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text == "none" {
            return Ok(Self::None);
        }
        ChangeCategory::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(&text))
            .map(Self::Category)
    }
}

fn yes() -> bool {
    true
}

fn business_logic() -> Unmatched {
    Unmatched::Category(ChangeCategory::BusinessLogic)
}

/// How JUnit reports map to suite kinds (`unit`, `integration`, `e2e`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JunitConfig {
    /// Keep the built-in mapping for kinds not given in `suites`. Default: `true`.
    #[serde(default = "yes")]
    pub use_defaults: bool,
    /// Suite kind to globs, matched against the report's path and then against each
    /// `<testsuite name>`. The first kind (in name order) whose globs match wins.
    #[serde(default)]
    pub suites: BTreeMap<String, Vec<String>>,
}

impl Default for JunitConfig {
    fn default() -> Self {
        Self {
            use_defaults: true,
            suites: BTreeMap::new(),
        }
    }
}

/// The built-in JUnit mapping: suite kind to globs on the report path or suite name.
pub const DEFAULT_SUITE_KINDS: &[(&str, &[&str])] = &[
    ("compliance", &["**/*compliance*"]),
    ("e2e", &["**/*e2e*", "**/*end-to-end*", "**/*end_to_end*"]),
    ("full_regression", &["**/*regression*"]),
    ("integration", &["**/*integration*"]),
    (
        "performance",
        &["**/*performance*", "**/*perf*", "**/*load-test*"],
    ),
    ("security", &["**/*security*"]),
    ("smoke", &["**/*smoke*"]),
    ("unit", &["**/*unit*"]),
];

impl JunitConfig {
    /// The mapping in force: configured kinds first (name order), then the built-in ones not
    /// configured (when `use_defaults`).
    pub fn effective_kinds(&self) -> Vec<(String, Vec<String>)> {
        let mut kinds: Vec<(String, Vec<String>)> = self
            .suites
            .iter()
            .map(|(kind, globs)| (kind.clone(), globs.clone()))
            .collect();
        if self.use_defaults {
            for (kind, globs) in DEFAULT_SUITE_KINDS {
                if !self.suites.contains_key(*kind) {
                    kinds.push((
                        (*kind).to_owned(),
                        globs.iter().map(|g| (*g).to_owned()).collect(),
                    ));
                }
            }
        }
        kinds
    }
}

/// The sensitive-data scan of the added lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitiveDataConfig {
    /// Globs of files not scanned. Default: none (every added line is scanned).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Further well-known test card numbers to allow, besides the built-in list. Only numbers
    /// that are Luhn-valid test numbers belong here, never live PANs.
    #[serde(default)]
    pub allowed_test_pans: Vec<String>,
    /// Turns the scan off entirely. Default: `false`.
    #[serde(default)]
    pub disabled: bool,
}

/// How the git author becomes the manifest's `change.author`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Which part of the git author to use. Default: `email`.
    #[serde(default)]
    pub author: AuthorIdentity,
    /// Git author emails or names mapped to the identities that approvers and CI actors use
    /// (for example `"alice@example.com" = "alice"`). Looked up before `author` applies.
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
}

/// Which part of the git author identifies the author.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorIdentity {
    /// The author's email address.
    #[default]
    Email,
    /// The part of the email before `@` (matches CI logins in many organisations).
    EmailLocalPart,
    /// The author's name.
    Name,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_uses_defaults() {
        let config = Config::from_toml("", "tollgate.toml").unwrap();
        let rules = config.categories.effective_rules();
        let schema = rules
            .iter()
            .find(|(c, _)| *c == ChangeCategory::DatabaseSchema)
            .unwrap();
        assert!(schema.1.contains(&"migrations/**".to_owned()));
        assert_eq!(
            config.categories.unmatched,
            Unmatched::Category(ChangeCategory::BusinessLogic)
        );
    }

    #[test]
    fn configured_category_replaces_its_defaults_only() {
        let config = Config::from_toml(
            "[categories]\nsecurity_changes = [\"login/**\"]\nunmatched = \"none\"\n",
            "t",
        )
        .unwrap();
        let rules = config.categories.effective_rules();
        let get = |c| &rules.iter().find(|(x, _)| *x == c).unwrap().1;
        assert_eq!(get(ChangeCategory::SecurityChanges), &["login/**"]);
        assert!(!get(ChangeCategory::DatabaseSchema).is_empty());
        assert_eq!(config.categories.unmatched, Unmatched::None);
    }

    #[test]
    fn use_defaults_false_drops_builtin_rules() {
        let config = Config::from_toml("[categories]\nuse_defaults = false\n", "t").unwrap();
        assert!(
            config
                .categories
                .effective_rules()
                .iter()
                .all(|(_, g)| g.is_empty())
        );
    }

    #[test]
    fn misspelt_key_is_an_error_with_its_line() {
        let error = Config::from_toml(
            "[categories]\n\ndatabase_shema = [\"x\"]\n",
            "tollgate.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("tollgate.toml"), "{error}");
        assert!(error.contains("database_shema"), "{error}");
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn unknown_unmatched_category_is_an_error() {
        let error = Config::from_toml("[categories]\nunmatched = \"misc\"\n", "t")
            .unwrap_err()
            .to_string();
        assert!(error.contains("misc"), "{error}");
    }
}
