#!/usr/bin/env bash
# Debian packages the product needs: a CJK font and Pango for PDFs (WeasyPrint), poppler for
# PDF checks, gettext for translations, Chromium for the browser tests, docker-compose to
# validate the production file. Installs only what is missing; needs root to install.
set -euo pipefail

PACKAGES=(fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils gettext)
if [[ "${1:-}" == "--test" ]]; then
    PACKAGES+=(chromium chromium-driver docker-compose faketime)
fi

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "缺少系统软件包 / missing system packages: ${missing[*]}" >&2
    echo "请以 root 身份运行，或先执行: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing system packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
