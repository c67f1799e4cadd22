#!/usr/bin/env bash
# Prepares this machine to build and test Realm, offline but for Debian's
# apt repositories and the Go module proxy. Idempotent and quiet when there is
# nothing to do (set BOOTSTRAP_VERBOSE=1 to see each step).
#
#  1. Debian packages: Bazel 4.2.3 (bazel-bootstrap) and the rule sets it
#     needs, protoc and the well-known protos, patch.
#  2. rules_go v0.34.0 and gazelle v0.27.0 from the Go module proxy, copied into
#     the ignored .bazeldeps/ and patched with third_party/; the stand-ins of
#     third_party/shims/ beside them; the pinned protoc-gen-go in .bazeldeps/bin.
#     Rebuilt only when a version, a patch, a shim or this script changes.
#  3. .bazelrc.local (ignored, imported by .bazelrc): this machine's paths and
#     a disk cache of build results shared by every clone on the machine.
#  4. go mod download: go_repository reads the host module cache
#     (GO_REPOSITORY_USE_HOST_CACHE=1 in .bazelrc), so Bazel never downloads.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.bazeldeps"
GOROOT_DIR="${GOROOT_DIR:-/usr/local/go}"
RULES_GO_VERSION=v0.34.0
GAZELLE_VERSION=v0.27.0
PROTOC_GEN_GO_VERSION=v1.36.12 # keep equal to google.golang.org/protobuf in go.mod
RULES_GO_PATCH="$ROOT/third_party/rules_go/rules_go-$RULES_GO_VERSION-offline-go1.26.patch"
GAZELLE_PATCH="$ROOT/third_party/bazel_gazelle/bazel-gazelle-$GAZELLE_VERSION-offline.patch"
SHIMS="$ROOT/third_party/shims"
export PATH="$GOROOT_DIR/bin:$PATH"

say() { [ -z "${BOOTSTRAP_VERBOSE:-}" ] || echo "bootstrap: $*"; }
command -v go >/dev/null || { echo "bootstrap: no Go at $GOROOT_DIR (set GOROOT_DIR)" >&2; exit 1; }

# --- 1. Debian packages ------------------------------------------------------
APT_PKGS=(bazel-bootstrap bazel-skylib bazel-rules-java bazel-rules-proto
          protobuf-compiler libprotobuf-dev patch)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 2. rules_go, gazelle, shims, protoc-gen-go into .bazeldeps/ -------------
stamp="$( { cat "$0" "$RULES_GO_PATCH" "$GAZELLE_PATCH"; find "$SHIMS" -type f | sort | xargs cat; go version; } | sha256sum | cut -c1-16)"
if [ "$(cat "$DEPS/.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "bootstrap: preparing .bazeldeps (rules_go $RULES_GO_VERSION, gazelle $GAZELLE_VERSION)"
  rm -rf "$DEPS"
  mkdir -p "$DEPS/bin"
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  moddir() { # module@version -> its extracted directory in the module cache
    (cd "$tmp" && go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  }
  fetch() { # module@version dest patch
    local d; d="$(moddir "$1")"
    [ -n "$d" ] || { echo "bootstrap: cannot download $1" >&2; exit 1; }
    cp -r "$d" "$2"
    chmod -R u+w "$2"
    (cd "$2" && patch -s -p1 < "$3")
    # Module zips do not keep file modes.
    find "$2" -name '*.sh' -exec chmod +x {} +
  }
  fetch "github.com/bazelbuild/rules_go@$RULES_GO_VERSION" "$DEPS/io_bazel_rules_go" "$RULES_GO_PATCH"
  fetch "github.com/bazelbuild/bazel-gazelle@$GAZELLE_VERSION" "$DEPS/bazel_gazelle" "$GAZELLE_PATCH"
  # go_repository_tools builds gazelle in GOPATH mode and expects the vendor/
  # tree that GitHub release archives carry (module zips do not).
  (cd "$DEPS/bazel_gazelle" && GOFLAGS=-mod=mod go mod vendor 2>"$tmp/vendor.log") ||
    { cat "$tmp/vendor.log" >&2; exit 1; }

  for s in rules_cc remote_coverage_tools com_google_protobuf; do
    cp -r "$SHIMS/$s" "$DEPS/$s"
  done
  mkdir -p "$DEPS/com_google_protobuf/src/google/protobuf"
  cp /usr/include/google/protobuf/*.proto "$DEPS/com_google_protobuf/src/google/protobuf/"

  GOBIN="$DEPS/bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
  echo "$stamp" > "$DEPS/.stamp"
  # An existing output base keeps the gazelle binary it built from the old
  # sources: have Bazel rebuild it (a fresh clone has nothing to refresh).
  if [ -L "$ROOT/bazel-out" ]; then
    (cd "$ROOT" && bazel sync --only=bazel_gazelle_go_repository_tools >/dev/null 2>&1) || true
  fi
fi

# --- 3. machine-local Bazel settings ------------------------------------------
local_rc="$(cat <<RC
# Written by tools/bootstrap.sh for this machine; imported by .bazelrc. Do not commit.
$(for cmd in build query fetch sync; do
  printf '%s --repo_env=%s\n' \
    "$cmd" "GOROOT=$GOROOT_DIR" \
    "$cmd" "PATH=$GOROOT_DIR/bin:/usr/local/bin:/usr/bin:/bin" \
    "$cmd" "GOPATH=$(go env GOPATH)" \
    "$cmd" "GOMODCACHE=$(go env GOMODCACHE)" \
    "$cmd" "GOPROXY=$(go env GOPROXY)"
done)
# Action results shared by every clone on this machine (CI clones anew).
build --disk_cache=${REALM_BAZEL_DISK_CACHE:-$HOME/.cache/realm/bazel-disk}
RC
)"
if [ "$(cat "$ROOT/.bazelrc.local" 2>/dev/null)" != "$local_rc" ]; then
  say "writing .bazelrc.local"
  printf '%s\n' "$local_rc" > "$ROOT/.bazelrc.local"
fi

# --- 4. the host module cache ------------------------------------------------
(cd "$ROOT" && go mod download)
say "done: bazel $(dpkg-query -W -f='${Version}' bazel-bootstrap), $(go version | cut -d' ' -f3), rules_go $RULES_GO_VERSION, gazelle $GAZELLE_VERSION"
