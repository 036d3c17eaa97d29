#!/usr/bin/env bash
# Runs the whole test suite: installs what it needs, builds (dist/, and the dev tools in dist-dev/:
# the demo and card tap tests run them), checks types and the import rules between the programs
# (.dependency-cruiser.js, docs/layout.md), then jest.
# Tests start their own redis-server, pcscd (in private namespaces) and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm run --silent build:dev
npm run --silent typecheck
npm run --silent check:imports
exec npx jest --ci "$@"
