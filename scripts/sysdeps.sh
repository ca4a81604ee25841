#!/usr/bin/env bash
# Installs the Debian packages the test suite uses for real, when missing and when we may.
set -euo pipefail
PKGS=(poppler-utils softhsm2 opensc libnss3-tools tesseract-ocr tesseract-ocr-vie fonts-dejavu-core qpdf ghostscript  # ghostscript: PDF/A renditions in dossier exports
      chromium)  # the browser tests (tests/browser) drive Debian's Chromium headless through Playwright
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO=sudo; else
    echo "sysdeps: missing Debian packages: ${missing[*]} (install them: apt-get install ${missing[*]})" >&2; exit 1
  fi
else SUDO=; fi
echo "sysdeps: installing ${missing[*]}" >&2
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
