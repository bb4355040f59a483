//! The JSON Schemas a policy declares in its metadata (contract 0.3.0): the schema of its own
//! settings and one per manifest extension namespace it reads. They are compiled once, when the
//! pipeline is built, and checked before any policy runs, so that a third-party pack gets the same
//! located errors for its settings and facts as the core manifest gives.
//!
//! The implementation is a [`SchemaValidator`]: the one installed with
//! [`install_schema_validator`] (the browser preview installs one backed by JavaScript, so that its
//! WebAssembly carries no JSON Schema engine), else the `jsonschema` crate (the `json-schema`
//! feature, on by default). A build with neither refuses every declared schema instead of skipping
//! it: a schema that is not checked is not a schema.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;
use tollgate_decision::PolicyMetadata;

/// A JSON Schema implementation: compiles the schemas policies declare.
pub trait SchemaValidator: Send + Sync {
    /// Compiles `schema`; the error says why it is not a usable JSON Schema (for example
    /// "is not a valid JSON Schema: ..."), and fails the policy declaring it.
    fn compile(&self, schema: &Value) -> Result<Box<dyn CompiledSchema>, String>;
}

/// A schema compiled by a [`SchemaValidator`].
pub trait CompiledSchema: Send + Sync {
    /// Every violation of the schema by `instance`, in the validator's order. An error means the
    /// validator itself failed; the instance then counts as invalid, never as valid.
    fn violations(&self, instance: &Value) -> Result<Vec<SchemaViolation>, String>;
}

/// One violation of a schema, as a [`CompiledSchema`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer of the offending value in the instance (`/windows/0`), empty for the instance
    /// itself.
    pub instance_pointer: String,
    /// What is wrong, in the validator's words.
    pub message: String,
}

/// Why [`install_schema_validator`] refused.
#[derive(Debug, thiserror::Error)]
#[error("a JSON Schema validator is already installed")]
pub struct AlreadyInstalled;

/// The validator installed for this process, if any.
static INSTALLED: OnceLock<Box<dyn SchemaValidator>> = OnceLock::new();

/// Makes `validator` the JSON Schema implementation of every pipeline built afterwards in this
/// process, instead of the `jsonschema` crate. Only once: a second call is refused.
pub fn install_schema_validator(
    validator: Box<dyn SchemaValidator>,
) -> Result<(), AlreadyInstalled> {
    INSTALLED.set(validator).map_err(|_| AlreadyInstalled)
}

/// The `jsonschema` crate as a [`SchemaValidator`].
#[cfg(feature = "json-schema")]
struct Crate;

#[cfg(feature = "json-schema")]
impl SchemaValidator for Crate {
    fn compile(&self, schema: &Value) -> Result<Box<dyn CompiledSchema>, String> {
        jsonschema::validator_for(schema)
            .map(|validator| Box::new(CrateSchema(validator)) as Box<dyn CompiledSchema>)
            .map_err(|e| format!("is not a valid JSON Schema: {e}"))
    }
}

#[cfg(feature = "json-schema")]
struct CrateSchema(jsonschema::Validator);

#[cfg(feature = "json-schema")]
impl CompiledSchema for CrateSchema {
    fn violations(&self, instance: &Value) -> Result<Vec<SchemaViolation>, String> {
        Ok(self
            .0
            .iter_errors(instance)
            .map(|error| SchemaViolation {
                instance_pointer: error.instance_path().as_str().to_owned(),
                message: error.to_string(),
            })
            .collect())
    }
}

/// The validator pipelines use: the installed one, else the `jsonschema` crate, else none.
fn validator() -> Option<&'static dyn SchemaValidator> {
    #[cfg(feature = "json-schema")]
    let builtin: Option<&'static dyn SchemaValidator> = Some(&Crate);
    #[cfg(not(feature = "json-schema"))]
    let builtin = None;
    INSTALLED.get().map(AsRef::as_ref).or(builtin)
}

/// One violation of a schema, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Path of the offending value below the validated object (`acme.tier`, `windows[0]`), empty
    /// for the object itself.
    pub(crate) path: String,
    /// What is wrong, in the validator's words.
    pub(crate) message: String,
}

/// A compiled schema.
pub(crate) struct Schema {
    compiled: Box<dyn CompiledSchema>,
    /// The top-level properties it declares.
    properties: Vec<String>,
}

impl Schema {
    /// Compiles a schema from its JSON text.
    pub(crate) fn compile(text: &str) -> Result<Self, String> {
        Self::compile_with(validator(), text)
    }

    /// Compiles a schema from its JSON text with `validator` (none: refused).
    fn compile_with(validator: Option<&dyn SchemaValidator>, text: &str) -> Result<Self, String> {
        let schema: Value =
            serde_json::from_str(text).map_err(|e| format!("is not JSON text: {e}"))?;
        let validator = validator
            .ok_or_else(|| "cannot be checked: this build validates no JSON Schemas".to_owned())?;
        let compiled = validator.compile(&schema)?;
        let properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Self {
            compiled,
            properties,
        })
    }

    /// Every violation of the schema by `instance`, in the validator's order; a validator that
    /// fails is one violation of the whole instance.
    pub(crate) fn violations(&self, instance: &Value) -> Vec<Violation> {
        match self.compiled.violations(instance) {
            Ok(violations) => violations
                .into_iter()
                .map(|v| Violation {
                    path: dotted_path(instance, &v.instance_pointer),
                    message: v.message,
                })
                .collect(),
            Err(error) => vec![Violation {
                path: String::new(),
                message: format!("could not be checked against the schema: {error}"),
            }],
        }
    }
}

/// The schemas one policy declares, compiled.
pub(crate) struct PolicySchemas {
    /// Its settings' schema, if it declares one.
    pub(crate) settings: Option<Schema>,
    /// Its extension namespaces' schemas, by namespace.
    pub(crate) extensions: BTreeMap<String, Schema>,
}

impl PolicySchemas {
    /// Compiles the schemas a policy's metadata declares; the error names the schema.
    pub(crate) fn compile(metadata: &PolicyMetadata) -> Result<Self, String> {
        let settings = metadata
            .settings_schema
            .as_deref()
            .map(|text| Schema::compile(text).map_err(|e| format!("its settings schema {e}")))
            .transpose()?;
        let mut extensions = BTreeMap::new();
        for declared in &metadata.extensions {
            if !valid_namespace(&declared.namespace) {
                return Err(format!(
                    "it declares the extension namespace `{}`: a namespace is lowercase letters, digits, `_` and `-`, starting with a letter",
                    declared.namespace
                ));
            }
            let schema = Schema::compile(&declared.schema).map_err(|e| {
                format!(
                    "the schema of its extension namespace `{}` {e}",
                    declared.namespace
                )
            })?;
            if extensions
                .insert(declared.namespace.clone(), schema)
                .is_some()
            {
                return Err(format!(
                    "it declares the extension namespace `{}` twice",
                    declared.namespace
                ));
            }
        }
        Ok(Self {
            settings,
            extensions,
        })
    }

    /// The top-level properties the settings schema declares, or `None` without a settings
    /// schema (the policy then receives the whole shared `defaults` section, as before 0.3.0).
    pub(crate) fn declared_settings(&self) -> Option<&[String]> {
        self.settings
            .as_ref()
            .map(|schema| schema.properties.as_slice())
    }

    /// Checks settings against the settings schema, if one is declared; the error lists every
    /// violation with its field.
    pub(crate) fn check_settings(&self, settings: &Value) -> Result<(), String> {
        let Some(schema) = &self.settings else {
            return Ok(());
        };
        let violations = schema.violations(settings);
        if violations.is_empty() {
            return Ok(());
        }
        Err(violations
            .iter()
            .map(|v| {
                if v.path.is_empty() {
                    v.message.clone()
                } else {
                    format!("`{}`: {}", v.path, v.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; "))
    }
}

/// Whether `namespace` is a valid extension namespace: `[a-z][a-z0-9_-]*`.
pub(crate) fn valid_namespace(namespace: &str) -> bool {
    let mut chars = namespace.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The dotted field path (`windows[0].start`) of a JSON pointer (`/windows/0/start`) into
/// `instance`: an index into an array is written `[n]`, any other segment `.key`.
pub(crate) fn dotted_path(instance: &Value, pointer: &str) -> String {
    let mut path = String::new();
    let mut current = Some(instance);
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        match current {
            Some(Value::Array(items)) => {
                path.push('[');
                path.push_str(&segment);
                path.push(']');
                current = segment.parse::<usize>().ok().and_then(|i| items.get(i));
            }
            other => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&segment);
                current = other.and_then(|v| v.get(&segment));
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_become_dotted_paths() {
        let instance = json!({"windows": [{"start": 1}], "a/b": {"0": true}});
        assert_eq!(dotted_path(&instance, ""), "");
        assert_eq!(
            dotted_path(&instance, "/windows/0/start"),
            "windows[0].start"
        );
        assert_eq!(dotted_path(&instance, "/a~1b/0"), "a/b.0");
    }

    #[test]
    fn namespaces_are_lowercase_identifiers() {
        assert!(valid_namespace("acme"));
        assert!(valid_namespace("acme_release-2"));
        assert!(!valid_namespace(""));
        assert!(!valid_namespace("Acme"));
        assert!(!valid_namespace("1acme"));
        assert!(!valid_namespace("acme.release"));
    }

    #[cfg(feature = "json-schema")]
    #[test]
    fn violations_name_the_field() {
        let schema = Schema::compile(
            r#"{"type":"object","properties":{"tier":{"enum":["gold","silver"]}},"additionalProperties":false}"#,
        )
        .unwrap();
        let violations = schema.violations(&json!({"tier": "bronze", "extra": 1}));
        assert_eq!(violations.len(), 2, "{violations:?}");
        assert!(violations.iter().any(|v| v.path == "tier"));
        assert!(violations.iter().any(|v| v.path.is_empty()));
        let refusal = |text: &str| Schema::compile(text).err().unwrap_or_default();
        assert!(refusal("{").contains("not JSON"));
        assert!(refusal(r#"{"type": 5}"#).contains("not a valid JSON Schema"));
    }

    /// A validator that compiles anything and then fails, or refuses to compile.
    struct Broken {
        compiles: bool,
    }

    struct Failing;

    impl SchemaValidator for Broken {
        fn compile(&self, _schema: &Value) -> Result<Box<dyn CompiledSchema>, String> {
            if self.compiles {
                Ok(Box::new(Failing))
            } else {
                Err("is not a valid JSON Schema: refused".into())
            }
        }
    }

    impl CompiledSchema for Failing {
        fn violations(&self, _instance: &Value) -> Result<Vec<SchemaViolation>, String> {
            Err("the validator threw".into())
        }
    }

    #[test]
    fn a_failing_validator_is_a_violation_and_no_validator_a_refusal() {
        let schema = Schema::compile_with(Some(&Broken { compiles: true }), "{}").unwrap();
        let violations = schema.violations(&json!({"tier": "gold"}));
        assert_eq!(violations.len(), 1);
        assert!(violations[0].path.is_empty());
        assert!(violations[0].message.contains("the validator threw"));
        let refused = Schema::compile_with(Some(&Broken { compiles: false }), "{}").err();
        assert_eq!(
            refused.as_deref(),
            Some("is not a valid JSON Schema: refused")
        );
        let none = Schema::compile_with(None, "{}").err().unwrap_or_default();
        assert!(none.contains("validates no JSON Schemas"), "{none}");
    }
}
