import { pointPcscClient } from './pcsc-client';

// Jest `setupFiles`: before every test file, so that no test file can be the
// first to load pcsclite in a worker without it (see pcsc-client.ts).
pointPcscClient();
