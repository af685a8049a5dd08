#!/usr/bin/env bash
# Builds Capgate's container images — with Docker where there is one, with buildah here — and
# imports them into the local cluster's containerd (e2e/cluster) when it is running.
#
#   hack/images.sh [--no-import] [TARGET...]      TARGET: java-base pause agent sidecar operator
#                                                 (default: all; sidecar/operator need `make build`)
#   hack/images.sh --archive [TARGET...]           no import: writes the targets' docker-archives
#                                                 (agent: also its two variants) and prints their
#                                                 paths, one a line (e2e/kind/up.sh loads them)
# Images (no registry host; containerd and the kubelet take the names as they are):
#   capgate.local/java-base:25  Debian bookworm (debootstrap minbase) + ca-certificates + iptables
#                               (nft + legacy) + jlink'd Java 25 in /opt/java + user 1447. No curl.
#   capgate.local/sidecar:dev   sidecar/Dockerfile  FROM java-base (init + proxy modes, uid 1447)
#   capgate.local/operator:dev  operator/Dockerfile FROM java-base (uid 1447)
#   capgate.local/agent:dev     test agent: minbase + curl + git + python3 (requests, httpx, h2, pip, boto3), aws CLI v2,
#                               nodejs + npm, a jlink'd Java 25 (HttpClient, source launcher), a static
#                               Go net/http client (e2e/images/agent/clients), grpcurl (make tools), `sleep infinity`, uid 1000
#   capgate.local/agent-root:dev  the agent image without USER (runs as root unless the pod says
#   capgate.local/agent-1447:dev  otherwise) and with USER 1447: the same layers, another config
#                               (e2e/images/derive-user.py), made and imported with `agent`; for
#                               AdmissionBypassE2E. Only in containerd (no buildah image).
#   capgate.local/pause:3.10    the sandbox image: a static C binary (e2e/images/pause/pause.c)
#
# Without Docker: buildah with the vfs storage driver and chroot isolation (no daemon, no overlay
# mounts, no user namespaces needed), its storage under the cache directory, not /var/lib/containers.
# Base images come from root file system tarballs (e2e/images/rootfs.sh, cached) and a jlink'd
# runtime (cached), so only the first run downloads or links anything. Every image carries a label
# with the hash of its inputs; an image whose inputs did not change is not rebuilt.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CAPGATE_IMAGE_CACHE:-$HOME/.cache/capgate/images}
# grpcurl (GrpcE2E) comes into the agent image from make tools' static build, not from a network.
GRPCURL=${CAPGATE_TOOLS:-$HOME/.cache/capgate/tools}/bin/grpcurl
export CAPGATE_IMAGE_CACHE=$CACHE
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
[ -x "$JAVA_HOME/bin/jlink" ] || JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
E2E_DIR=${CAPGATE_E2E_DIR:-/var/lib/capgate-e2e}
CONTAINERD_SOCK=${CAPGATE_CONTAINERD_SOCK:-$E2E_DIR/run/containerd/containerd.sock}
# Build contexts of the application images; overridable so a stand-in jar can prove the path.
SIDECAR_CONTEXT=${CAPGATE_SIDECAR_CONTEXT:-$ROOT/sidecar}
OPERATOR_CONTEXT=${CAPGATE_OPERATOR_CONTEXT:-$ROOT/operator}

BASE_IMAGE=capgate.local/java-base:25
PAUSE_IMAGE=capgate.local/pause:3.10
AGENT_IMAGE=capgate.local/agent:dev
# Derived from the agent image (same layers, another USER): image=user, "" = no USER (root).
AGENT_VARIANTS=("capgate.local/agent-root:dev=" "capgate.local/agent-1447:dev=1447")
SIDECAR_IMAGE=capgate.local/sidecar:dev
OPERATOR_IMAGE=capgate.local/operator:dev
# The client matrix (e2e ClientMatrixE2E): Python requests/httpx (+h2), pip, Node (fetch, https), npm.
AGENT_PACKAGES="ca-certificates curl git python3 python3-requests python3-httpx python3-h2 python3-pip nodejs"
# apt-get, not debootstrap: npm depends on a virtual package (e2e/images/rootfs.sh). awscli (the
# aws CLI v2, 2.9) and python3-boto3 (1.26): the real AWS clients of CloudCredentialsE2E (issue 15);
# apt-get resolves their long Python dependency lists.
AGENT_APT_PACKAGES="npm awscli python3-boto3"
# The agent's Java: HttpClient, and jdk.compiler for single-file `java Fetch.java` runs.
AGENT_JAVA_MODULES="java.base,java.net.http,jdk.compiler,jdk.crypto.ec,jdk.zipfs"
BASE_PACKAGES="ca-certificates iptables"
LABEL=dev.capgate.inputs

IMPORT=auto
ARCHIVE=no
TARGETS=()
for a in "$@"; do
  case $a in
    --no-import) IMPORT=no ;;
    --archive) IMPORT=no; ARCHIVE=yes ;;
    --import) IMPORT=yes ;;
    java-base|pause|agent|sidecar|operator) TARGETS+=("$a") ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "images.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done
EXPLICIT=${#TARGETS[@]}
[ "$EXPLICIT" -gt 0 ] || TARGETS=(java-base pause agent sidecar operator)

T0=$(date +%s.%N)
step_start=$T0
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.1f", b - a }'; }
log() { printf '[images %ss] %s\n' "$(since "$T0")" "$*" >&2; }
# One line per finished step: total elapsed, step, step duration (the README quotes these).
lap() { printf '[images %ss]   %-52s %ss\n' "$(since "$T0")" "$1" "$(since "$step_start")" >&2; step_start=$(date +%s.%N); }
want() { local t; for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }
hash_files() { sha256sum "$@" | sha256sum | cut -c1-16; }

mkdir -p "$CACHE/archives" "$CACHE/jre"

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && [ "${CAPGATE_USE_BUILDAH:-}" != 1 ]; then
  ENGINE=docker
else
  ENGINE=buildah
  command -v buildah >/dev/null || { echo "images.sh: neither docker nor buildah: apt-get install -y buildah" >&2; exit 1; }
fi

# --- buildah plumbing -------------------------------------------------------------------------
BUILDAH=(buildah --root "$CACHE/buildah/storage" --runroot "$CACHE/buildah/run" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot
# Working containers of an interrupted run would pin vfs copies of whole images; remove ours.
WORKING=()
cleanup() { local c; for c in "${WORKING[@]:-}"; do if [ -n "$c" ]; then "${BUILDAH[@]}" rm "$c" >/dev/null 2>&1 || true; fi; done; }
trap cleanup EXIT

# The input hash an existing image was built from ("" if there is no such image).
image_inputs() {
  if [ "$ENGINE" = docker ]; then
    docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
  else
    "${BUILDAH[@]}" inspect --type image -f "{{ index .OCIv1.Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true
  fi
}
up_to_date() { [ "$(image_inputs "$1")" = "$2" ]; }

# Writes a docker-archive of the image for `ctr images import` (and keeps it in the cache).
archive() {
  local image=$1 name; name=$(echo "${image#capgate.local/}" | tr ':/' '__')
  local out="$CACHE/archives/$name.tar" inputs; inputs=$(image_inputs "$image")
  if [ -s "$out" ] && [ "$(cat "$out.inputs" 2>/dev/null)" = "$inputs" ]; then return; fi
  rm -f "$out"
  if [ "$ENGINE" = docker ]; then docker save -o "$out" "$image"
  else "${BUILDAH[@]}" push -q "$image" "docker-archive:$out:$image" >/dev/null; fi
  echo "$inputs" > "$out.inputs"
  lap "archive $image ($(du -h "$out" | cut -f1))"
}

# --- capgate.local/java-base:25 -----------------------------------------------------------------
java_modules() {
  local mods; mods=$(grep -v '^\s*#' "$ROOT/e2e/images/java-base/modules.txt" | xargs)
  # Re-measure when the application jars exist: a dependency upgrade that needs a new module
  # must not become a NoClassDefFoundError in a pod. The result is cached per set of jars.
  local jars=() ctx
  for ctx in "$SIDECAR_CONTEXT" "$OPERATOR_CONTEXT"; do
    [ -d "$ctx/target/lib" ] && jars+=("$ctx"/target/*.jar "$ctx"/target/lib/*.jar)
  done
  if [ ${#jars[@]} -gt 0 ]; then
    # Keyed by the jar names (the dependency versions), not their bytes: the application jar is
    # rebuilt all the time, its module needs hardly ever change (and modules.txt covers them).
    local key; key=$(printf '%s\n' "${jars[@]##*/}" | sort | sha256sum | cut -c1-16)
    local f="$CACHE/jre/jdeps-$key.txt"
    [ -s "$f" ] || nice "$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps \
      "${jars[@]}" 2>/dev/null | tail -1 | tr ',' ' ' > "$f"
    mods="$mods $(cat "$f")"
  fi
  echo "$mods" | tr ' ' '\n' | grep . | sort -u | xargs | tr ' ' ','
}

jre_tarball() {  # prints the path of a tar with opt/java/... (cached per module list and JDK)
  local mods=$1 key; key=$(printf '%s\n' "$mods" "$("$JAVA_HOME/bin/java" -version 2>&1)" | sha256sum | cut -c1-16)
  local out="$CACHE/jre/jre-$key.tar"
  if [ ! -s "$out" ]; then
    local work; work=$(mktemp -d "$CACHE/jre/.work.XXXXXX")
    # --generate-cds-archive: a default CDS archive for exactly this runtime (faster start even
    # without the application's AOT cache). No compression: start-up time over image size.
    "$JAVA_HOME/bin/jlink" --add-modules "$mods" --strip-debug --no-man-pages --no-header-files \
      --generate-cds-archive --output "$work/opt/java" >&2
    tar --numeric-owner -C "$work" -cf "$out.part" opt
    mv "$out.part" "$out"; rm -rf "$work"
  fi
  echo "$out"
}

build_java_base() {
  local mods; mods=$(java_modules); lap "java modules"
  if [ "$ENGINE" = docker ]; then
    docker build -q --build-arg JAVA_MODULES="$mods" --label "$LABEL=docker" -t "$BASE_IMAGE" "$ROOT/e2e/images/java-base" >/dev/null
    lap "java-base (docker)"; return
  fi
  local rootfs jre inputs
  rootfs=$("$ROOT/e2e/images/rootfs.sh" java-base "$BASE_PACKAGES"); lap "rootfs java-base ($(du -h "$rootfs" | cut -f1))"
  jre=$(jre_tarball "$mods"); lap "jlink runtime ($(du -h "$jre" | cut -f1))"
  inputs=$(printf '%s\n' "$(basename "$rootfs")" "$(basename "$jre")" "$(sed -n '/^build_java_base()/,/^}/p' "$0")" | sha256sum | cut -c1-16)
  if up_to_date "$BASE_IMAGE" "$inputs"; then log "$BASE_IMAGE up to date"; return; fi
  log "building $BASE_IMAGE (modules: $mods)"
  local c; c=$("${BUILDAH[@]}" from --pull=never scratch); WORKING+=("$c")
  "${BUILDAH[@]}" add "$c" "$rootfs" / >/dev/null
  "${BUILDAH[@]}" add "$c" "$jre" / >/dev/null
  # The sidecar's and the operator's user; the iptables rules exempt uid 1447 (sidecar contract).
  "${BUILDAH[@]}" run "$c" -- sh -c 'groupadd -g 1447 capgate && useradd -u 1447 -g 1447 -M -d /nonexistent -s /usr/sbin/nologin capgate'
  # The runtime must work as it will in a pod; fail the build, not the pod.
  "${BUILDAH[@]}" run "$c" -- /opt/java/bin/java -Xshare:auto -version >/dev/null 2>&1
  "${BUILDAH[@]}" run "$c" -- sh -c 'iptables-nft --version && iptables-legacy --version && iptables-restore --version' >/dev/null
  "${BUILDAH[@]}" config --env JAVA_HOME=/opt/java \
    --env PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --label "$LABEL=$inputs" --cmd '["/opt/java/bin/java","-version"]' "$c"
  "${BUILDAH[@]}" commit -q --rm "$c" "$BASE_IMAGE" >/dev/null; WORKING=()
  lap "commit $BASE_IMAGE"
}

# --- capgate.local/pause ---------------------------------------------------------------------
build_pause() {
  local src="$ROOT/e2e/images/pause" inputs
  inputs=$(hash_files "$src/pause.c" "$src/Dockerfile")
  if up_to_date "$PAUSE_IMAGE" "$inputs"; then log "$PAUSE_IMAGE up to date"; return; fi
  local ctx; ctx=$(mktemp -d)
  cp "$src/Dockerfile" "$ctx/"
  # Static, so the image is this one file (no libc in the image, nothing to patch).
  gcc -static -Os -s -o "$ctx/pause" "$src/pause.c"
  if [ "$ENGINE" = docker ]; then docker build -q --label "$LABEL=$inputs" -t "$PAUSE_IMAGE" "$ctx" >/dev/null
  else "${BUILDAH[@]}" bud -q --pull=never --label "$LABEL=$inputs" -t "$PAUSE_IMAGE" "$ctx" >/dev/null; fi
  rm -rf "$ctx"
  lap "build $PAUSE_IMAGE"
}

# --- capgate.local/agent ---------------------------------------------------------------------
build_agent() {
  if [ "$ENGINE" = docker ]; then
    docker build -q --label "$LABEL=docker" -t "$AGENT_IMAGE" "$ROOT/e2e/images/agent" >/dev/null
    lap "agent (docker)"; return
  fi
  local rootfs inputs jre wheels clients="$ROOT/e2e/images/agent/clients"
  [ -x "$GRPCURL" ] || { log "$GRPCURL missing: run 'make tools' first"; exit 1; }
  rootfs=$("$ROOT/e2e/images/rootfs.sh" agent "$AGENT_PACKAGES" "$AGENT_APT_PACKAGES"); lap "rootfs agent ($(du -h "$rootfs" | cut -f1))"
  jre=$(jre_tarball "$AGENT_JAVA_MODULES"); lap "agent jlink runtime ($(du -h "$jre" | cut -f1))"
  wheels=$(mcp_wheels); lap "agent MCP SDK wheels ($(du -sh "$wheels" | cut -f1))"
  inputs=$(printf '%s\n' "$(basename "$rootfs")" "$(basename "$jre")" "$(basename "$wheels")" "$(hash_files "$clients"/Fetch.java "$clients"/gofetch/* "$GRPCURL")" \
    "$(sed -n '/^build_agent()/,/^}/p' "$0")" | sha256sum | cut -c1-16)
  if up_to_date "$AGENT_IMAGE" "$inputs"; then log "$AGENT_IMAGE up to date"; return; fi
  # The Go client: static, built here (no Go toolchain in the image).
  local gobin; gobin=$(mktemp -d)
  (cd "$clients/gofetch" && CGO_ENABLED=0 GOFLAGS=-trimpath go build -ldflags='-s -w' -o "$gobin/gofetch" .)
  lap "go build gofetch"
  local c; c=$("${BUILDAH[@]}" from --pull=never scratch); WORKING+=("$c")
  "${BUILDAH[@]}" add "$c" "$rootfs" / >/dev/null
  "${BUILDAH[@]}" add "$c" "$jre" / >/dev/null
  "${BUILDAH[@]}" add --chmod 0755 "$c" "$gobin/gofetch" /usr/local/bin/gofetch >/dev/null
  "${BUILDAH[@]}" add --chmod 0644 "$c" "$clients/Fetch.java" /opt/clients/Fetch.java >/dev/null
  # grpcurl, the gRPC client of GrpcE2E: static Go, copied from make tools' build.
  "${BUILDAH[@]}" add --chmod 0755 "$c" "$GRPCURL" /usr/local/bin/grpcurl >/dev/null
  rm -rf "$gobin"
  "${BUILDAH[@]}" run "$c" -- sh -c 'groupadd -g 1000 agent && useradd -u 1000 -g 1000 -m -d /home/agent -s /bin/bash agent'
  # The aws CLI's example pages (`aws ... help`), dropped like every other doc: they quote example
  # private keys, which AttackE2E's search for readable keys would rightly report.
  "${BUILDAH[@]}" run "$c" -- rm -rf /usr/lib/python3/dist-packages/awscli/examples
  # The official MCP Python SDK (McpE2E), offline from the hashed wheels, into a directory of its
  # own: its newer anyio, cryptography, idna ... must not shadow the Debian packages the aws CLI
  # and the client matrix run on. `mcp-python` is python3 with that directory first on the path.
  "${BUILDAH[@]}" add "$c" "$wheels" /tmp/mcp-wheels >/dev/null
  "${BUILDAH[@]}" run "$c" -- sh -c 'pip install -q --no-index --no-deps --require-hashes --find-links /tmp/mcp-wheels \
      --target /opt/mcp-sdk -r /tmp/mcp-wheels/mcp-requirements.txt && rm -rf /tmp/mcp-wheels /opt/mcp-sdk/bin \
      && printf "#!/bin/sh\nPYTHONPATH=/opt/mcp-sdk exec python3 \"\$@\"\n" > /usr/local/bin/mcp-python \
      && chmod 0755 /usr/local/bin/mcp-python'
  "${BUILDAH[@]}" run "$c" -- sh -c '/opt/java/bin/java -version && node --version && npm --version && pip --version && python3 -c "import requests, httpx, h2, boto3" && aws --version && grpcurl -version \
      && mcp-python -c "import mcp, httpx2; from mcp.client.streamable_http import streamable_http_client"' >/dev/null
  "${BUILDAH[@]}" config --user 1000:1000 --workingdir /home/agent --env HOME=/home/agent --env LANG=C.UTF-8 \
    --env JAVA_HOME=/opt/java --env PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "$LABEL=$inputs" --cmd '["sleep","infinity"]' "$c"
  "${BUILDAH[@]}" commit -q --rm "$c" "$AGENT_IMAGE" >/dev/null; WORKING=()
  lap "commit $AGENT_IMAGE"
}

# The MCP SDK's wheels (e2e/images/agent/mcp-requirements.txt: pinned, hashed; CPython 3.11 x86_64
# as in the agent's bookworm), downloaded once by pip on this host and cached per requirements
# file: a rebuild of the image downloads nothing, and the image build itself needs no network.
mcp_wheels() {  # prints the directory
  local req="$ROOT/e2e/images/agent/mcp-requirements.txt" dir
  dir="$CACHE/wheels/mcp-$(hash_files "$req")"
  if [ ! -s "$dir/mcp-requirements.txt" ]; then
    rm -rf "$dir.part"; mkdir -p "$dir.part"
    python3 -m pip download -q --disable-pip-version-check --no-deps --require-hashes --only-binary=:all: \
      --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
      --platform manylinux_2_34_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
      -r "$req" -d "$dir.part" >&2
    cp "$req" "$dir.part/"; rm -rf "$dir"; mv "$dir.part" "$dir"
  fi
  echo "$dir"
}

# --- capgate.local/agent-root, capgate.local/agent-1447 -----------------------------------------
# Test images for AdmissionBypassE2E: a root agent (most images' default) and one whose USER is
# the sidecar's uid. Not built: the agent's docker-archive rewritten with two more configs
# (derive-user.py), so they cost one copy of the archive, share every layer with the agent image
# in containerd, and exist only there (the only place a pod can use them).
agent_variants_archive() {  # prints the archive's path (made when the agent image changed)
  archive "$AGENT_IMAGE"
  local base="$CACHE/archives/agent_dev.tar" out="$CACHE/archives/agent-variants.tar" inputs
  inputs=$(printf '%s\n' "$(cat "$base.inputs")" "${AGENT_VARIANTS[@]}" "$(hash_files "$ROOT/e2e/images/derive-user.py")" | sha256sum | cut -c1-16)
  if ! [ -s "$out" ] || [ "$(cat "$out.inputs" 2>/dev/null)" != "$inputs" ]; then
    rm -f "$out"
    python3 "$ROOT/e2e/images/derive-user.py" "$base" "$out.part" "${AGENT_VARIANTS[@]}"
    mv "$out.part" "$out"; echo "$inputs" > "$out.inputs"
    lap "derive ${AGENT_VARIANTS[*]%%=*} ($(du -h "$out" | cut -f1))"
  fi
  echo "$out"
}

# --- capgate.local/sidecar, capgate.local/operator (the Dockerfiles users build) ---------------
build_app() {  # name context jar image
  local name=$1 ctx=$2 jar=$3 image=$4
  if [ ! -s "$ctx/target/$jar" ] || [ ! -d "$ctx/target/lib" ]; then
    if [ "$EXPLICIT" -gt 0 ]; then echo "images.sh: $ctx/target/$jar missing: run 'make build' first" >&2; exit 1; fi
    log "skipping $image: $ctx/target/$jar not built (make build)"; return
  fi
  local base_id inputs
  if [ "$ENGINE" = docker ]; then base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
  else base_id=$("${BUILDAH[@]}" inspect --type image -f '{{.FromImageID}}' "$BASE_IMAGE"); fi
  # target/native/: the sidecar's JNI libraries (unpacked at build time); absent for the operator.
  local natives=(); [ -d "$ctx/target/native" ] && natives=("$ctx"/target/native/*)
  inputs=$(printf '%s\n' "$base_id" "$(hash_files "$ctx/Dockerfile" "$ctx/target/$jar" "$ctx"/target/lib/*.jar "${natives[@]}")" | sha256sum | cut -c1-16)
  if up_to_date "$image" "$inputs"; then log "$image up to date"; return; fi
  log "building $image from $ctx/Dockerfile"
  # Only the Dockerfile and target/ (jar, lib/, native/) matter: a context of exactly those keeps
  # the build from reading (and Docker from uploading) the sources.
  local tmp; tmp=$(mktemp -d); mkdir -p "$tmp/target"
  cp "$ctx/Dockerfile" "$tmp/"; cp -l "$ctx/target/$jar" "$tmp/target/" 2>/dev/null || cp "$ctx/target/$jar" "$tmp/target/"
  cp -rl "$ctx/target/lib" "$tmp/target/" 2>/dev/null || cp -r "$ctx/target/lib" "$tmp/target/"
  if [ -d "$ctx/target/native" ]; then
    cp -rl "$ctx/target/native" "$tmp/target/" 2>/dev/null || cp -r "$ctx/target/native" "$tmp/target/"
  fi
  if [ "$ENGINE" = docker ]; then
    docker build --build-arg BASE_IMAGE="$BASE_IMAGE" --label "$LABEL=$inputs" -t "$image" "$tmp" | sed 's/^/    /' >&2
  else
    # --pull=never: the base exists only in this store; --layers=false (default) squashes the
    # build into one layer on top of the base, which vfs stores as one more copy, not several.
    "${BUILDAH[@]}" bud --pull=never --build-arg BASE_IMAGE="$BASE_IMAGE" --label "$LABEL=$inputs" \
      -t "$image" "$tmp" 2>&1 | grep -E '^(AOT cache:|no AOT cache)|^Error|error:' | sed 's/^/    /' >&2 || true
  fi
  rm -rf "$tmp"
  [ "$(image_inputs "$image")" = "$inputs" ] || { echo "images.sh: building $image failed" >&2; exit 1; }
  lap "build $image"
}

log "engine: $ENGINE, cache: $CACHE, targets: ${TARGETS[*]}"
# The application images are built FROM java-base: make sure it exists even if not asked for.
if want java-base || want sidecar || want operator; then build_java_base; fi
want pause && build_pause
want agent && build_agent
want sidecar && build_app sidecar "$SIDECAR_CONTEXT" capgate-sidecar.jar "$SIDECAR_IMAGE"
want operator && build_app operator "$OPERATOR_CONTEXT" capgate-operator.jar "$OPERATOR_IMAGE"

# A rebuilt image leaves its predecessor untagged; with vfs every one is a full copy on disk.
if [ "$ENGINE" = buildah ]; then "${BUILDAH[@]}" rmi --prune >/dev/null 2>&1 || true; fi

# --- import into the local cluster's containerd -------------------------------------------------
# The node pulls nothing (no registry): every image a pod names must already be in containerd's
# k8s.io namespace, the pause image included.
ctr_live() { [ -S "$CONTAINERD_SOCK" ] && ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }
if [ "$IMPORT" = yes ] || { [ "$IMPORT" = auto ] && ctr_live; }; then
  ctr_live || { echo "images.sh: containerd at $CONTAINERD_SOCK is not running (e2e/cluster/cluster-up.sh)" >&2; exit 1; }
  for t in "${TARGETS[@]}"; do
    case $t in java-base) i=$BASE_IMAGE ;; pause) i=$PAUSE_IMAGE ;; agent) i=$AGENT_IMAGE ;;
               sidecar) i=$SIDECAR_IMAGE ;; operator) i=$OPERATOR_IMAGE ;; esac
    [ -n "$(image_inputs "$i")" ] || continue   # skipped above (not built)
    archive "$i"
    name=$(echo "${i#capgate.local/}" | tr ':/' '__')
    # Already there with the same inputs? Then importing again would only cost time.
    marker="$E2E_DIR/containerd/imported/$name"
    if [ "$(cat "$marker" 2>/dev/null)" = "$(cat "$CACHE/archives/$name.tar.inputs")" ] \
       && ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -x "$i" >/dev/null; then  # not -q: an early exit would SIGPIPE ctr and fail the pipeline (pipefail)
      log "$i already in containerd"; continue
    fi
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$CACHE/archives/$name.tar" >/dev/null
    mkdir -p "$E2E_DIR/containerd/imported"; cp "$CACHE/archives/$name.tar.inputs" "$marker"
    lap "import $i into containerd (k8s.io)"
  done
  if want agent && [ -n "$(image_inputs "$AGENT_IMAGE")" ]; then
    variants=$(agent_variants_archive)
    marker="$E2E_DIR/containerd/imported/agent-variants"
    present=$(ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q)
    missing=0; for v in "${AGENT_VARIANTS[@]}"; do grep -qx "${v%%=*}" <<<"$present" || missing=1; done
    if [ "$missing" = 0 ] && [ "$(cat "$marker" 2>/dev/null)" = "$(cat "$variants.inputs")" ]; then
      log "${AGENT_VARIANTS[*]%%=*} already in containerd"
    else
      ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$variants" >/dev/null
      cp "$variants.inputs" "$marker"
      lap "import ${AGENT_VARIANTS[*]%%=*} into containerd (k8s.io, layers shared with $AGENT_IMAGE)"
    fi
  fi
elif [ "$ARCHIVE" = yes ]; then
  for t in "${TARGETS[@]}"; do
    case $t in java-base) i=$BASE_IMAGE ;; pause) i=$PAUSE_IMAGE ;; agent) i=$AGENT_IMAGE ;;
               sidecar) i=$SIDECAR_IMAGE ;; operator) i=$OPERATOR_IMAGE ;; esac
    [ -n "$(image_inputs "$i")" ] || { echo "images.sh: $i was not built" >&2; exit 1; }
    archive "$i"
    echo "$CACHE/archives/$(echo "${i#capgate.local/}" | tr ':/' '__').tar"
  done
  if want agent; then agent_variants_archive; fi
elif [ "$IMPORT" = no ]; then
  log "not importing (--no-import)"
else
  log "not importing (containerd of e2e/cluster not running at $CONTAINERD_SOCK)"
fi
log "done in $(since "$T0" | xargs)s"
