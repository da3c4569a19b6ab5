#!/bin/sh
# Builds the compose stack's images without any registry (an air-gapped
# machine, or one whose engine has no images): nothing is pulled.
#
#   deploy/build-images.sh              # both images
#   deploy/build-images.sh blindlist    # or only one: blindlist, redis
#
# blindlist: the static binary is compiled here (Go from go.mod, CGO_ENABLED=0,
# -trimpath, as deploy/Dockerfile does) and packed FROM scratch with
# deploy/Dockerfile.prebuilt. redis: this machine's Debian redis-server
# package (apt-get install redis-server) with its libraries, FROM scratch,
# with deploy/redis/Dockerfile.prebuilt.
#
# Environment:
#   BLINDLIST_IMAGE   tag of the blindlist image (default blindlist:dev)
#   REDIS_IMAGE       tag of the Redis image (default blindlist-redis:dev)
#   IMAGE_VERSION     the org.opencontainers.image.version label (default:
#                     git describe, else "dev"); a new value makes a new image
#   BLINDLIST_BIN_DIR also leave the compiled binary there (for the host's
#                     `blindlist query`)
set -eu
deploy=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$deploy")
blindlist_image=${BLINDLIST_IMAGE:-blindlist:dev}
redis_image=${REDIS_IMAGE:-blindlist-redis:dev}
version=${IMAGE_VERSION:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo dev)}
what=${*:-blindlist redis}

# The legacy builder needs no buildx plugin; BuildKit is used when present.
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT INT TERM

for w in $what; do
  case $w in
  blindlist)
    mkdir -p "$ctx/blindlist"
    sh "$deploy/image-rootfs.sh" "$ctx/blindlist"
    (cd "$root" && CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -buildid=" \
      -o "$ctx/blindlist/rootfs/usr/local/bin/blindlist" ./cmd/blindlist)
    if [ -n "${BLINDLIST_BIN_DIR:-}" ]; then
      mkdir -p "$BLINDLIST_BIN_DIR"
      cp "$ctx/blindlist/rootfs/usr/local/bin/blindlist" "$BLINDLIST_BIN_DIR/blindlist"
    fi
    docker build -q -f "$deploy/Dockerfile.prebuilt" --label "org.opencontainers.image.version=$version" \
      -t "$blindlist_image" "$ctx/blindlist" >/dev/null
    echo "built $blindlist_image"
    ;;
  redis)
    mkdir -p "$ctx/redis"
    sh "$deploy/redis/rootfs.sh" "$ctx/redis"
    docker build -q -f "$deploy/redis/Dockerfile.prebuilt" --label "org.opencontainers.image.version=$version" \
      -t "$redis_image" "$ctx/redis" >/dev/null
    echo "built $redis_image"
    ;;
  *)
    echo "build-images.sh: unknown image $w (want blindlist or redis)" >&2
    exit 2
    ;;
  esac
done
