//! Writes a target's seed corpus into a directory: `cargo run -p tollgate-fuzz-harness --example
//! seeds -- TARGET DIR` (what `fuzz/run` does before fuzzing).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, dir] = args.as_slice() else {
        eprintln!("usage: seeds TARGET DIR");
        return ExitCode::from(2);
    };
    if !tollgate_fuzz_harness::TARGETS.contains(&target.as_str()) {
        eprintln!(
            "error: unknown target `{target}` (known: {})",
            tollgate_fuzz_harness::TARGETS.join(", ")
        );
        return ExitCode::from(2);
    }
    let seeds = tollgate_fuzz_harness::seeds(target);
    let regressions = tollgate_fuzz_harness::regressions(target);
    for (n, seed) in seeds
        .iter()
        .chain(regressions.iter().map(|(_, bytes)| bytes))
        .enumerate()
    {
        let path = std::path::Path::new(dir).join(format!("seed-{n:04}"));
        if let Err(error) = std::fs::write(&path, seed) {
            eprintln!("error: cannot write `{}`: {error}", path.display());
            return ExitCode::from(1);
        }
    }
    println!(
        "{} seeds for `{target}` in {dir}",
        seeds.len() + regressions.len()
    );
    ExitCode::SUCCESS
}
