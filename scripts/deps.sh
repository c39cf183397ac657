#!/usr/bin/env bash
# Installs the Debian packages the tests need, only those missing, with one
# `apt-get update` at most. Packages are given as arguments; the aws CLI,
# nodejs and npm are installed from Debian when no `aws`, `node` or `npm` is
# on PATH. moto_server has no Debian
# package: when it is missing the script says how to get it and fails, since
# `make test` would fail on it anyway.
set -euo pipefail

need_moto() {
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "moto_server not found on PATH: install it with pip install 'moto[server]'" >&2
    exit 1
  fi
}

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v aws >/dev/null 2>&1 || missing+=(awscli)
# The machine's own Node.js and npm are kept; Debian's only when there is none.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  need_moto
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
need_moto
