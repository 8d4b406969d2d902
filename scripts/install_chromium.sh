#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (never downloads a browser build).
set -euo pipefail
# fonts-noto-cjk lets screenshots show Chinese text; the tests pass without it.
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/opentype/noto ]; then exit 0; fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
