#!/usr/bin/env bash
# Install what bosh-offline and its tests need on a Debian 12 machine (run as root):
# Debian packages for the test replicas (gpg, reprepro, ruby for `gem build`, debootstrap for
# the offline target), then this project with its test extras, then the real bosh-init and bosh CLI
# from ../shared/upstream (when present) into .bosh-tools/, for the tests marked real_bosh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    gpg gpgv gpg-agent reprepro apt-utils debian-archive-keyring \
    debootstrap ruby ruby-dev build-essential curl xz-utils ca-certificates 7zip iproute2 util-linux \
    >/dev/null
python3 -m pip install -q --disable-pip-version-check -e '.[test,fast]'
UPSTREAM="$(cd .. && pwd)/shared/upstream"
if [ -x "$UPSTREAM/build-bosh-tools.sh" ] || [ -f "$UPSTREAM/build-bosh-tools.sh" ]; then
    bash "$UPSTREAM/build-bosh-tools.sh" "$PWD/.bosh-tools"
else
    echo "setup: $UPSTREAM is absent: the real_bosh tests will be skipped" >&2
fi
