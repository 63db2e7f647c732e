#!/usr/bin/env bash
# Install everything this project needs on a fresh Debian 12 machine (idempotent).
# System packages: git, redis-server (Celery broker for tests and the demo), debootstrap (the
# sandbox image is built from a Debian root filesystem, since there may be no registry);
# for the tests only: postgresql (the same code on PostgreSQL), chromium and chromium-driver
# (the pages, driven by Selenium in tests/web).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in git redis-server debootstrap postgresql chromium chromium-driver; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "install.sh: apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -c deploy/constraints.txt -e '.[dev]'
