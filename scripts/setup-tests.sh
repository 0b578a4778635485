#!/usr/bin/env bash
# Everything the test suite needs that npm does not install: Debian packages (docker-registry,
# htpasswd, openssl, tinyproxy, iproute2, kubectl) and the Go peer tools, built from Go modules
# into the tool cache (${POLICYOCI_CACHE_DIR:-~/.cache/kubectl-policyoci}/tools). Idempotent: a
# warm machine passes through in about a second. Progress goes to stderr; stdout stays empty.
#
# `npm test` runs this first, so a fresh machine needs only `npm ci && npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tools the suite runs. One list: .ci/run and npm test both come here.
TEST_TOOLS=(oras kyverno validate-krew-manifest krew crane cosign cosign3 ggcr-registry k8s-yaml sigstore-fixture gatekeeper flux-source-controller flux-kustomize-controller etcd kube-apiserver kubectl kube-controller-manager)

start=$SECONDS
echo "[setup] system packages (docker-registry, htpasswd, openssl, jq, tinyproxy, iproute2, kubectl)" >&2
bash scripts/install-deps.sh
echo "[setup] Go peer tools: ${TEST_TOOLS[*]} (a cold build takes about 45 minutes on 2 cores)" >&2
bash scripts/tools/build.sh "${TEST_TOOLS[@]}" >/dev/null
echo "[setup] ready in $((SECONDS - start))s" >&2
