#!/bin/sh
# Lays out a FROM scratch Redis image from Debian's redis-server package as
# installed where this runs: redis-server and redis-cli, every shared library
# ldd names for them (with the dynamic loader), an /etc/passwd with the
# numeric user 999, and an empty data directory. OUT/rootfs is copied to /
# (owned by root), OUT/data to /data (owned by 999). Used inside
# deploy/redis/Dockerfile (a debian:bookworm-slim stage, with registries) and
# by deploy/build-images.sh on a Debian host (without).
#
#   deploy/redis/rootfs.sh OUT
set -eu
out=${1:?usage: rootfs.sh OUT}
bins="/usr/bin/redis-server /usr/bin/redis-cli"
for b in $bins; do
  [ -x "$b" ] || { echo "rootfs.sh: $b missing: apt-get install redis-server" >&2; exit 1; }
done
mkdir -p "$out/rootfs/etc" "$out/rootfs/usr/bin" "$out/data"
for b in $bins; do cp -L "$b" "$out/rootfs/usr/bin/"; done
# "libX.so => /path (addr)" and the loader's "/lib64/ld-linux... (addr)".
libs=$(ldd $bins | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $1 !~ /:$/ {print $1}' | sort -u)
[ -n "$libs" ] || { echo "rootfs.sh: ldd found no libraries" >&2; exit 1; }
for l in $libs; do
  mkdir -p "$out/rootfs$(dirname "$l")"
  cp -L "$l" "$out/rootfs$l"
done
printf 'root:x:0:0:root:/:/sbin/nologin\nredis:x:999:999:redis:/data:/sbin/nologin\n' >"$out/rootfs/etc/passwd"
printf 'root:x:0:\nredis:x:999:\n' >"$out/rootfs/etc/group"
chmod 0644 "$out/rootfs/etc/passwd" "$out/rootfs/etc/group"
