#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs, builds, then jest.
# Tests start their own redis-server, pcscd (in private namespaces) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm run --silent typecheck
exec npx jest --ci "$@"
