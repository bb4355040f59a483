//! `tollgate`: evaluates a change manifest with the SOX, HIPAA and PCI DSS policy components (or any
//! other policy component) and exits with a code that a pipeline can gate on. See
//! [`tollgate::exit`] for the exit codes.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    tollgate::exit::code(cli::main())
}
