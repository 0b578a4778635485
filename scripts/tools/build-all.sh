#!/usr/bin/env bash
# Usage: [POLICYOCI_TOOLS="oras crane"] scripts/tools/build-all.sh
# Builds the tools listed in POLICYOCI_TOOLS (space/comma separated) or all of them,
# in the canonical order, continuing past failures. stdout: one absolute binary path
# per successfully built tool; stderr: progress and per-tool timing. Exits 1 if any failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
order=(oras kyverno validate-krew-manifest crane etcd kube-apiserver kubectl zot)
if [[ -n "${POLICYOCI_TOOLS:-}" ]]; then
  read -r -a wanted <<<"${POLICYOCI_TOOLS//,/ }"
else
  wanted=("${order[@]}")
fi
failed=()
summary=()
for t in "${wanted[@]}"; do
  start=$SECONDS
  if "$here/build.sh" "$t"; then status=ok; else status=FAILED; failed+=("$t"); fi
  summary+=("$(printf '%-24s %-7s %5ss' "$t" "$status" "$((SECONDS - start))")")
done
{ echo "[tools] summary:"; printf '[tools]   %s\n' "${summary[@]}"; } >&2
[[ ${#failed[@]} -eq 0 ]] || { echo "[tools] failed: ${failed[*]}" >&2; exit 1; }
