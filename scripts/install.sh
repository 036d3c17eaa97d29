#!/usr/bin/env bash
# Installs what cardauth needs on Debian 12 + Node 20, as root. Idempotent.
#   Debian: redis-server, pcscd + vsmartcard-vpcd (virtual reader), libpcsclite-dev,
#           g++ and make (node-gyp builds argon2 and pcsclite, the agent's optional PC/SC
#           module: with these here `npm ci` builds it), chromium (browser
#           tests), iproute2/util-linux (private network namespaces for pcscd), python3
#           (node-gyp, and the virtual card relay), nginx (the forward-auth tests run their
#           own, on loopback; the system's nginx service is not wanted), rsyslog with
#           rsyslog-gnutls and openssl (the SIEM forwarding tests run their own rsyslogd as a
#           TCP/TLS receiver, with a throwaway certificate).
#   npm:    npm ci (runs `prepare`, which builds dist/ so `npx cardauth` works).
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(redis-server pcscd vsmartcard-vpcd libpcsclite-dev g++ make chromium iproute2 util-linux python3 nginx rsyslog rsyslog-gnutls openssl)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "cardauth: installing Debian packages: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a newly installed nginx with its default site on port 80 of every interface.
  # The tests start their own nginx; the system service is stopped and disabled, only when
  # this script installed it (an nginx that was already there is left alone).
  if [[ " ${missing[*]} " == *" nginx "* && -d /run/systemd/system ]]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
    echo "cardauth: stopped and disabled the system nginx service (the tests run their own nginx)" >&2
  fi
fi

# vsmartcard-vpcd installs a reader config for the system pcscd, which would make a
# system pcscd listen on TCP 35963/35964 on every interface. cardauth only runs vpcd in
# its own private namespaces (with its own config), so the system-wide file is set aside.
if [[ -f /etc/reader.conf.d/vpcd ]]; then
  mv /etc/reader.conf.d/vpcd /etc/reader.conf.d/vpcd.disabled-by-cardauth
  echo "cardauth: moved /etc/reader.conf.d/vpcd aside (the system pcscd must not open vpcd's TCP ports)" >&2
fi

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "cardauth: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
else
  npm run --silent build
fi
