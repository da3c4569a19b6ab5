#!/bin/sh
# Creates the local stack's secrets (compose.yaml), once:
#
#   deploy/compose-init.sh [DIR]      # DIR: default deploy/secrets (git-ignored)
#
#   user-token   a user bearer token, the app's pirAuthenticationToken (base64)
#   ohttp.env    BLINDLIST_OHTTP_SEED: the gateway's 32-byte key seed, hex
#   redis.conf   requirepass for Redis
#   redis.env    BLINDLIST_REDIS_PASSWORD: the same password, for the replicas
#
# Files that exist are kept (the seed is the gateway key registered with
# Apple). The issuer keys are created by the replicas on first start, in
# their state volume. It also makes the database directory (deploy/out) the
# build job writes as the image's user (65532): world-writable, local
# development only. The files are readable by the containers' users (65532,
# 999): local development only; in Kubernetes they are Secrets.
set -eu
cd "$(dirname "$0")"
dir=${1:-secrets}
mkdir -p "$dir" out
chmod a+rwx out
umask 022
rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [ ! -s "$dir/user-token" ]; then
  head -c 32 /dev/urandom | base64 >"$dir/user-token"
  echo "wrote $dir/user-token"
fi
if [ ! -s "$dir/ohttp.env" ]; then
  echo "BLINDLIST_OHTTP_SEED=$(rand)" >"$dir/ohttp.env"
  echo "wrote $dir/ohttp.env"
fi
if [ ! -s "$dir/redis.conf" ] || [ ! -s "$dir/redis.env" ]; then
  pw=$(rand)
  echo "requirepass $pw" >"$dir/redis.conf"
  echo "BLINDLIST_REDIS_PASSWORD=$pw" >"$dir/redis.env"
  echo "wrote $dir/redis.conf and $dir/redis.env"
fi
