// The import rules between cardauth's programs (docs/layout.md). Run by scripts/test.sh (CI) as
// `npm run --silent check:imports`; a violation names the rule, the importing file and the import.
//
// - the contract (src/contract): what crosses the wire between the server and the workstation agent;
// - neutral modules (clock, logger, errors, config, …): plain tools either program may use;
// - the agent (src/card-agent) and the server (its folders, and its entry files in src/);
// - the command line (src/cli): thin adapters, for both programs;
// - dev/: the demo, the virtual card and reader, the Redis launcher: never shipped.

const CONTRACT = '^src/contract/';
const NEUTRAL = '^src/(clock|config|days|errors|error-handler|escape-invisible|key-file|logger|policy-profiles|write-whole)[.]ts$';
const AGENT = '^src/card-agent/';
const SERVER = ['^src/(admin|audit|http|oidc|policy|store|strategies)/', '^src/(app|embed|redis|router|server|services)[.]ts$'];
const CLI = '^src/cli/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'agent-only-through-contract',
      comment: 'The workstation agent imports of the rest of src/ only the contract and the neutral modules.',
      severity: 'error',
      from: { path: AGENT },
      to: { path: '^src/', pathNot: [AGENT, CONTRACT, NEUTRAL] },
    },
    {
      name: 'server-only-through-contract',
      comment: 'The server meets the agent only in src/contract, and never calls the command line.',
      severity: 'error',
      from: { path: SERVER },
      to: { path: [AGENT, CLI] },
    },
    {
      name: 'contract-stands-alone',
      comment: 'The contract is formats and rules both sides import: it imports nothing of theirs.',
      severity: 'error',
      from: { path: CONTRACT },
      to: { path: '^src/', pathNot: [CONTRACT, '^src/errors[.]ts$'] },
    },
    {
      name: 'neutral-stays-neutral',
      comment: 'A neutral module belongs to no program, so either may import it.',
      severity: 'error',
      from: { path: NEUTRAL },
      to: { path: '^src/', pathNot: [CONTRACT, NEUTRAL] },
    },
    {
      name: 'shipped-imports-only-shipped',
      comment: 'Nothing shipped (src, bin, examples) imports dev/, test/ or bench/: they are not in the package.',
      severity: 'error',
      from: { path: '^(src|bin|examples)/' },
      to: { path: '^(dev|test|bench)/' },
    },
    {
      name: 'no-unresolved-relative',
      comment: 'A relative import that does not resolve would slip past every rule above.',
      severity: 'error',
      from: { pathNot: '^examples/' }, // the examples load the build, dist/
      to: { couldNotResolve: true, path: '^[.]' },
    },
  ],
  options: {
    // Type-only imports count too: a type from the other program is a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|dist-bench)/' },
  },
};
