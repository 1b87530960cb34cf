#!/usr/bin/env bash
# `make image`: the collector's container image from deploy/Containerfile, built here with
# podman although no base image can be pulled: the runtime stage's base is made on this
# machine and the collector is the one cargo built on the host (COLLECTOR_FROM=prebuilt).
#
#   scripts/image.sh build          release binary → runtime base → image; prints its size
#   scripts/image.sh compare-bases  builds the image on both bases below; prints time and size
#   scripts/image.sh base [libs|debian]  only the runtime base (libs needs the release binary)
#   scripts/image.sh podman ARGS    podman on this script's private image store
#
# Bases (IMAGE_BASE):
#   libs    (default) FROM scratch + the shared libraries `ldd` lists for the binary, an
#           /etc/passwd with the distroless `nonroot` user (65532) and the CA bundle: what
#           gcr.io/distroless/cc-debian12 provides to this binary, in a few MB and seconds.
#           Only glibc and libgcc are taken (all that image has); any other library the
#           binary needs is an error.
#   debian  a Debian 12 minbase root filesystem from debootstrap, imported with
#           `podman import` (downloads ~40 MB of packages; the slim-Debian alternative).
#
# Images live in a private store (.cache/podman, vfs driver), not the machine's, so other
# podman users are untouched and CI starts empty. Environment: IMAGE_BASE, SIGHTLINE_CACHE.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
cache=${SIGHTLINE_CACHE:-$repo/.cache}
work=$repo/target/image
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
image=localhost/sightline-collector:$version
binary=target/release/sightline-collector

log() { printf 'image: %s\n' "$*" >&2; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

podman_() {
  podman --root "$cache/podman/storage" --runroot "$cache/podman/run" --storage-driver vfs \
    --events-backend file --cgroup-manager cgroupfs "$@"
}

image_bytes() { podman_ image inspect --format '{{.Size}}' "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# The libraries the dynamic loader resolves for the binary, with their listed paths.
binary_libs() {
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u
}

# What gcr.io/distroless/cc-debian12 ships of those: glibc and the GCC runtime. The libs
# base holds only these, so a binary that needs more (e.g. a dynamically linked libz) fails
# here, as it would on the real runtime image, instead of passing on a fuller base.
distroless_cc_lib='/(ld-linux[^/]*|lib(c|m|dl|pthread|rt|resolv|gcc_s|stdc\+\+)\.so[.0-9]*)$'

write_etc() { # rootfs
  mkdir -p "$1/etc" "$1/tmp" "$1/home/nonroot" "$1/var/lib"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$1/etc/group"
  printf 'hosts: files dns\n' >"$1/etc/nsswitch.conf"
  chown 65532:65532 "$1/home/nonroot"
}

base_libs() {
  local tag stamp rootfs libs=()
  mapfile -t libs < <(binary_libs)
  local lib extra=()
  for lib in "${libs[@]}"; do [[ $lib =~ $distroless_cc_lib ]] || extra+=("$lib"); done
  if [ ${#extra[@]} -gt 0 ]; then
    log "$binary needs ${extra[*]}, which the distroless cc runtime does not ship: link it statically"
    exit 1
  fi
  stamp=$( { sha256sum "${libs[@]}" "$0"; } | sha256sum | cut -c1-12)
  tag=localhost/sightline-runtime-base:libs-$stamp
  if ! podman_ image exists "$tag"; then
    rootfs=$work/base-libs
    rm -rf "$rootfs" && mkdir -p "$rootfs"
    for lib in "${libs[@]}"; do cp -L --parents "$lib" "$rootfs/"; done
    write_etc "$rootfs"
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
      mkdir -p "$rootfs/etc/ssl/certs" && cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/"
    fi
    log "base (libs): ${libs[*]}"
    tar --numeric-owner -C "$rootfs" -c . | podman_ import --quiet - "$tag" >/dev/null
  fi
  echo "$tag"
}

base_debian() {
  local tag=localhost/sightline-runtime-base:debian-bookworm rootfs=$work/base-debian
  if ! podman_ image exists "$tag"; then
    if [ ! -f "$work/base-debian.complete" ]; then
      scripts/deploy-tools.sh debootstrap >/dev/null
      rm -rf "$rootfs" && mkdir -p "$work"
      local t0; t0=$(now)
      log "debootstrap --variant=minbase bookworm (downloads Debian packages)"
      debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
        || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
      rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
      touch "$work/base-debian.complete"
      log "debootstrap took $(elapsed "$t0") s; root filesystem $(du -sh "$rootfs" | cut -f1)"
    fi
    grep -q '^nonroot:' "$rootfs/etc/passwd" || {
      echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
      echo 'nonroot:x:65532:' >>"$rootfs/etc/group"
      mkdir -p "$rootfs/home/nonroot" && chown 65532:65532 "$rootfs/home/nonroot"
    }
    tar --numeric-owner -C "$rootfs" -c . | podman_ import --quiet - "$tag" >/dev/null
  fi
  echo "$tag"
}

build() { # base-kind
  local t0 base
  mkdir -p "$work"
  t0=$(now)
  log "cargo build --release -p sightline-collector"
  cargo build --release --quiet -p sightline-collector
  log "release binary ready after $(elapsed "$t0") s"
  scripts/deploy-tools.sh podman >/dev/null
  t0=$(now)
  case $1 in
    libs) base=$(base_libs) ;;
    debian) base=$(base_debian) ;;
    *) log "IMAGE_BASE must be libs or debian, not $1"; exit 2 ;;
  esac
  log "runtime base $base: $(mib "$(image_bytes "$base")") (ready after $(elapsed "$t0") s)"
  t0=$(now)
  podman_ build --quiet --isolation=chroot -f deploy/Containerfile --target runtime \
    --build-arg COLLECTOR_FROM=prebuilt --build-arg RUNTIME_IMAGE="$base" \
    --build-arg VERSION="$version" \
    --build-arg REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    -t "$image" . >/dev/null
  podman_ image prune -f >/dev/null
  local bytes; bytes=$(image_bytes "$image")
  log "built $image on $1 base in $(elapsed "$t0") s: $(mib "$bytes") ($bytes bytes; collector binary $(mib "$(stat -c %s "$binary")"))"
  echo "$image"
}

case ${1:-build} in
  build) build "${IMAGE_BASE:-libs}" ;;
  compare-bases)
    for kind in libs debian; do
      podman_ rmi -f "$image" >/dev/null 2>&1 || true
      t0=$(now); build "$kind" >/dev/null
      log "compare: $kind base, image $(mib "$(image_bytes "$image")"), $(elapsed "$t0") s including the base"
    done
    build "${IMAGE_BASE:-libs}" ;;
  base) scripts/deploy-tools.sh podman >/dev/null; mkdir -p "$work"
    case ${2:-libs} in libs) base_libs ;; debian) base_debian ;; *) exit 2 ;; esac ;;
  podman) shift; podman_ "$@" ;;
  *) sed -n '2,19p' "$0" >&2; exit 2 ;;
esac
