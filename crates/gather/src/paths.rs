//! Path rules: glob patterns that put a changed file into change categories, and bring data
//! classes into scope.

use std::collections::BTreeSet;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use tollgate_manifest::{ChangeCategory, DataClass};

use crate::GatherError;
use crate::config::{CategoryConfig, DataClassConfig, Unmatched};

/// Compiles one glob the way every Tollgate rule is read: `*` stays within a path segment, `**`
/// crosses segments, matching is case-sensitive, and paths use `/`.
pub(crate) fn compile_glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// Builds a set from globs; `owner` names the rule in errors.
pub(crate) fn glob_set(globs: &[String], owner: &str) -> Result<GlobSet, GatherError> {
    let mut builder = GlobSetBuilder::new();
    for pattern in globs {
        let glob = compile_glob(pattern).map_err(|e| GatherError::Glob {
            owner: owner.to_owned(),
            pattern: pattern.clone(),
            message: e.kind().to_string(),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| GatherError::Glob {
        owner: owner.to_owned(),
        pattern: globs.join(", "),
        message: e.to_string(),
    })
}

/// Compiled path rules.
#[derive(Debug, Clone)]
pub struct PathRules {
    rules: Vec<(ChangeCategory, GlobSet)>,
    unmatched: Unmatched,
}

/// The categories of a set of changed files, and which file put the change in each category.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Classification {
    /// Categories in the manifest's order, without duplicates.
    pub categories: Vec<ChangeCategory>,
    /// For each category, the first file (in the given order) that brought it in.
    pub reasons: Vec<(ChangeCategory, String)>,
}

impl Classification {
    /// Whether the change is in `category`.
    pub fn has(&self, category: ChangeCategory) -> bool {
        self.categories.contains(&category)
    }
}

impl PathRules {
    /// Compiles the rules in force for a configuration.
    pub fn new(config: &CategoryConfig) -> Result<Self, GatherError> {
        let rules = config
            .effective_rules()
            .into_iter()
            .map(|(category, globs)| {
                let owner = format!("categories.{}", category.as_str());
                glob_set(&globs, &owner).map(|set| (category, set))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            rules,
            unmatched: config.unmatched,
        })
    }

    /// The categories a single path falls into (the unmatched category if no rule matches).
    pub fn categories_of(&self, path: &str) -> Vec<ChangeCategory> {
        let matched: Vec<ChangeCategory> = self
            .rules
            .iter()
            .filter(|(_, set)| set.is_match(path))
            .map(|(category, _)| *category)
            .collect();
        match (matched.is_empty(), self.unmatched) {
            (true, Unmatched::Category(category)) => vec![category],
            _ => matched,
        }
    }

    /// Classifies a change from all its paths (for renames, both the old and the new path).
    pub fn classify<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> Classification {
        let mut found = BTreeSet::new();
        let mut reasons = Vec::new();
        for path in paths {
            for category in self.categories_of(path) {
                if found.insert(category as u8) {
                    reasons.push((category, path.to_owned()));
                }
            }
        }
        let order = |c: &ChangeCategory| *c as u8;
        let mut categories: Vec<ChangeCategory> = reasons.iter().map(|(c, _)| *c).collect();
        categories.sort_by_key(order);
        reasons.sort_by_key(|(c, _)| order(c));
        Classification {
            categories,
            reasons,
        }
    }
}

/// Compiled data-class path rules.
#[derive(Debug, Clone)]
pub struct DataClassRules {
    rules: Vec<(DataClass, &'static str, GlobSet)>,
}

impl DataClassRules {
    /// Compiles the configured rules (classes without globs are left out).
    pub fn new(config: &DataClassConfig) -> Result<Self, GatherError> {
        let rules = config
            .rules()
            .into_iter()
            .filter(|(_, _, globs)| !globs.is_empty())
            .map(|(class, name, globs)| {
                glob_set(globs, &format!("data_classes.{name}")).map(|set| (class, name, set))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The classes the changed paths bring into scope, each with its name and the first path
    /// (in the given order) that matched its rules.
    pub fn classify(&self, paths: &[&str]) -> Vec<(DataClass, &'static str, String)> {
        self.rules
            .iter()
            .filter_map(|(class, name, set)| {
                paths
                    .iter()
                    .find(|path| set.is_match(path))
                    .map(|path| (*class, *name, (*path).to_owned()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::config::Config;

    fn rules(toml: &str) -> PathRules {
        PathRules::new(&Config::from_toml(toml, "t").unwrap().categories).unwrap()
    }

    #[rstest]
    #[case("migrations/0042_add_index.sql", &[ChangeCategory::DatabaseSchema])]
    #[case("services/billing/migrations/V2__x.java", &[ChangeCategory::DatabaseSchema])]
    #[case("reports/monthly.sql", &[ChangeCategory::DatabaseSchema])]
    #[case("auth/session.rs", &[ChangeCategory::SecurityChanges])]
    #[case("src/auth/token.go", &[ChangeCategory::SecurityChanges])]
    #[case("terraform/main.tf", &[ChangeCategory::Infrastructure])]
    #[case("k8s/production/deploy.yaml", &[ChangeCategory::Infrastructure])]
    #[case("config/app.yaml", &[ChangeCategory::ConfigOnly])]
    #[case("README.md", &[ChangeCategory::ContentUpdates])]
    #[case("src/payments/capture.rs", &[ChangeCategory::BusinessLogic])]
    fn default_rules_classify_paths(#[case] path: &str, #[case] expected: &[ChangeCategory]) {
        assert_eq!(rules("").categories_of(path), expected);
    }

    #[test]
    fn single_star_does_not_cross_directories() {
        let rules = rules(
            "[categories]\nuse_defaults = false\nunmatched = \"none\"\nconfig_only = [\"config/*.yaml\"]\n",
        );
        assert_eq!(
            rules.categories_of("config/app.yaml"),
            [ChangeCategory::ConfigOnly]
        );
        assert!(rules.categories_of("config/nested/app.yaml").is_empty());
    }

    #[test]
    fn classification_is_ordered_and_remembers_the_first_file() {
        let classification = rules("").classify([
            "auth/login.rs",
            "migrations/001.sql",
            "migrations/002.sql",
            "src/lib.rs",
        ]);
        assert_eq!(
            classification.categories,
            [
                ChangeCategory::BusinessLogic,
                ChangeCategory::DatabaseSchema,
                ChangeCategory::SecurityChanges
            ]
        );
        assert!(
            classification
                .reasons
                .contains(&(ChangeCategory::DatabaseSchema, "migrations/001.sql".into()))
        );
    }

    #[test]
    fn invalid_glob_is_an_error_naming_the_rule() {
        let config =
            Config::from_toml("[categories]\nconfig_only = [\"config/[\"]\n", "t").unwrap();
        let error = PathRules::new(&config.categories).unwrap_err().to_string();
        assert!(error.contains("categories.config_only"), "{error}");
        assert!(error.contains("config/["), "{error}");
    }
}
