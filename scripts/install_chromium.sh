#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (never downloads a browser build).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
