#!/usr/bin/env bash
# Builds, checks and tests the Rego policies with the pinned OPA in .tools/bin.
#
#   build  compiles every entrypoint listed in policies/entrypoints.json into one WebAssembly
#          module and writes the committed artefact: policies/build/policy.wasm and
#          policies/build/manifest.json (OPA version, entrypoints, sha256 of wasm and sources).
#   check  rebuilds into a temporary directory and fails when the committed artefact differs.
#          `opa build -t wasm` is byte-for-byte deterministic for the same OPA version, the same
#          source files and the same paths (the wasm embeds the source paths given to it, which
#          is why every build runs from the repository root with relative paths).
#   test   opa check --strict, opa fmt, then opa test with coverage; fails below 90 %.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

opa=.tools/bin/opa
out=policies/build
min_coverage=90
pinned=$(sed -n 's/^OPA_VERSION=v//p' scripts/install-tools.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() {
  echo "policies: $*" >&2
  exit 1
}

require_opa() {
  [[ -x $opa ]] || die "$opa is missing; run npm run tools:install"
  local version
  version=$("$opa" version | sed -n 's/^Version: //p')
  [[ $version == "$pinned" ]] || die "$opa is $version, the pin is $pinned; run npm run tools:install"
}

# Rego files that go into the bundle (tests excluded), in a stable order.
sources() {
  find policies -name '*.rego' ! -name '*_test.rego' ! -path "$out/*" | LC_ALL=C sort
}

# Every Rego file, tests included.
all_rego() {
  find policies -name '*.rego' ! -path "$out/*" | LC_ALL=C sort
}

# Writes policy.wasm and manifest.json into $1.
build_into() {
  local dest=$1
  local -a flags=()
  while IFS= read -r entrypoint; do flags+=(-e "$entrypoint"); done < <(
    node -e 'for (const e of Object.values(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")))) console.log(e)' \
      policies/entrypoints.json
  )
  local -a files
  mapfile -t files < <(sources)
  "$opa" build -t wasm "${flags[@]}" -o "$tmp/bundle.tar.gz" "${files[@]}"
  mkdir -p "$dest"
  # The bundle's member names are absolute; tar warns that it strips the leading slash. The wasm
  # is renamed into place so that a server watching the file never loads a half-written one.
  tar -xzOf "$tmp/bundle.tar.gz" /policy.wasm >"$dest/.policy.wasm.tmp" 2> >(grep -v 'Removing leading' >&2)
  mv "$dest/.policy.wasm.tmp" "$dest/policy.wasm"
  node - "$dest" "$pinned" policies/entrypoints.json "${files[@]}" <<'EOF'
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const [dest, opaVersion, entrypointsFile, ...files] = process.argv.slice(2);
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const manifest = {
  opa_version: opaVersion,
  entrypoints: JSON.parse(readFileSync(entrypointsFile, 'utf8')),
  wasm_sha256: sha256(`${dest}/policy.wasm`),
  sources: Object.fromEntries([entrypointsFile, ...files].map((f) => [f, sha256(f)])),
};
writeFileSync(`${dest}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
EOF
}

cmd_build() {
  build_into "$out"
  echo "policies: built $out/policy.wasm ($(sha256sum "$out/policy.wasm" | cut -c1-12)…)"
}

cmd_check() {
  local fresh=$tmp/fresh
  build_into "$fresh"
  local stale=0 file
  for file in policy.wasm manifest.json; do
    if [[ ! -f $out/$file ]]; then
      echo "policies: $out/$file is missing" >&2
      stale=1
    elif ! cmp -s "$out/$file" "$fresh/$file"; then
      echo "policies: $out/$file differs from a fresh build of the sources" >&2
      stale=1
    fi
  done
  ((stale == 0)) || die "the committed bundle is stale; run npm run policies:build"
  echo "policies: $out matches its sources"
}

cmd_test() {
  local -a files
  mapfile -t files < <(all_rego)
  "$opa" check --strict "${files[@]}"
  local unformatted
  unformatted=$("$opa" fmt --list "${files[@]}")
  [[ -z $unformatted ]] || die "not formatted (run $opa fmt -w policies): $unformatted"
  "$opa" test "${files[@]}"
  local report coverage
  report=$("$opa" test --coverage --format=json "${files[@]}")
  coverage=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).coverage.toFixed(1))' <<<"$report")
  echo "policies: coverage $coverage % (minimum $min_coverage %)"
  node -e 'process.exit(Number(process.argv[1]) >= Number(process.argv[2]) ? 0 : 1)' "$coverage" "$min_coverage" ||
    die "coverage $coverage % is below $min_coverage %"
}

require_opa
case ${1:-} in
  build) cmd_build ;;
  check) cmd_check ;;
  test) cmd_test ;;
  *) die "usage: scripts/policies.sh build|check|test" ;;
esac
