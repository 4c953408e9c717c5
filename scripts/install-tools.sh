#!/usr/bin/env bash
# Installs the Go-built tools the tests and the policy build need into .tools/bin, at pinned
# versions, through the Go module proxy. Re-running is cheap: a tool already at its pinned
# version is left alone.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
mkdir -p "$bin"

OPA_VERSION=v1.4.2

command -v go >/dev/null || { echo "install-tools: Go is required (https://go.dev/dl/)" >&2; exit 1; }

if ! "$bin/opa" version 2>/dev/null | grep -qx "Version: ${OPA_VERSION#v}"; then
  echo "install-tools: installing OPA $OPA_VERSION"
  GOBIN="$bin" go install "github.com/open-policy-agent/opa@$OPA_VERSION"
fi

# FerretDB is built from a pinned tools module (scripts/ferretdb: go.mod + go.sum) instead of
# `go install …@version`: its release embeds build/version/version.txt, which the module zip on the
# proxy lacks, so the binary would panic at start. The build vendors the module, writes that file
# and builds from the vendor tree; nothing else of FerretDB is changed.
ferretdb_dir="$root/scripts/ferretdb"
FERRETDB_VERSION=$(cd "$ferretdb_dir" && go list -m -f '{{.Version}}' github.com/FerretDB/FerretDB)
if ! "$bin/ferretdb" --version 2>/dev/null | grep -qx "version: $FERRETDB_VERSION"; then
  echo "install-tools: building FerretDB $FERRETDB_VERSION"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$ferretdb_dir/go.mod" "$ferretdb_dir/go.sum" "$ferretdb_dir/tools.go" "$work/"
  (
    cd "$work"
    go mod vendor
    printf '%s\n' "$FERRETDB_VERSION" > vendor/github.com/FerretDB/FerretDB/build/version/version.txt
    go build -mod=vendor -o "$bin/ferretdb" github.com/FerretDB/FerretDB/cmd/ferretdb
  )
fi

# Chromium for the browser end-to-end tests and the README screenshots, from the distribution's
# package (Debian/Ubuntu), driven by playwright-core. Those tests fail, rather than skip, without it.
if [ ! -x /usr/bin/chromium ]; then
  echo "install-tools: installing Chromium (apt-get)"
  command -v apt-get >/dev/null || { echo "install-tools: /usr/bin/chromium is missing and apt-get is not available; install Chromium" >&2; exit 1; }
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-tools: installing Chromium needs root (or sudo)" >&2; exit 1; }
    as_root=sudo
  fi
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
