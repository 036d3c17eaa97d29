import { systemClock } from '../src/clock';
import { main, processIo } from '../src/cli/main';
import { createServeCommand } from '../src/cli/serve';
import { cardRemove, cardTap } from './card-tap';
import { demo } from './demo/command';
import { demoRoutes } from './demo/routes';

/**
 * The dev tools' command line, outside the shipped package (`npm run build:dev`,
 * then `npm run --silent dev -- COMMAND`; scripts/demo.sh runs `demo`):
 *
 * - `demo`: the whole system with a virtual card reader and demo accounts;
 * - `card tap` / `card remove`: a virtual card on the vpcd reader;
 * - `serve`: `cardauth serve` plus the demo's routes (what `demo` runs as its server).
 *
 * Same parsing, help, output and exit codes as `cardauth` (src/cli/main.ts).
 */
const DEV_COMMANDS = [cardTap, cardRemove, demo, createServeCommand(demoRoutes)];

main(process.argv.slice(2), processIo, systemClock, DEV_COMMANDS).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cardauth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 70;
  },
);
