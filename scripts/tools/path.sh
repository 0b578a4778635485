#!/usr/bin/env bash
# Usage: scripts/tools/path.sh TOOL
# Prints the absolute path of the cached binary for TOOL (at the version pinned in
# build.sh) and exits 0; exits 1 (nothing on stdout) if it is not built. Never builds.
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: $0 TOOL" >&2; exit 2; }
# shellcheck source=build.sh
source "$(dirname "${BASH_SOURCE[0]}")/build.sh"
tool_version "$1" >/dev/null || { echo "unknown tool '$1' (known: ${ALL_TOOLS[*]})" >&2; exit 2; }
bin="$(tool_bin "$1")"
if [[ -x "$bin" ]]; then echo "$bin"; else echo "$1 $(tool_version "$1") not built: $bin" >&2; exit 1; fi
