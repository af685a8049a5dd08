#!/usr/bin/env bash
# Makes (once) a Debian bookworm root file system with debootstrap --variant=minbase plus a few
# packages, and caches it as a tarball outside the repo. A base image made this way needs no
# registry and no Docker: buildah adds the tarball to an empty ("scratch") image.
#
#   e2e/images/rootfs.sh NAME "PKG PKG ..." ["APT-PKG ..."]   -> prints the path of the cached tarball
#
# APT-PKG: installed afterwards with apt-get inside the new root. For packages whose dependencies
# debootstrap's simple resolver cannot follow (virtual packages: `npm` needs
# node-npm-normalize-package-bin, which only another package provides); their .debs are cached too.
#
# The cache key is the name, the package list and this script's own content, so changing either
# rebuilds; the .deb files are cached as well (debootstrap --cache-dir), so a rebuild downloads
# nothing. Needs root (debootstrap creates device nodes and chroots).
set -euo pipefail

NAME=$1
PACKAGES=${2:-}
APT_PACKAGES=${3:-}
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${CAPGATE_IMAGE_CACHE:-$HOME/.cache/capgate/images}
mkdir -p "$CACHE/debs" "$CACHE/rootfs"

key=$(printf '%s\n' "$NAME" "$SUITE" "$PACKAGES" "$APT_PACKAGES" "$(cat "$0")" | sha256sum | cut -c1-16)
out="$CACHE/rootfs/$NAME-$SUITE-$key.tar"
if [ -s "$out" ]; then echo "$out"; exit 0; fi

command -v debootstrap >/dev/null || { echo "rootfs.sh: debootstrap missing: apt-get install -y debootstrap" >&2; exit 1; }
work=$(mktemp -d "$CACHE/rootfs/.work-$NAME.XXXXXX")
# debootstrap mounts proc/sys inside the target; an interrupted run must not leave them behind,
# or the rm below would walk into the host's /proc and /sys.
cleanup() {
  for m in var/cache/apt/archives proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

include=$(echo "$PACKAGES" | xargs | tr ' ' ',')
echo "[rootfs] debootstrap $SUITE minbase${include:+ + $include} -> $out" >&2
debootstrap --variant=minbase ${include:+--include="$include"} --cache-dir="$CACHE/debs" \
  "$SUITE" "$work/root" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

r=$work/root
if [ -n "$APT_PACKAGES" ]; then
  echo "[rootfs] apt-get install $APT_PACKAGES" >&2
  mkdir -p "$CACHE/apt-archives/partial"
  mount --bind "$CACHE/apt-archives" "$r/var/cache/apt/archives"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  # shellcheck disable=SC2086
  chroot "$r" sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $APT_PACKAGES" \
    >> "$work/debootstrap.log" 2>&1 || { umount -l "$r/var/cache/apt/archives"; tail -30 "$work/debootstrap.log" >&2; exit 1; }
  umount -l "$r/var/cache/apt/archives"
fi
# Images carry what runs, not what documents it: docs, man pages, locales and apt's indexes go
# (copyright files stay, Debian's licences ask for them).
find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
       "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
       "$r"/var/log/*.log "$r"/var/log/apt/* "$r"/tmp/* "$r"/root/.bash_history
# The host's resolver and hostname are not the image's: the container runtime provides both.
: > "$r/etc/resolv.conf"; echo localhost > "$r/etc/hostname"
# Fixed timestamps on the logs that debootstrap leaves would be nicer, but nothing reads them.

tar --numeric-owner --xattrs -C "$r" -cf "$out.part" .
mv "$out.part" "$out"
echo "[rootfs] $(du -h "$out" | cut -f1) $out" >&2
echo "$out"
