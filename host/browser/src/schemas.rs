//! The pipeline's JSON Schema validator in the page: the schemas policies declare (settings,
//! manifest extensions) are checked by JavaScript (`web/schemas.mjs`, bundled by `web/build.sh`
//! into `pkg/tollgate_schemas.js`, which sets `self.tollgateSchemas`), so that the WebAssembly
//! carries no JSON Schema engine (the `jsonschema` crate and its regular expression engines were
//! three quarters of the module). Native builds (the tests) use the `jsonschema` crate instead.
//!
//! Fail-closed as the crate is: a schema the script refuses fails the policy declaring it, and a
//! script that is missing or throws while validating makes the instance invalid, never valid.

/// Makes the page's validator the pipeline's, once per instance; native builds keep the crate.
pub(crate) fn install() {
    #[cfg(target_arch = "wasm32")]
    {
        // Every call after the first is refused: the same validator is installed already.
        let _: Result<(), tollgate_pipeline::AlreadyInstalled> =
            tollgate_pipeline::install_schema_validator(Box::new(page::PageSchemas));
    }
}

#[cfg(target_arch = "wasm32")]
mod page {
    use serde::Deserialize;
    use serde_json::Value;
    use tollgate_pipeline::{CompiledSchema, SchemaValidator, SchemaViolation};
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// Throws an `Error` saying why the schema (JSON text) is not usable.
        #[wasm_bindgen(catch, js_namespace = tollgateSchemas, js_name = compile)]
        fn compile_schema(schema: &str) -> Result<(), JsValue>;

        /// The violations of the schema by the instance (both JSON text), as JSON text:
        /// `[{pointer, message}]`.
        #[wasm_bindgen(catch, js_namespace = tollgateSchemas, js_name = validate)]
        fn validate_instance(schema: &str, instance: &str) -> Result<String, JsValue>;
    }

    /// The page's validator, `self.tollgateSchemas`.
    pub(super) struct PageSchemas;

    /// A schema the page's validator accepted, as JSON text (the script keeps it compiled).
    struct PageSchema {
        text: String,
    }

    /// One violation, as the script reports it.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Found {
        pointer: String,
        message: String,
    }

    impl SchemaValidator for PageSchemas {
        fn compile(&self, schema: &Value) -> Result<Box<dyn CompiledSchema>, String> {
            let text = schema.to_string();
            compile_schema(&text).map_err(|thrown| refusal(&thrown))?;
            Ok(Box::new(PageSchema { text }))
        }
    }

    impl CompiledSchema for PageSchema {
        fn violations(&self, instance: &Value) -> Result<Vec<SchemaViolation>, String> {
            let answer = validate_instance(&self.text, &instance.to_string())
                .map_err(|thrown| crate::foreign::describe_thrown(&thrown))?;
            let found: Vec<Found> = serde_json::from_str(&answer)
                .map_err(|e| format!("the page's validator answered no list of violations: {e}"))?;
            Ok(found
                .into_iter()
                .map(|f| SchemaViolation {
                    instance_pointer: f.pointer,
                    message: f.message,
                })
                .collect())
        }
    }

    /// The script's reason (an `Error`'s message, which completes "its settings schema ..."), or
    /// what was thrown instead.
    fn refusal(thrown: &JsValue) -> String {
        match thrown.dyn_ref::<js_sys::Error>() {
            Some(error) if error.name() == "Error" => String::from(error.message()),
            _ => format!(
                "could not be compiled by the page's validator: {}",
                crate::foreign::describe_thrown(thrown)
            ),
        }
    }
}
