//! Prints the manifest JSON Schema (`cargo run -p tollgate-manifest --example print_schema`).

fn main() {
    print!("{}", tollgate_manifest::Manifest::generate_json_schema());
}
