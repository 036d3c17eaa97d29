// `cardauth serve` with a clock the test moves: the same startServer from dist/, the config from
// the environment, but its clock is the real one plus an offset. Each stdin line `advance MS`
// moves it (MS may be negative) and is answered by a stdout line {"event":"advanced","offsetMs"}.
// SIGTERM closes the server as `cardauth serve` does. (oidc-provider is an ES module Jest cannot
// load, so a server with the provider on runs in its own process.)
const { createInterface } = require('node:readline');
const { loadServerConfig } = require('../../dist/config');
const { createJsonLogger } = require('../../dist/logger');
const { startServer } = require('../../dist/server');

let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };

startServer({ config: loadServerConfig(process.env), logger: createJsonLogger(process.stdout, clock.now), clock }).then(
  (server) => {
    createInterface({ input: process.stdin }).on('line', (line) => {
      const m = /^advance (-?\d+)$/.exec(line.trim());
      if (!m) return;
      offsetMs += Number(m[1]);
      process.stdout.write(`${JSON.stringify({ event: 'advanced', offsetMs })}\n`);
    });
    process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
  },
  (/** @type {unknown} */ err) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
