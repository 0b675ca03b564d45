#!/usr/bin/env bash
# Installs Debian's headless Chromium for the HTML report test, when missing and when we are root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != "0" ]; then echo "chromium missing and not root: install the Debian package 'chromium'" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
