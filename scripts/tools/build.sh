#!/usr/bin/env bash
# Build the Go peer tools used by tests/benchmarks, cached outside the repo.
#
# Usage: scripts/tools/build.sh TOOL...
#   Tools: oras kyverno validate-krew-manifest krew crane etcd kube-apiserver kubectl kube-controller-manager zot
#          cosign cosign3 ggcr-registry k8s-yaml sigstore-fixture gatekeeper
#          flux-source-controller flux-kustomize-controller
#   stdout: absolute path of each binary, one per line, in argument order (nothing else).
#   stderr: progress.
#
# Cache: ${POLICYOCI_CACHE_DIR:-$HOME/.cache/kubectl-policyoci}/tools/<tool>-<version>/<binary>
# Wrapper modules live in .../work/<recipe>-<version>/ (recreated on every build).
# A build writes into a temp dir next to the cache entry and is renamed into place
# only on success, so an interrupted build never leaves a half-populated cache entry.
#
# Env:
#   POLICYOCI_CACHE_DIR   cache root (default $HOME/.cache/kubectl-policyoci)
#   POLICYOCI_BUILD_JOBS  go build -p value (default 2)
#   POLICYOCI_REBUILD=1   ignore an existing cache entry and rebuild
#   GOTOOLCHAIN_OVERRIDE  GOTOOLCHAIN value (default: local; no pinned module needs newer)
set -euo pipefail

# ---------------------------------------------------------------------------
# Pinned versions: the ONLY place versions are set.  path.sh reads this block.
# ---------------------------------------------------------------------------
ORAS_VERSION=v1.3.6                 # oras.land/oras
KYVERNO_VERSION=v1.19.1             # github.com/kyverno/kyverno
KREW_VERSION=v0.4.4                 # sigs.k8s.io/krew (v0.4.5 is not served by the proxy here)
CRANE_VERSION=v0.22.1               # github.com/google/go-containerregistry
ETCD_VERSION=v3.6.16                # go.etcd.io/etcd/server/v3
KUBERNETES_VERSION=v1.35.4          # k8s.io/kubernetes (kube-apiserver, kubectl, kube-controller-manager)
ZOT_VERSION=v2.1.8                  # zotregistry.dev/zot/v2 (proxy refuses this host here)
COSIGN_VERSION=v2.6.5               # github.com/sigstore/cosign/v2 (newest v2; legacy .sig tag format by default)
COSIGN3_VERSION=v3.1.3              # github.com/sigstore/cosign/v3 (Sigstore bundles as OCI 1.1 referrers by default)
GGCR_REGISTRY_VERSION=v0.22.1       # github.com/google/go-containerregistry/pkg/registry (referrers API on)
SIGSTORE_GO_VERSION=v1.2.2          # github.com/sigstore/sigstore-go (the one cosign v3.1.3 uses): sigstore-fixture's test CA
K8S_YAML_VERSION=v0.35.4            # k8s.io/cli-runtime + k8s.io/apimachinery as kubectl v1.35.4 uses them
SIGS_YAML_VERSION=v1.6.0            # sigs.k8s.io/yaml (over go.yaml.in/yaml/v2), as kubernetes v1.35.4 pins it
GATEKEEPER_VERSION=v3.23.1          # github.com/open-policy-agent/gatekeeper/v3 (newest the proxy serves on 2026-12-06)
# Flux: the newest that builds here on 2026-12-06. v1.10.0/v1.10.1 of both need Go 1.27 (fetchable as
# GOTOOLCHAIN=go1.27.3) but import fluxcd/pkg versions the proxy refuses (apis/crypto v0.5.0, spiffe
# v0.2.0, masktoken v0.10.0, …); v1.9.6 needs Go 1.26 and only one refused module (artifact, below).
FLUX_SOURCE_CONTROLLER_VERSION=v1.9.6     # github.com/fluxcd/source-controller
FLUX_ARTIFACT_VERSION=v0.18.1             # github.com/fluxcd/pkg/artifact for it: v0.18.3 (its pin) and v0.18.2 are refused
FLUX_KUSTOMIZE_CONTROLLER_VERSION=v1.9.6  # github.com/fluxcd/kustomize-controller
# ---------------------------------------------------------------------------

ALL_TOOLS=(oras kyverno validate-krew-manifest krew crane etcd kube-apiserver kubectl kube-controller-manager zot cosign cosign3 ggcr-registry k8s-yaml sigstore-fixture gatekeeper flux-source-controller flux-kustomize-controller)

tool_version() {
  case "$1" in
    oras) echo "$ORAS_VERSION" ;;
    kyverno) echo "$KYVERNO_VERSION" ;;
    validate-krew-manifest|krew) echo "$KREW_VERSION" ;;
    crane) echo "$CRANE_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    kube-apiserver|kubectl|kube-controller-manager) echo "$KUBERNETES_VERSION" ;;
    zot) echo "$ZOT_VERSION" ;;
    cosign) echo "$COSIGN_VERSION" ;;
    cosign3) echo "$COSIGN3_VERSION" ;;
    ggcr-registry) echo "$GGCR_REGISTRY_VERSION" ;;
    gatekeeper) echo "$GATEKEEPER_VERSION" ;;
    flux-source-controller) echo "$FLUX_SOURCE_CONTROLLER_VERSION" ;;
    flux-kustomize-controller) echo "$FLUX_KUSTOMIZE_CONTROLLER_VERSION" ;;
    # Our own source: its hash is part of the version, so an edit rebuilds it.
    k8s-yaml) echo "$K8S_YAML_VERSION-$(sha256sum "$(dirname "${BASH_SOURCE[0]}")/k8s-yaml/main.go" | cut -c1-12)" ;;
    sigstore-fixture) echo "$SIGSTORE_GO_VERSION-$(sha256sum "$(dirname "${BASH_SOURCE[0]}")/sigstore-fixture/main.go" | cut -c1-12)" ;;
    *) return 1 ;;
  esac
}

CACHE_ROOT="${POLICYOCI_CACHE_DIR:-$HOME/.cache/kubectl-policyoci}"
TOOLS_DIR="$CACHE_ROOT/tools"
WORK_DIR="$CACHE_ROOT/work"

tool_dir() { echo "$TOOLS_DIR/$1-$(tool_version "$1")"; }
tool_bin() { echo "$(tool_dir "$1")/$1"; }

# Allow `source build.sh` (used by path.sh) to get the table without building.
if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then return 0; fi

log() { printf '[tools] %s\n' "$*" >&2; }
die() { printf '[tools] error: %s\n' "$*" >&2; exit 1; }

export GOTOOLCHAIN="${GOTOOLCHAIN_OVERRIDE:-local}"
export GOWORK=off
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"
JOBS="${POLICYOCI_BUILD_JOBS:-2}"

command -v go >/dev/null || { [[ -x /usr/local/go/bin/go ]] && PATH="/usr/local/go/bin:$PATH"; }
command -v go >/dev/null || die "go not found (expected /usr/local/go/bin/go)"

# Fresh wrapper module directory: $WORK_DIR/<name>. Echoes its path.
new_wrapper() {
  local dir="$WORK_DIR/$1"
  rm -rf "$dir"; mkdir -p "$dir"
  (cd "$dir" && go mod init "policyoci.local/tools/$1" >/dev/null 2>&1)
  echo "$dir"
}

# go.mod file of MODULE@VERSION from the module cache (downloads it if needed).
module_gomod() {
  (cd "$WORK_DIR" && GOFLAGS= go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
}

# Copy the replace directives of MODULE@VERSION whose target is a module (not a
# local path) into the wrapper's go.mod: a dependency's replaces are ignored by
# Go, so a wrapper must restate them.
inherit_replaces() {
  local wrapper="$1" gomod
  gomod="$(module_gomod "$2")"
  [[ -f "$gomod" ]] || die "cannot locate go.mod of $2"
  awk '
    /^replace[[:space:]]*\(/ { inblock=1; next }
    inblock && /^\)/ { inblock=0; next }
    { line=$0; sub(/\/\/.*/, "", line) }
    inblock { print line; next }
    /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, "", line); print line }
  ' "$gomod" | awk 'NF && $2=="=>" && $3 !~ /^\.{0,2}\// {print}' |
  while read -r lhs _ rhs ver; do
    [[ -n "${ver:-}" ]] || continue
    log "  replace $lhs => $rhs $ver"
    (cd "$wrapper" && go mod edit -replace "$lhs=$rhs@$ver")
  done
}

gobuild() {  # gobuild WRAPPER OUT PKG [EXTRA_LDFLAGS]
  log "  go build $3"
  (cd "$1" && go build -p "$JOBS" -trimpath -ldflags="-s -w${4:+ $4}" -o "$2" "$3")
}

# --- recipes: build_<recipe> OUTDIR  (write the binary/binaries into OUTDIR) ---

simple_recipe() {  # simple_recipe OUTDIR NAME MODULE VERSION PKG BIN
  local out="$1" w
  w="$(new_wrapper "$2-$4")"
  log "  go get $3@$4"
  (cd "$w" && go get "$3@$4" >&2)
  gobuild "$w" "$out/$6" "$5"
}

build_oras() {
  simple_recipe "$1" oras oras.land/oras "$ORAS_VERSION" oras.land/oras/cmd/oras oras
}

build_kyverno() {
  local w; w="$(new_wrapper "kyverno-$KYVERNO_VERSION")"
  # kyverno's go.mod replaces k8s.io/pod-security-admission with its fork; restate it.
  inherit_replaces "$w" "github.com/kyverno/kyverno@$KYVERNO_VERSION"
  log "  go get github.com/kyverno/kyverno@$KYVERNO_VERSION"
  (cd "$w" && go get "github.com/kyverno/kyverno@$KYVERNO_VERSION" >&2)
  gobuild "$w" "$1/kyverno" github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
}

build_krew() {
  simple_recipe "$1" krew sigs.k8s.io/krew "$KREW_VERSION" sigs.k8s.io/krew/cmd/krew krew
}

build_validate-krew-manifest() {
  simple_recipe "$1" validate-krew-manifest sigs.k8s.io/krew "$KREW_VERSION" \
    sigs.k8s.io/krew/cmd/validate-krew-manifest validate-krew-manifest
}

build_crane() {
  simple_recipe "$1" crane github.com/google/go-containerregistry "$CRANE_VERSION" \
    github.com/google/go-containerregistry/cmd/crane crane
}

build_etcd() {
  # server/v3's module root is itself `package main` (main.go calls etcdmain.Main),
  # so no hand-written main is needed; etcd's own replaces are ../ paths (ignored).
  simple_recipe "$1" etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3 etcd
}

# kube-apiserver and kubectl share one wrapper (built once per invocation).
K8S_WRAPPER=""
k8s_wrapper() {
  [[ -n "$K8S_WRAPPER" ]] && return 0
  local w gomod staging
  w="$(new_wrapper "kubernetes-$KUBERNETES_VERSION")"
  staging="v0.${KUBERNETES_VERSION#v1.}"   # v1.35.4 -> v0.35.4
  gomod="$(module_gomod "k8s.io/kubernetes@$KUBERNETES_VERSION")"
  [[ -f "$gomod" ]] || die "cannot locate go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
  # Every `k8s.io/X => ./staging/src/k8s.io/X` becomes `k8s.io/X => k8s.io/X v0.Y.Z`.
  local mods
  mods="$(awk '$2=="=>" && $3 ~ /^\.\/staging\/src\// {print $1}' "$gomod")"
  [[ -n "$mods" ]] || die "no staging replaces found in $gomod"
  log "  replacing $(wc -w <<<"$mods") k8s.io staging modules with @$staging"
  local m
  for m in $mods; do (cd "$w" && go mod edit -replace "$m=$m@$staging"); done
  (cd "$w" && go mod edit -require "k8s.io/kubernetes@$KUBERNETES_VERSION")
  cat > "$w/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
GO
  log "  go mod tidy (k8s.io/kubernetes@$KUBERNETES_VERSION)"
  (cd "$w" && go mod tidy >&2)
  K8S_WRAPPER="$w"
}
# Without these -X flags both binaries report "v0.0.0-master+$Format:%H$"
# (kubernetes' hack/lib/version.sh normally stamps them).
k8s_ldflags() {
  local v="$KUBERNETES_VERSION" minor f pkg
  minor="${v#v1.}"; minor="${minor%%.*}"
  f=""
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    f+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "${f# }"
}
build_kube-apiserver() { k8s_wrapper; gobuild "$K8S_WRAPPER" "$1/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver "$(k8s_ldflags)"; }
build_kubectl() { k8s_wrapper; gobuild "$K8S_WRAPPER" "$1/kubectl" k8s.io/kubernetes/cmd/kubectl "$(k8s_ldflags)"; }
# Only its ValidatingAdmissionPolicy status controller runs in the tests (apply --wait reads the
# type checking it writes to status.typeChecking).
build_kube-controller-manager() { k8s_wrapper; gobuild "$K8S_WRAPPER" "$1/kube-controller-manager" k8s.io/kubernetes/cmd/kube-controller-manager "$(k8s_ldflags)"; }

build_zot() {
  simple_recipe "$1" zot zotregistry.dev/zot/v2 "$ZOT_VERSION" zotregistry.dev/zot/v2/cmd/zot zot
}

build_cosign() {
  local w; w="$(new_wrapper "cosign-$COSIGN_VERSION")"
  inherit_replaces "$w" "github.com/sigstore/cosign/v2@$COSIGN_VERSION"
  log "  go get github.com/sigstore/cosign/v2@$COSIGN_VERSION"
  (cd "$w" && go get "github.com/sigstore/cosign/v2@$COSIGN_VERSION" >&2)
  # `cosign version` reads these (sigs.k8s.io/release-utils); without them it says "devel".
  gobuild "$w" "$1/cosign" github.com/sigstore/cosign/v2/cmd/cosign \
    "-X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION"
}

# cosign v3 as `cosign3` (beside v2's `cosign`): the same recipe on the v3 module.
build_cosign3() {
  local w; w="$(new_wrapper "cosign3-$COSIGN3_VERSION")"
  inherit_replaces "$w" "github.com/sigstore/cosign/v3@$COSIGN3_VERSION"
  log "  go get github.com/sigstore/cosign/v3@$COSIGN3_VERSION"
  (cd "$w" && go get "github.com/sigstore/cosign/v3@$COSIGN3_VERSION" >&2)
  gobuild "$w" "$1/cosign3" github.com/sigstore/cosign/v3/cmd/cosign \
    "-X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN3_VERSION"
}

# go-containerregistry's in-process registry with the OCI 1.1 referrers API switched on: the
# test stand-in for zot, whose module host the proxy refuses here (see docs/TOOLS.md).
# `crane registry serve` does not enable referrers, so this is a 30-line main.
build_ggcr-registry() {
  local w; w="$(new_wrapper "ggcr-registry-$GGCR_REGISTRY_VERSION")"
  cat > "$w/main.go" <<'GO'
// ggcr-registry: go-containerregistry's pkg/registry with the referrers API enabled.
// Usage: ggcr-registry -addr 127.0.0.1:PORT [-blobs DIR]   (manifests are kept in memory)
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	blobs := flag.String("blobs", "", "directory for blobs (default: memory)")
	flag.Parse()
	opts := []registry.Option{registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", log.LstdFlags))}
	if *blobs != "" {
		opts = append(opts, registry.WithBlobHandler(registry.NewDiskBlobHandler(*blobs)))
	}
	srv := &http.Server{Addr: *addr, Handler: registry.New(opts...), ReadHeaderTimeout: 10 * time.Second}
	log.Printf("ggcr-registry listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
GO
  log "  go get github.com/google/go-containerregistry@$GGCR_REGISTRY_VERSION"
  (cd "$w" && go get "github.com/google/go-containerregistry@$GGCR_REGISTRY_VERSION" >&2 && go mod tidy >&2)
  gobuild "$w" "$1/ggcr-registry" .
}

# kubectl's reading of manifests (its resource builder over sigs.k8s.io/yaml), for the
# differential YAML tests. Source: scripts/tools/k8s-yaml/main.go.
build_k8s-yaml() {
  local w; w="$(new_wrapper "k8s-yaml-$K8S_YAML_VERSION")"
  cp "$(dirname "${BASH_SOURCE[0]}")/k8s-yaml/main.go" "$w/main.go"
  log "  go get k8s.io/cli-runtime@$K8S_YAML_VERSION k8s.io/apimachinery@$K8S_YAML_VERSION sigs.k8s.io/yaml@$SIGS_YAML_VERSION"
  (cd "$w" && go get "k8s.io/cli-runtime@$K8S_YAML_VERSION" "k8s.io/apimachinery@$K8S_YAML_VERSION" \
    "sigs.k8s.io/yaml@$SIGS_YAML_VERSION" >&2 && go mod tidy >&2)
  gobuild "$w" "$1/k8s-yaml" .
}

# Our own program (scripts/tools/sigstore-fixture/main.go) over sigstore-go's pkg/testing/ca: a
# throwaway Fulcio/Rekor/CT log/TSA that writes a trusted root and cosign-v3-shaped keyless bundles
# for the keyless end-to-end tests (test/support/sigstore-fixture.ts).
build_sigstore-fixture() {
  local w; w="$(new_wrapper "sigstore-fixture-$(tool_version sigstore-fixture)")"
  cp "$(dirname "${BASH_SOURCE[0]}")/sigstore-fixture/main.go" "$w/main.go"
  log "  go get github.com/sigstore/sigstore-go@$SIGSTORE_GO_VERSION"
  (cd "$w" && go get "github.com/sigstore/sigstore-go@$SIGSTORE_GO_VERSION" >&2 && go mod tidy >&2)
  gobuild "$w" "$1/sigstore-fixture" .
}

# Gatekeeper's controller manager (its module root is `package main`): run against the test API
# server so that constraint kinds are created by the real controller from real templates.
build_gatekeeper() {
  simple_recipe "$1" gatekeeper github.com/open-policy-agent/gatekeeper/v3 "$GATEKEEPER_VERSION" \
    github.com/open-policy-agent/gatekeeper/v3 gatekeeper
  # The controller will not start without its own status CRDs (status.gatekeeper.sh: not policy, not
  # in ../shared/corpus): keep its chart's copies beside the binary, where test/support/gatekeeper.ts reads them.
  local src; src="$(cd "$WORK_DIR/gatekeeper-$GATEKEEPER_VERSION" && go list -m -f '{{.Dir}}' github.com/open-policy-agent/gatekeeper/v3)"
  mkdir -p "$1/crds" && cp "$src"/charts/gatekeeper/crds/*podstatus-customresourcedefinition.yaml "$1/crds/"
}

# Flux's controllers are built from a copy of their own module (their main package is the module
# root and their go.mod holds what makes them build): that go.mod replaces the ./api sub-module,
# which a module download lacks, so the copy drops the replace and requires the published …/api at
# the same version, and drops the test-only helmtestserver requirement. Their CRDs
# (config/crd/bases) go beside the binary, in crds/, where test/support/flux.ts reads them.
flux_module_copy() {  # flux_module_copy NAME VERSION -> echoes the copy's directory
  local mod="github.com/fluxcd/$1" src w
  src="$(cd "$WORK_DIR" && GOFLAGS= go mod download -json "$mod@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -d "$src" ]] || die "cannot download $mod@$2"
  w="$WORK_DIR/$1-$2"
  rm -rf "$w"; cp -r "$src" "$w"; chmod -R u+w "$w"
  (cd "$w" && go mod edit -dropreplace "$mod/api" -require "$mod/api@$2" -droprequire github.com/fluxcd/pkg/helmtestserver)
  echo "$w"
}

build_flux-source-controller() {
  local w; w="$(flux_module_copy source-controller "$FLUX_SOURCE_CONTROLLER_VERSION")"
  log "  pin github.com/fluxcd/pkg/artifact@$FLUX_ARTIFACT_VERSION"
  (cd "$w" && go mod edit -require "github.com/fluxcd/pkg/artifact@$FLUX_ARTIFACT_VERSION")
  gobuild "$w" "$1/flux-source-controller" .
  mkdir -p "$1/crds"; cp "$w"/config/crd/bases/*.yaml "$1/crds/"
}

build_flux-kustomize-controller() {
  local w; w="$(flux_module_copy kustomize-controller "$FLUX_KUSTOMIZE_CONTROLLER_VERSION")"
  gobuild "$w" "$1/flux-kustomize-controller" .
  mkdir -p "$1/crds"; cp "$w"/config/crd/bases/*.yaml "$1/crds/"
}

# --- driver -----------------------------------------------------------------

BUILD_TMP=""
cleanup() { if [[ -n "$BUILD_TMP" ]]; then rm -rf "$BUILD_TMP"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_tool() {
  local tool="$1" dir bin tmp start
  dir="$(tool_dir "$tool")"; bin="$dir/$tool"
  if [[ -x "$bin" && "${POLICYOCI_REBUILD:-0}" != 1 ]]; then
    log "$tool $(tool_version "$tool"): cached at $bin"
    echo "$bin"; return 0
  fi
  mkdir -p "$TOOLS_DIR" "$WORK_DIR"
  # Serialise concurrent builds of the same tool (kube-apiserver and kubectl share
  # one wrapper directory, hence one lock).
  local lockname="$tool"
  case "$tool" in kube-apiserver|kubectl|kube-controller-manager) lockname=kubernetes ;; esac
  exec {lockfd}>"$TOOLS_DIR/.$lockname.lock"
  flock "$lockfd"
  if [[ -x "$bin" && "${POLICYOCI_REBUILD:-0}" != 1 ]]; then
    exec {lockfd}>&-; echo "$bin"; return 0
  fi
  # Leftovers of a build that was SIGKILLed (we hold the lock, so nobody else owns them).
  rm -rf "$TOOLS_DIR/.$tool-"*.tmp.* 2>/dev/null || true
  tmp="$(mktemp -d "$TOOLS_DIR/.$tool-$(tool_version "$tool").tmp.XXXXXX")"
  chmod 755 "$tmp"
  BUILD_TMP="$tmp"
  start=$SECONDS
  log "$tool $(tool_version "$tool"): building"
  "build_$tool" "$tmp"
  [[ -x "$tmp/$tool" ]] || die "$tool: build produced no binary"
  rm -rf "$dir.old"; if [[ -e "$dir" ]]; then mv "$dir" "$dir.old"; fi
  mv "$tmp" "$dir"; rm -rf "$dir.old"
  BUILD_TMP=""
  exec {lockfd}>&-
  log "$tool $(tool_version "$tool"): built in $((SECONDS - start))s -> $bin ($(du -h "$bin" | cut -f1))"
  echo "$bin"
}

[[ $# -gt 0 ]] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
for t in "$@"; do tool_version "$t" >/dev/null || die "unknown tool '$t' (known: ${ALL_TOOLS[*]})"; done
for t in "$@"; do ensure_tool "$t"; done
