#!/bin/sh
# Lays out what the FROM scratch runtime image holds besides the binary, in
# OUT/rootfs (copied to /, owned by root) and OUT/state (copied to
# /var/lib/blindlist, owned by the runtime user). Used by both image builds:
# deploy/Dockerfile (multi-stage, inside the golang stage) and
# deploy/build-images.sh (no registry, on this machine), so both images hold
# the same files.
#
#   deploy/image-rootfs.sh OUT
#
# The runtime user is numeric (65532, distroless's "nonroot"): Kubernetes'
# runAsNonRoot can check it, and /etc/passwd only gives it a name for tools
# that print one. No CA bundle and no zoneinfo: the binary embeds Mozilla's
# roots (golang.org/x/crypto/x509roots/fallback) and logs in UTC.
set -eu
out=${1:?usage: image-rootfs.sh OUT}
mkdir -p "$out/rootfs/etc" "$out/rootfs/usr/local/bin" "$out/state"
printf 'root:x:0:0:root:/:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/var/lib/blindlist:/sbin/nologin\n' >"$out/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/rootfs/etc/group"
chmod 0644 "$out/rootfs/etc/passwd" "$out/rootfs/etc/group"
