//! `tollgate new policy NAME --lang rust|js|python`: writes a working policy project (see
//! `tollgate_runtime::new_policy`) and says what to run next.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use tollgate_pipeline::exit;
use tollgate_runtime::{Language, Sdk};

use crate::common::{Failure, emit};

/// `tollgate new`.
#[derive(Debug, Subcommand)]
pub(crate) enum NewCommand {
    /// A policy project: one sample control, a settings schema, golden cases, a build script and
    /// a README, ready to build into `dist/NAME.wasm`.
    Policy(PolicyArgs),
}

/// Arguments of `tollgate new policy`.
#[derive(Debug, Args)]
pub(crate) struct PolicyArgs {
    /// The policy id: lowercase letters, digits and `-`, starting with a letter.
    name: String,
    /// The language of the policy.
    #[arg(long, value_enum, ignore_case = true)]
    lang: Lang,
    /// The project's directory (must not exist or be empty) [default: NAME].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Rust: a path dependency on this policy SDK (`crates/policy-sdk` of a Tollgate checkout)
    /// instead of a git dependency.
    #[arg(long, value_name = "PATH")]
    sdk_path: Option<PathBuf>,
}

/// A policy project's language.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Lang {
    /// Rust, over the policy SDK.
    Rust,
    /// JavaScript, with componentize-js.
    Js,
    /// Python, with componentize-py.
    Python,
}

/// Runs `tollgate new`.
pub(crate) fn run(command: &NewCommand) -> Result<u8, Failure> {
    let NewCommand::Policy(args) = command;
    let language = match args.lang {
        Lang::Rust => Language::Rust,
        Lang::Js => Language::JavaScript,
        Lang::Python => Language::Python,
    };
    let sdk = args.sdk_path.clone().map_or(Sdk::Git, Sdk::Path);
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    let made = tollgate_runtime::new_policy(&args.name, language, &dir, &sdk)?;
    let shown = made.dir.display();
    emit(&format!(
        "created policy `{}` in {shown} ({} files)\nnext: cd {shown} && ./build && tollgate test tests/cases --policy dist/{}.wasm\n",
        args.name,
        made.files.len(),
        args.name
    ));
    Ok(exit::APPROVED)
}
