#!/bin/sh
# Creates the local stack's secrets in deploy/secrets/ (git-ignored): a user
# bearer token, the app's pirAuthenticationToken, which must be base64.
# The gateway's OHTTP seed and the issuer keys are created by the services
# themselves on first start, in their named volumes.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets out
# The build job runs as the image's user (65532) and writes the database
# here through a bind mount: let it (local development only).
chmod a+rwx out
if [ ! -s secrets/user-token ]; then
  # Readable by the container user (65532): local development only.
  umask 022
  head -c 32 /dev/urandom | base64 > secrets/user-token
  echo "wrote deploy/secrets/user-token"
fi
