#!/usr/bin/env bash
# Make a Pulumi engine available and print the directory that holds it.
#
#   tools/engine.sh               the directory, for scripts
#   tools/engine.sh --print-path  one line, `export PATH="<dir>:$PATH"`, and
#                                 nothing else: eval "$(tools/engine.sh --print-path)"
#                                 gives a shell the engine without this repo's
#                                 virtualenv, backend or Pulumi home (make env).
#
# `pip install pulumi` ships only the SDK, and the engine's npm/PyPI wrappers
# download release binaries at run time. So, unless a new enough `pulumi` is
# already on PATH, build the CLI and the Python language host from Pulumi's Go
# modules, pinned and checksum-verified by the wrapper modules under engine/,
# into a cache outside the repo keyed by version (a warm machine pays nothing).
set -euo pipefail

case "${1:-}" in
  "") print_path= ;;
  --print-path) print_path=1 ;;
  *) echo "usage: tools/engine.sh [--print-path]" >&2; exit 2 ;;
esac
found() {
  if [ -n "$print_path" ]; then
    printf 'export PATH="%s:$PATH"\n' "$1"
  else
    echo "$1"
  fi
  exit 0
}

here=$(cd "$(dirname "$0")/.." && pwd)
# The versions are read from the committed go.mod files: they are the pin.
module_version() { awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { print ($1 == "require" ? $3 : $2); exit }' "$1"; }
PULUMI_VERSION=$(module_version "$here/engine/cli/go.mod" github.com/pulumi/pulumi/pkg/v3)
LANGHOST_SDK_VERSION=$(module_version "$here/engine/language-python/go.mod" github.com/pulumi/pulumi/sdk/v3)
cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/fsx-backup-provider
bin_dir=$cache_root/pulumi-$PULUMI_VERSION-langhost-$LANGHOST_SDK_VERSION/bin

version_at_least() { # $1 >= $2, both vX.Y.Z
  [ "$(printf '%s\n%s\n' "${1#v}" "${2#v}" | sort -V | head -n1)" = "${2#v}" ]
}

# A normal user's machine: an installed Pulumi of at least the pinned version,
# with its Python language host beside it, is used as it is.
if [ -z "${FSX_FORCE_ENGINE_BUILD:-}" ] && existing=$(command -v pulumi 2>/dev/null) \
   && [ "$(dirname "$existing")" != "$bin_dir" ]; then
  have=$(pulumi version 2>/dev/null || true)
  if [ -n "$have" ] && version_at_least "$have" "$PULUMI_VERSION" \
     && command -v pulumi-language-python >/dev/null 2>&1; then
    found "$(dirname "$existing")"
  fi
fi

if [ -x "$bin_dir/pulumi" ] && [ -x "$bin_dir/pulumi-language-python" ] \
   && [ -x "$bin_dir/pulumi-resource-pulumi-python" ] && [ -x "$bin_dir/pulumi-language-python-exec" ]; then
  found "$bin_dir"
fi

command -v go >/dev/null 2>&1 || { echo "engine.sh: Go is needed to build the Pulumi engine; install Go >= 1.26" >&2; exit 1; }
mkdir -p "$bin_dir"
tmp=$(mktemp -d "$cache_root/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
echo "engine.sh: building Pulumi $PULUMI_VERSION from Go modules into $bin_dir (first run only)" >&2
version_flag=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
(cd "$here/engine/cli" && GOFLAGS=-mod=readonly go build -trimpath \
   -ldflags "-s -w -X $version_flag=$PULUMI_VERSION" -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
(cd "$here/engine/language-python" && GOFLAGS=-mod=readonly go build -trimpath \
   -ldflags "-s -w -X $version_flag=$LANGHOST_SDK_VERSION" -o "$tmp/pulumi-language-python" \
   github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
# The two shell shims ship in release tarballs, not in a Go binary; they are in
# the sdk/v3 module sources the builds above just verified and cached.
cli_sdk=$(cd "$here/engine/cli" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
host_sdk=$(cd "$here/engine/language-python" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$cli_sdk/python/dist/pulumi-resource-pulumi-python" "$tmp/"
install -m 0755 "$host_sdk/python/cmd/pulumi-language-python-exec" "$tmp/"
mv "$tmp"/* "$bin_dir/"
echo "engine.sh: built in $(( $(date +%s) - start ))s" >&2
found "$bin_dir"
