#!/usr/bin/env bash
# Installs Debian's Tesseract OCR (English + simplified Chinese) when it is missing, and a CJK font that the tests
# and bench/ocr.py render Chinese pages with.
set -euo pipefail
have_lang() { tesseract --list-langs 2>/dev/null | grep -qx "$1"; }
if command -v tesseract >/dev/null && have_lang eng && have_lang chi_sim && [ -d /usr/share/fonts/opentype/noto ]; then
  exit 0
fi
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq \
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim fonts-noto-cjk >/dev/null
