#!/usr/bin/env bash
# Builds Docker Compose (the real implementation of `docker compose`, module github.com/docker/compose/v5)
# from the Go module proxy into .tools/bin/docker-compose, for test/ops/docker-compose.test.ts, which runs
# `docker-compose config` on docker-compose.yml with it (no container engine needed for `config`).
# `go install …@version` refuses this module (its go.mod has exclude directives), so the module is
# downloaded and built as the main module. Needs Go >= the module's go line (v5.6.0: go 1.26.8).
# Idempotent: does nothing when the binary is there. Without Go the compose test skips that part.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${COMPOSE_VERSION:-v5.6.0}
BIN=.tools/bin/docker-compose
if [ -x "$BIN" ] && "$BIN" version >/dev/null 2>&1; then
  echo "docker-compose: $BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no Go toolchain: Docker Compose not built; the compose test skips 'docker compose config'" >&2
  exit 0
fi
dir=$(go mod download -json "github.com/docker/compose/v5@${VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$dir" ] || { echo "go mod download did not report the module directory" >&2; exit 1; }
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$dir" "$work/compose"
chmod -R u+w "$work/compose"
mkdir -p .tools/bin
out="$(pwd)/$BIN"
(cd "$work/compose" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-X github.com/docker/compose/v5/internal.Version=${VERSION}" -o "$out" ./cmd)
echo "docker-compose ${VERSION}: $BIN ($("$BIN" version))"
