#!/bin/sh
# Starts one test registry in the foreground, with the same code the tests use, and prints its host
# and credentials. Ctrl-C stops it and removes its data.
#   scripts/start-registry.sh [open|htpasswd|token|tls] [--json]
set -eu
cd "$(dirname "$0")/.."
for tool in docker-registry htpasswd openssl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 1; }
done
exec npx --no-install node test/support/start-registry-cli.ts "$@"
