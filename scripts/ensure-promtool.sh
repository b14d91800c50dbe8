#!/usr/bin/env bash
# Builds Prometheus's promtool (module github.com/prometheus/prometheus, a pinned version from the Go
# module proxy) into .tools/bin/promtool, for test/ops/observability.test.ts, which runs
# `promtool check rules` on deploy/prometheus/alerts.yml and on every Grafana dashboard query.
# Idempotent: does nothing when the binary is there. Without Go the test skips that part and says so.
# Prometheus's module versions are v0.<minor>.<patch> for release 3.<minor>.<patch>: v0.316.0 is 3.16.0.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${PROMTOOL_VERSION:-v0.316.0}
BIN=.tools/bin/promtool
if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "promtool: $BIN"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "no Go toolchain: promtool not built; the observability test skips 'promtool check rules'" >&2
  exit 0
fi
mkdir -p .tools/bin
GOBIN="$(pwd)/.tools/bin" GOFLAGS=-buildvcs=false go install "github.com/prometheus/prometheus/cmd/promtool@${VERSION}"
echo "promtool ${VERSION}: $BIN"
