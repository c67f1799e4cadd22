#!/usr/bin/env bash
# Regenerates the Bazel side from the Go side: deps.bzl from go.mod (gazelle
# update-repos) and one BUILD.bazel per Go package (gazelle).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bazel run //:gazelle -- update-repos -from_file=go.mod -to_macro=deps.bzl%go_dependencies \
  -prune -build_file_proto_mode=disable_global 2>&1 | { grep -v '^INFO\|^Loading\|^Analyzing\|^Target\|^  bazel-bin\|^Elapsed\|^Build completed\|^Executing tool' || true; } >&2
bazel run //:gazelle 2>&1 | { grep -v '^INFO\|^Loading\|^Analyzing\|^Target\|^  bazel-bin\|^Elapsed\|^Build completed\|^Executing tool' || true; } >&2
