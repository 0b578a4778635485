#!/bin/sh
# Starts one test Kubernetes API server (etcd + kube-apiserver, the corpus CRDs installed) in the
# foreground, with the same code the tests use, and prints its kubeconfigs and `export KUBECONFIG=…`.
# Ctrl-C stops it and removes its data.
#   scripts/start-cluster.sh [name] [--json] [--no-crds]
set -eu
cd "$(dirname "$0")/.."
command -v openssl >/dev/null 2>&1 || { echo "missing openssl: run scripts/install-deps.sh" >&2; exit 1; }
for tool in etcd kube-apiserver; do
  bash scripts/tools/path.sh "$tool" >/dev/null 2>&1 || { echo "$tool is not built: run bash scripts/tools/build.sh $tool" >&2; exit 1; }
done
exec npx --no-install node test/support/start-cluster-cli.ts "$@"
