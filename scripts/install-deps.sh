#!/bin/sh
# Installs the system tools the integration tests start: docker-registry (distribution 2.8),
# htpasswd, openssl, jq (a --help example pipes into it), tinyproxy and ip (iproute2: the proxy
# tests' forward proxy and test host), and Debian's kubectl (kubernetes-client) for the
# plugin-lookup test. Idempotent; quiet on success; prints apt's output only when it fails.
set -eu
missing=""
for tool in docker-registry htpasswd openssl jq tinyproxy ip kubectl; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! {
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    docker-registry apache2-utils openssl jq tinyproxy iproute2 ca-certificates $(command -v kubectl >/dev/null 2>&1 || echo kubernetes-client)
} >"$log" 2>&1; then
  echo "install-deps: apt-get failed (missing:$missing)" >&2
  cat "$log" >&2
  exit 1
fi
for tool in docker-registry htpasswd openssl jq tinyproxy ip kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-deps: $tool still missing after install" >&2; exit 1; }
done
