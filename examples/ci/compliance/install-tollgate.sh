#!/usr/bin/env bash
# Installs the `tollgate` CLI in a CI job from the release tarball that `deploy/release.sh` builds
# (tollgate-<version>-x86_64-unknown-linux-gnu.tar.gz, published where your CI can download it).
#
#   TOLLGATE_RELEASE_URL     (CI variable, required) the tarball's URL (https://, or file:// on the runner)
#   TOLLGATE_RELEASE_SHA256  (optional) its pinned SHA-256; otherwise read from "$TOLLGATE_RELEASE_URL.sha256"
#   TOLLGATE_BIN_DIR         (optional) where to install [default: $HOME/.local/bin]
#
# Prints the directory it installed into, for PATH: `dir=$(bash install-tollgate.sh)` then
# `export PATH="$dir:$PATH"` (GitLab; not in one `export`, which would hide a failure), or
# `bash install-tollgate.sh >> "$GITHUB_PATH"` (GitHub Actions).
# Needs curl, tar and sha256sum. Fails (non-zero) on any download or checksum problem.
set -euo pipefail
url=${TOLLGATE_RELEASE_URL:?set the CI variable TOLLGATE_RELEASE_URL to the URL of the tollgate release tarball}
bin_dir=${TOLLGATE_BIN_DIR:-$HOME/.local/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

archive=$work/tollgate.tar.gz
curl -fsSL --retry 3 -o "$archive" "$url"
expected=${TOLLGATE_RELEASE_SHA256:-$(curl -fsSL --retry 3 "$url.sha256" | awk '{print $1}')}
echo "$expected  $archive" | sha256sum --check --quiet - >&2

tar -xzf "$archive" -C "$work"
mkdir -p "$bin_dir"
install -m 0755 "$work"/tollgate-*/tollgate "$bin_dir/tollgate"
"$bin_dir/tollgate" --version >&2
echo "$bin_dir"
