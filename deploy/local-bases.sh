#!/bin/sh
# Makes the base images deploy/Dockerfile and deploy/redis/Dockerfile start
# from, without any registry, so those multi-stage files build as they are:
#
#   debian:bookworm-slim   debootstrap --variant=minbase from a Debian mirror
#                          (or your local mirror), then docker import
#   golang:1.26-bookworm   that base plus this machine's Go toolchain
#                          ($(go env GOROOT), which must be Go 1.26.x) and
#                          CA bundle
#
#   deploy/local-bases.sh [MIRROR]     # default http://deb.debian.org/debian
#
# Needs root, debootstrap (apt-get install debootstrap) and a few minutes.
# Then: docker build -f deploy/Dockerfile -t blindlist:dev .
#       docker build -t blindlist-redis:dev deploy/redis
# (The builds themselves still fetch Go modules and Debian packages: point
# GOPROXY and the image's apt sources at local mirrors when offline.)
set -eu
mirror=${1:-http://deb.debian.org/debian}
goroot=$(go env GOROOT)
case $(go env GOVERSION) in go1.26*) ;; *) echo "local-bases.sh: Go 1.26 needed, have $(go env GOVERSION)" >&2; exit 1 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

debootstrap --variant=minbase bookworm "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
  { tail -20 "$tmp/debootstrap.log" >&2; exit 1; }
rm -rf "$tmp/rootfs/var/lib/apt/lists/"* "$tmp/rootfs/var/cache/apt/archives/"*.deb
tar -C "$tmp/rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
echo "made debian:bookworm-slim"

mkdir -p "$tmp/golang"
cp -a "$goroot" "$tmp/golang/go"
# This machine's CA bundle (Debian's, plus any proxy CA it trusts), so the
# build stage reaches the module proxy as this machine does.
cp /etc/ssl/certs/ca-certificates.crt "$tmp/golang/"
cat >"$tmp/golang/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY go /usr/local/go
ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOPATH=/go GOTOOLCHAIN=local
WORKDIR /go
DOCKERFILE
if ! docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=0; fi
docker build -q -t golang:1.26-bookworm "$tmp/golang" >/dev/null
echo "made golang:1.26-bookworm"
