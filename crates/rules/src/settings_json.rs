//! Decoding [`Settings`] from JSON by hand: the same defaults, field paths and messages as serde's
//! derived decoders (`crates/cases` compares them for every breakage of every field), without
//! their per-type code in every policy module.
//!
//! Where serde accepts more, this decoder refuses: a struct written as the list of its field values
//! (`"risk": [3, 4]`) and a unit variant written as a one-key object are errors here.

use std::collections::BTreeMap;

use tollgate_manifest::{
    ChangeCategory, DocumentError, JsonNode, JsonNumber, JsonValue, LocatedJson, SourceKind,
    Timestamp, item_path, member_path, one_of,
};

use crate::settings::{
    ApproverSettings, CategoryClasses, EmergencySettings, RequiredTests, RiskSettings, Settings,
    SettingsError, WaiverSettings,
};
use crate::trust::TrustedSources;
use crate::windows::{DeploymentWindows, EnvironmentWindows, Freeze, RecurringWindow, Weekday};

type Result<T> = std::result::Result<T, DocumentError>;

impl Settings {
    /// Parses settings from JSON text (empty or blank text means defaults) and validates them.
    pub fn from_json(text: &str) -> std::result::Result<Self, SettingsError> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let settings = decode_settings(text).map_err(|error| match error {
            DocumentError::Invalid { path, message, .. } => {
                SettingsError::new(path.unwrap_or_else(|| ".".into()), message)
            }
            too_large @ DocumentError::TooLarge { .. } => {
                SettingsError::new(".", too_large.to_string())
            }
        })?;
        settings.validate()?;
        Ok(settings)
    }
}

/// Decodes settings from a JSON document (not validated).
fn decode_settings(text: &str) -> Result<Settings> {
    let document = LocatedJson::parse(text)?;
    Decoder {
        document: &document,
    }
    .settings(&document.root, "")
}

/// Decodes deployment windows from a JSON document (not validated).
#[cfg(test)]
pub(crate) fn decode_windows(text: &str) -> Result<DeploymentWindows> {
    let document = LocatedJson::parse(text)?;
    Decoder {
        document: &document,
    }
    .deployment_windows(&document.root, "")
}

/// Decodes trusted sources from a JSON document (not validated).
#[cfg(test)]
pub(crate) fn decode_trusted_sources(text: &str) -> Result<TrustedSources> {
    let document = LocatedJson::parse(text)?;
    Decoder {
        document: &document,
    }
    .trusted_sources(&document.root, "")
}

struct Decoder<'d, 't> {
    document: &'d LocatedJson<'t>,
}

impl Decoder<'_, '_> {
    /// Calls `decode` for each member of the struct `name` at `node`, in document order; unknown
    /// and repeated members are errors, as with `deny_unknown_fields`.
    fn fields(
        &self,
        node: &JsonNode,
        path: &str,
        name: &str,
        known: &[&str],
        decode: &mut dyn FnMut(&str, &JsonNode, &str) -> Result<()>,
    ) -> Result<()> {
        let JsonValue::Object(members) = &node.value else {
            return Err(self
                .document
                .wrong_type(node, path, &format!("struct {name}")));
        };
        let mut seen = Vec::with_capacity(members.len());
        for (key, value) in members {
            let field_path = member_path(path, key);
            if !known.contains(&key.as_str()) {
                let message = format!("unknown field `{key}`, expected {}", one_of(known));
                return Err(self.document.error(value, &field_path, &message));
            }
            if seen.contains(&key.as_str()) {
                let message = format!("duplicate field `{key}`");
                return Err(self.document.error(value, &field_path, &message));
            }
            seen.push(key.as_str());
            decode(key, value, &field_path)?;
        }
        Ok(())
    }

    fn missing(&self, node: &JsonNode, path: &str, field: &str) -> DocumentError {
        self.document
            .error(node, path, &format!("missing field `{field}`"))
    }

    fn number(&self, node: &JsonNode, path: &str) -> Result<f64> {
        match &node.value {
            // Integers beyond 2^53 round, as serde's `f64` does.
            JsonValue::Number(JsonNumber::Unsigned(n)) => Ok(*n as f64),
            JsonValue::Number(JsonNumber::Negative(n)) => Ok(*n as f64),
            JsonValue::Number(JsonNumber::Float(value, _)) => Ok(*value),
            _ => Err(self.document.wrong_type(node, path, "f64")),
        }
    }

    fn count(&self, node: &JsonNode, path: &str) -> Result<u32> {
        let out_of_range = |n: &dyn std::fmt::Display| {
            let message = format!("invalid value: integer `{n}`, expected u32");
            self.document.error(node, path, &message)
        };
        match &node.value {
            JsonValue::Number(JsonNumber::Unsigned(n)) => {
                u32::try_from(*n).map_err(|_| out_of_range(n))
            }
            JsonValue::Number(JsonNumber::Negative(n)) => Err(out_of_range(n)),
            _ => Err(self.document.wrong_type(node, path, "u32")),
        }
    }

    fn string(&self, node: &JsonNode, path: &str) -> Result<String> {
        match &node.value {
            JsonValue::String(text) => Ok(text.clone()),
            _ => Err(self.document.wrong_type(node, path, "a string")),
        }
    }

    fn list<T>(
        &self,
        node: &JsonNode,
        path: &str,
        item: impl Fn(&Self, &JsonNode, &str) -> Result<T>,
    ) -> Result<Vec<T>> {
        let JsonValue::Array(items) = &node.value else {
            return Err(self.document.wrong_type(node, path, "a sequence"));
        };
        items
            .iter()
            .enumerate()
            .map(|(index, value)| item(self, value, &item_path(path, index)))
            .collect()
    }

    fn strings(&self, node: &JsonNode, path: &str) -> Result<Vec<String>> {
        self.list(node, path, Self::string)
    }

    fn map<T>(
        &self,
        node: &JsonNode,
        path: &str,
        value: impl Fn(&Self, &JsonNode, &str) -> Result<T>,
    ) -> Result<BTreeMap<String, T>> {
        let JsonValue::Object(members) = &node.value else {
            return Err(self.document.wrong_type(node, path, "a map"));
        };
        let mut map = BTreeMap::new();
        for (key, member) in members {
            // A repeated key replaces the earlier one, as serde's maps do.
            map.insert(key.clone(), value(self, member, &member_path(path, key))?);
        }
        Ok(map)
    }

    /// The unit variant of `all` named at `node` (by `name`).
    fn variant<T: Copy>(
        &self,
        node: &JsonNode,
        path: &str,
        all: &[T],
        name: fn(T) -> &'static str,
    ) -> Result<T> {
        let names: Vec<&str> = all.iter().map(|variant| name(*variant)).collect();
        let JsonValue::String(text) = &node.value else {
            return Err(self.document.wrong_type(node, path, &one_of(&names)));
        };
        all.iter()
            .copied()
            .find(|variant| name(*variant) == text)
            .ok_or_else(|| {
                let message = format!("unknown variant `{text}`, expected {}", one_of(&names));
                self.document.error(node, path, &message)
            })
    }

    /// Decodes the struct `name` of three lists into `lists`, in the order of its members `known`.
    fn three_lists<T>(
        &self,
        node: &JsonNode,
        path: &str,
        name: &str,
        known: &[&str],
        mut lists: [&mut Vec<T>; 3],
        item: impl Fn(&Self, &JsonNode, &str) -> Result<T>,
    ) -> Result<()> {
        self.fields(node, path, name, known, &mut |field, value, path| {
            if let Some(index) = known.iter().position(|member| *member == field)
                && let Some(list) = lists.get_mut(index)
            {
                **list = self.list(value, path, &item)?;
            }
            Ok(())
        })
    }

    fn settings(&self, node: &JsonNode, path: &str) -> Result<Settings> {
        let mut settings = Settings::default();
        self.fields(
            node,
            path,
            "Settings",
            SETTINGS,
            &mut |field, value, path| {
                match field {
                    "risk" => settings.risk = self.risk(value, path)?,
                    "category_classes" => {
                        settings.category_classes = self.categories(value, path)?
                    }
                    "approvers" => settings.approvers = self.approvers(value, path)?,
                    "required_tests" => {
                        settings.required_tests = self.required_tests(value, path)?
                    }
                    "emergency" => settings.emergency = self.emergency(value, path)?,
                    "production_environments" => {
                        settings.production_environments = self.strings(value, path)?;
                    }
                    "authorised_deployer_group" => {
                        settings.authorised_deployer_group = self.string(value, path)?;
                    }
                    "key_rotation_max_days" => {
                        settings.key_rotation_max_days = self.count(value, path)?
                    }
                    "shared_accounts" => settings.shared_accounts = self.strings(value, path)?,
                    "identities" => settings.identities = self.map(value, path, Self::string)?,
                    "trusted_sources" => {
                        settings.trusted_sources = self.trusted_sources(value, path)?
                    }
                    "waivers" => settings.waivers = self.waivers(value, path)?,
                    "deployment_windows" => {
                        settings.deployment_windows = self.deployment_windows(value, path)?;
                    }
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(settings)
    }

    fn risk(&self, node: &JsonNode, path: &str) -> Result<RiskSettings> {
        let mut risk = RiskSettings::default();
        self.fields(
            node,
            path,
            "RiskSettings",
            RISK,
            &mut |field, value, path| {
                if field == "large_change_lines" {
                    risk.large_change_lines = self.count(value, path)?;
                    return Ok(());
                }
                let number = self.number(value, path)?;
                match field {
                    "production" => risk.production = number,
                    "schema_changes" => risk.schema_changes = number,
                    "security_components" => risk.security_components = number,
                    "large_change" => risk.large_change = number,
                    "historical_failure_rate_weight" => {
                        risk.historical_failure_rate_weight = number
                    }
                    "medium_threshold" => risk.medium_threshold = number,
                    "high_threshold" => risk.high_threshold = number,
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(risk)
    }

    fn categories(&self, node: &JsonNode, path: &str) -> Result<CategoryClasses> {
        let mut classes = CategoryClasses::default();
        let lists = [&mut classes.low, &mut classes.medium, &mut classes.high];
        self.three_lists(
            node,
            path,
            "CategoryClasses",
            CLASSES,
            lists,
            |this, value, path| {
                this.variant(value, path, &ChangeCategory::ALL, ChangeCategory::as_str)
            },
        )?;
        Ok(classes)
    }

    fn approvers(&self, node: &JsonNode, path: &str) -> Result<ApproverSettings> {
        let mut approvers = ApproverSettings::default();
        let lists = [
            &mut approvers.low_fallback,
            &mut approvers.medium,
            &mut approvers.high,
        ];
        self.three_lists(
            node,
            path,
            "ApproverSettings",
            APPROVERS,
            lists,
            Self::string,
        )?;
        Ok(approvers)
    }

    fn required_tests(&self, node: &JsonNode, path: &str) -> Result<RequiredTests> {
        let mut tests = RequiredTests::default();
        let lists = [&mut tests.low, &mut tests.medium, &mut tests.high];
        self.three_lists(node, path, "RequiredTests", CLASSES, lists, Self::string)?;
        Ok(tests)
    }

    fn emergency(&self, node: &JsonNode, path: &str) -> Result<EmergencySettings> {
        let mut emergency = EmergencySettings::default();
        self.fields(
            node,
            path,
            "EmergencySettings",
            EMERGENCY,
            &mut |field, value, path| {
                match field {
                    "approver_role" => emergency.approver_role = self.string(value, path)?,
                    "retrospective_within_days" => {
                        emergency.retrospective_within_days = self.count(value, path)?;
                    }
                    "outside_window_role" => {
                        emergency.outside_window_role = self.string(value, path)?
                    }
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(emergency)
    }

    fn waivers(&self, node: &JsonNode, path: &str) -> Result<WaiverSettings> {
        let mut waivers = WaiverSettings::default();
        self.fields(
            node,
            path,
            "WaiverSettings",
            WAIVERS,
            &mut |_, value, path| {
                waivers.non_waivable = match value.value {
                    JsonValue::Null => None,
                    _ => Some(self.strings(value, path)?),
                };
                Ok(())
            },
        )?;
        Ok(waivers)
    }

    fn trusted_sources(&self, node: &JsonNode, path: &str) -> Result<TrustedSources> {
        let given = self.map(node, path, |this, value, path| {
            this.list(value, path, |this, kind, path| {
                this.variant(kind, path, &SourceKind::ALL, SourceKind::as_str)
            })
        })?;
        Ok(TrustedSources::with(given))
    }

    pub(crate) fn deployment_windows(
        &self,
        node: &JsonNode,
        path: &str,
    ) -> Result<DeploymentWindows> {
        self.map(node, path, Self::environment_windows)
            .map(DeploymentWindows)
    }

    fn environment_windows(&self, node: &JsonNode, path: &str) -> Result<EnvironmentWindows> {
        let mut environment = EnvironmentWindows::default();
        self.fields(
            node,
            path,
            "EnvironmentWindows",
            ENVIRONMENT,
            &mut |field, value, path| {
                match field {
                    "time_zone" => environment.time_zone = self.string(value, path)?,
                    "windows" => environment.windows = self.list(value, path, Self::window)?,
                    "freezes" => environment.freezes = self.list(value, path, Self::freeze)?,
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(environment)
    }

    fn window(&self, node: &JsonNode, path: &str) -> Result<RecurringWindow> {
        let (mut days, mut start, mut end) = (None, None, None);
        self.fields(
            node,
            path,
            "RecurringWindow",
            WINDOW,
            &mut |field, value, path| {
                match field {
                    "days" => {
                        days = Some(self.list(value, path, |this, day, path| {
                            this.variant(day, path, &Weekday::ALL, Weekday::name)
                        })?);
                    }
                    "start" => start = Some(self.string(value, path)?),
                    "end" => end = Some(self.string(value, path)?),
                    _ => {}
                }
                Ok(())
            },
        )?;
        Ok(RecurringWindow {
            days: days.ok_or_else(|| self.missing(node, path, "days"))?,
            start: start.ok_or_else(|| self.missing(node, path, "start"))?,
            end: end.ok_or_else(|| self.missing(node, path, "end"))?,
        })
    }

    fn freeze(&self, node: &JsonNode, path: &str) -> Result<Freeze> {
        let (mut start, mut end, mut reason) = (None, None, None);
        self.fields(node, path, "Freeze", FREEZE, &mut |field, value, path| {
            match field {
                "start" => start = Some(self.timestamp(value, path)?),
                "end" => end = Some(self.timestamp(value, path)?),
                "reason" => {
                    reason = match value.value {
                        JsonValue::Null => None,
                        _ => Some(self.string(value, path)?),
                    };
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(Freeze {
            start: start.ok_or_else(|| self.missing(node, path, "start"))?,
            end: end.ok_or_else(|| self.missing(node, path, "end"))?,
            reason,
        })
    }

    fn timestamp(&self, node: &JsonNode, path: &str) -> Result<Timestamp> {
        match &node.value {
            JsonValue::String(text) => Timestamp::parse(text)
                .map_err(|error| self.document.error(node, path, &error.to_string())),
            _ => Err(self
                .document
                .wrong_type(node, path, "an RFC 3339 timestamp")),
        }
    }
}

/// The members of each struct, in declaration order (serde lists them so in its messages).
const SETTINGS: &[&str] = &[
    "risk",
    "category_classes",
    "approvers",
    "required_tests",
    "emergency",
    "production_environments",
    "authorised_deployer_group",
    "key_rotation_max_days",
    "shared_accounts",
    "identities",
    "trusted_sources",
    "waivers",
    "deployment_windows",
];
const RISK: &[&str] = &[
    "production",
    "schema_changes",
    "security_components",
    "large_change",
    "large_change_lines",
    "historical_failure_rate_weight",
    "medium_threshold",
    "high_threshold",
];
const CLASSES: &[&str] = &["low", "medium", "high"];
const APPROVERS: &[&str] = &["low_fallback", "medium", "high"];
const EMERGENCY: &[&str] = &[
    "approver_role",
    "retrospective_within_days",
    "outside_window_role",
];
const WAIVERS: &[&str] = &["non_waivable"];
const ENVIRONMENT: &[&str] = &["time_zone", "windows", "freezes"];
const WINDOW: &[&str] = &["days", "start", "end"];
const FREEZE: &[&str] = &["start", "end", "reason"];
