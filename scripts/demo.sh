#!/usr/bin/env bash
# Starts the whole system for a person to try, as root on Debian 12 + Node 20:
# installs what it needs (scripts/install.sh: Debian packages, npm ci, build), builds the dev
# tools (dev/, outside the package: npm run build:dev), then runs their `demo` in the foreground:
# Redis, pcscd + a virtual card reader (vpcd) in private namespaces, demo accounts and cards, the
# server in demo mode with its OpenID provider, the card agent, and a demo MIS (examples/oidc-mis)
# signing in through it. It prints the MIS's URL first, then the demo logins and cards. Ctrl-C
# stops everything. Idempotent: a second run reuses the data in var/. Options go to `demo` (see:
# npm run --silent dev -- demo --help),
# e.g. bash scripts/demo.sh --port 8081
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ $EUID -ne 0 ]]; then
  echo "cardauth demo: run as root (it installs Debian packages and runs pcscd in private namespaces)" >&2
  exit 1
fi
bash scripts/install.sh
npm run --silent build:dev
exec node dist-dev/dev/cli.js demo "$@"
