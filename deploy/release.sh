#!/usr/bin/env bash
# Builds the release tarball of the `tollgate` CLI (the three built-in policy packs are embedded):
#
#   OUT/tollgate-<version>-x86_64-unknown-linux-gnu.tar.gz         the archive
#   OUT/tollgate-<version>-x86_64-unknown-linux-gnu.tar.gz.sha256  its SHA-256 (`sha256sum -c` format)
#
# The archive holds one directory, tollgate-<version>-x86_64-unknown-linux-gnu/, with `tollgate`,
# README.md, the book README links to (docs/) and NOTICE. Publish both files where your CI can download them (a generic package
# registry, an artifact store, any web server); the examples in examples/ci/ take the archive's URL
# from the CI variable TOLLGATE_RELEASE_URL and check it against the `.sha256` file beside it.
#
# Usage: deploy/release.sh [OUT]   (OUT defaults to dist/; cargo's target directory is honoured)
# The archive is reproducible for a given binary: sorted names, fixed owner, the commit's time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-dist}")
triple=x86_64-unknown-linux-gnu

# The policies are compiled to wasm32 by the CLI's build script.
rustup target add wasm32-unknown-unknown >/dev/null 2>&1
cargo build --release --locked -p tollgate
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
binary=$target_dir/release/tollgate
version=$("$binary" --version | awk '{print $2}')   # `tollgate 0.1.0`
[ -n "$version" ] || { echo "release: cannot read the version of $binary" >&2; exit 1; }

name=tollgate-$version-$triple
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
install -m 0755 "$binary" "$stage/$name/tollgate"
install -m 0644 README.md "$stage/$name/README.md"
install -d -m 0755 "$stage/$name/docs"
install -m 0644 docs/*.md "$stage/$name/docs/"
cat >"$stage/$name/NOTICE" <<NOTICE
Tollgate $version ($triple), built from commit $(git rev-parse HEAD 2>/dev/null || echo unknown).
Licensed under the Apache License, Version 2.0 (SPDX: Apache-2.0):
https://www.apache.org/licenses/LICENSE-2.0
The binary statically includes Rust crates under their own licenses (MIT, Apache-2.0 and
compatible); \`cargo metadata\` on the source tree lists them.
NOTICE

# Reproducible archive: the time of the commit, sorted entries, numeric root owner, no gzip name.
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
mkdir -p "$out"
tar --sort=name --mtime="@$mtime" --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$name" \
    | gzip -n -9 >"$out/$name.tar.gz"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "release: $out/$name.tar.gz"
cat "$out/$name.tar.gz.sha256"
