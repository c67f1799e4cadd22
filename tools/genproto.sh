#!/usr/bin/env bash
# Regenerates every .pb.go beside its .proto with Debian's protoc and the
# pinned protoc-gen-go (installed into .bazeldeps/bin by tools/bootstrap.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PLUGIN="$ROOT/.bazeldeps/bin/protoc-gen-go"
[ -x "$PLUGIN" ] || { echo "genproto: $PLUGIN missing; run tools/bootstrap.sh" >&2; exit 1; }
cd "$ROOT/proto"
mapfile -t files < <(find . -name '*.proto' | sed 's|^\./||' | sort)
protoc --plugin=protoc-gen-go="$PLUGIN" --go_out=. --go_opt=paths=source_relative "${files[@]}"
