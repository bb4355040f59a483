#!/usr/bin/env bash
# Prints the revision a pushed change is compared with (`tollgate manifest --base`):
#
#   change-base.sh BEFORE DEFAULT_BRANCH
#
# BEFORE is the commit the branch pointed to before the push (GitLab `CI_COMMIT_BEFORE_SHA`,
# GitHub `github.event.before`, Jenkins `GIT_PREVIOUS_SUCCESSFUL_COMMIT`; may be empty). It is the
# base when it is a commit of this repository other than HEAD. Otherwise (a new branch's all-zero
# SHA, a force-push that dropped it, a re-run where BEFORE is HEAD) the base is the merge base with
# origin/DEFAULT_BRANCH, and on the default branch itself (merge base == HEAD) HEAD's first parent:
# never HEAD, which would give an empty change. Needs the full history (fetch depth 0).
set -euo pipefail
before=${1:-}
default=${2:?usage: change-base.sh BEFORE DEFAULT_BRANCH}
head=$(git rev-parse HEAD)

if [[ -n $before && ! $before =~ ^0+$ ]] && git cat-file -e "$before^{commit}" 2>/dev/null \
    && [ "$(git rev-parse "$before^{commit}")" != "$head" ]; then
    echo "$before"
    exit 0
fi
# CI systems often fetch only the pipeline's branch: fetch the default branch's tip as well.
git fetch --quiet origin "+refs/heads/$default:refs/remotes/origin/$default" >&2 \
    || echo "change-base: could not fetch origin/$default; using the local copy" >&2
base=$(git merge-base HEAD "origin/$default" 2>/dev/null || true)
if [ -z "$base" ] || [ "$base" = "$head" ]; then
    base=$(git rev-parse --verify --quiet 'HEAD^1') \
        || { echo "change-base: HEAD is a root commit and there is no other base" >&2; exit 1; }
fi
echo "$base"
