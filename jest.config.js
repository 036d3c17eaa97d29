// Each worker points its PC/SC client at its own socket (test/helpers/pcsc-client.ts); a value
// from the shell would reach every worker first and cannot be replaced there.
delete process.env.PCSCLITE_CSOCK_NAME;

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Points each worker's PC/SC client at its own socket path before any test file loads pcsclite.
  setupFiles: ['<rootDir>/test/helpers/pcsc-client.setup.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // jose 6 ships ESM only; Jest's CommonJS runtime needs it transformed.
    '^.+/node_modules/jose/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 30000,
  maxWorkers: 2,
};
