# Tollgate developer entry point. `just` lists the recipes.

# List the recipes.
default:
    @just --list --unsorted

# Evaluate an example manifest with the built-in SOX, HIPAA and PCI DSS packs.
[group('run')]
eval manifest="examples/manifests/business-logic-needs-tech-lead.yaml":
    cargo run -p tollgate -- eval {{manifest}}

# List the built-in policy packs.
[group('run')]
policies:
    cargo run -p tollgate -- policies

# Build the policy components (the host's build script compiles and embeds them).
[group('build')]
build-policies:
    rustup target add wasm32-unknown-unknown
    cargo build -p tollgate

# Build the release CLI with the embedded policy packs.
[group('build')]
build:
    rustup target add wasm32-unknown-unknown
    cargo build --release -p tollgate

# Run every test, as README says: setup, every Rust test, then the golden corpus in the other engines.
[group('test')]
test:
    bash tests/setup
    cargo test --workspace
    bash tests/engines/run

# Install what the tests need (wasm32 target, Debian, npm and Python packages).
[group('test')]
setup:
    bash tests/setup

# Fuzz one target for SECONDS with libFuzzer (nightly, cargo-fuzz; targets: manifest, waivers, settings, ticket, junit, sarif, audit_log, gateway, policy).
[group('test')]
fuzz target seconds="60":
    bash fuzz/run {{target}} {{seconds}}

# Run the stable property campaign on the fuzz harnesses (seeds, kept crashes, mutations).
[group('test')]
fuzz-campaign:
    cargo test -p tollgate-fuzz-harness

# Run only the golden cases, through the native crates and through the components.
[group('test')]
golden:
    cargo test -p tollgate-conformance

# Check formatting and lints as CI does.
[group('lint')]
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
[group('lint')]
fmt:
    cargo fmt --all

# Print the performance table (README "Performance"): packs natively, as components with fresh and reused instances, against regorus, the CLI and the sizes, in one run.
[group('bench')]
bench:
    cargo build --release -p tollgate
    cargo bench -p tollgate-conformance --bench evaluate

# Load-test `tollgate serve` with wrk: decisions/s, latency and CPU per decision at 1, 64 and 1000 connections, against the in-process decision time, with the gateway goals (TOLLGATE_BINARY skips the release build).
[group('bench')]
load seconds="10":
    bash tests/load/run {{seconds}}

# Regenerate the manifest JSON Schema.
[group('build')]
schema:
    cargo run -q -p tollgate-manifest --example print_schema > crates/manifest/schema/manifest.schema.json

# Build the browser preview into web/pkg (installs the matching wasm-bindgen-cli); then open web/index.html.
[group('build')]
web:
    bash web/build.sh

# Build each policy as an Extism plugin (target/policy-build/wasm32-unknown-unknown/policy/tollgate_extism_*.wasm).
[group('build')]
extism:
    cargo build --target wasm32-unknown-unknown --profile policy --target-dir target/policy-build -p tollgate-extism-sox -p tollgate-extism-hipaa -p tollgate-extism-pci -p tollgate-extism-fda

# Install what the engine tests need: Chromium, the npm packages, the Python packages.
[group('test')]
engines-setup:
    bash tests/engines/setup

# Test the browser preview in Chromium, every golden case compared with the host's decision.
[group('test')]
test-web: engines-setup
    bash tests/engines/run browser

# Run the golden cases in every other engine: browser, jco, Python wasmtime, Extism.
[group('test')]
test-engines: engines-setup
    bash tests/engines/run

# Take the README screenshot of the preview page (web/preview.png).
[group('build')]
screenshot: web engines-setup
    cd tests/engines && TOLLGATE_SCREENSHOT=../../web/preview.png node --test --test-name-pattern=screenshot browser.test.mjs

# Check the dependency graph with cargo-deny: licences, bans, sources (offline, as CI does).
[group('lint')]
deny:
    bash .ci/supply-chain

# Check the dependency graph against the RustSec advisories (needs the network; not run in CI).
[group('lint')]
advisories:
    cargo deny check advisories

# Write the CycloneDX SBOM of the release binary to target/sbom/ (installs cargo-cyclonedx if missing).
[group('build')]
sbom:
    bash .ci/sbom

# Run exactly what CI runs.
[group('test')]
ci:
    bash .ci/run
