#!/usr/bin/env bash
# OpenBao's image for Kind without a registry: make tools' `bao` (OpenBao $OPENBAO_VERSION, a static
# binary) on scratch, in podman's store. With Docker, up.sh runs OpenBao's own image (openbao/openbao) instead.
#   e2e/kind/openbao-image.sh      prints the image's name
set -euo pipefail
source "$(dirname "$0")/env.sh"
bao=$(readlink -f "$TOOLS_BIN/bao")
[ -x "$bao" ] || kdie "$TOOLS_BIN/bao missing: run 'make tools'"
inputs=$(sha256sum "$bao" "$0" | sha256sum | cut -c1-16)
if [ "$(podman image inspect -f '{{ index .Labels "dev.capgate.inputs" }}' "$OPENBAO_IMAGE" 2>/dev/null)" != "$inputs" ]; then
  export BUILDAH_ISOLATION=chroot
  c=$(buildah from scratch)
  mnt=$(buildah mount "$c")
  mkdir -p "$mnt/bin" "$mnt/tmp" "$mnt/home/openbao"; chmod 1777 "$mnt/tmp"; chown 100:1000 "$mnt/home/openbao"
  install -m 0755 "$bao" "$mnt/bin/bao"
  buildah umount "$c" >/dev/null
  buildah config --env PATH=/bin --env HOME=/home/openbao --user 100:1000 --entrypoint '["bao"]' --cmd '' \
    --label "dev.capgate.inputs=$inputs" "$c"
  buildah commit -q --rm "$c" "$OPENBAO_IMAGE" >/dev/null
  ksay "built $OPENBAO_IMAGE from $bao"
fi
echo "$OPENBAO_IMAGE"
