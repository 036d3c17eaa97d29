import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Clock } from './clock';
import { loadServerConfigSubset, type Env } from './config';
import { CardauthError } from './errors';
import type { Logger } from './logger';
import { connectRedis } from './redis';
import { createSiemForwarder } from './audit/siem-forwarder';
import { openSyslogConnection } from './audit/syslog-connection';
import { syslogFrame } from './audit/syslog-format';

export const SIEM_KEYS = ['REDIS_URL', 'CARDAUTH_SIEM_HOST', 'CARDAUTH_SIEM_PORT', 'CARDAUTH_SIEM_TLS', 'CARDAUTH_SIEM_CA_FILE', 'CARDAUTH_SIEM_CONFIRM_MS'] as const;

/**
 * The entry point of `cardauth audit forward`: loads its keys, connects Redis
 * (reconnecting), and forwards the audit trail to the SIEM until `close()`.
 *
 * @example
 * const forwarding = startSiemForwarding({ env: process.env, logger, clock: systemClock });
 * await forwarding.close();
 */
export function startSiemForwarding(deps: { env: Env; configFile?: string; logger: Logger; clock: Clock }): { close(): Promise<void> } {
  const config = loadServerConfigSubset(SIEM_KEYS, deps.env, deps.configFile);
  if (config.CARDAUTH_SIEM_HOST === '') throw new CardauthError('config_invalid', 'CARDAUTH_SIEM_HOST: required for audit forward (the SIEM syslog receiver)');
  let ca: string | undefined;
  if (config.CARDAUTH_SIEM_TLS && config.CARDAUTH_SIEM_CA_FILE !== '') {
    try {
      ca = readFileSync(config.CARDAUTH_SIEM_CA_FILE, 'utf8');
    } catch (err) {
      throw new CardauthError('config_invalid', `CARDAUTH_SIEM_CA_FILE: cannot read ${config.CARDAUTH_SIEM_CA_FILE}`, { cause: err });
    }
  }
  const redis = connectRedis(config.REDIS_URL, deps.logger);
  const target = {
    host: config.CARDAUTH_SIEM_HOST,
    port: config.CARDAUTH_SIEM_PORT,
    tls: config.CARDAUTH_SIEM_TLS ? (ca ? { ca } : {}) : (false as const),
    connectTimeoutMs: 5000,
  };
  const origin = { hostname: hostname(), appName: 'cardauth', procId: String(process.pid) };
  const forwarder = createSiemForwarder({
    redis,
    connect: () => openSyslogConnection(target),
    frame: (fields) => syslogFrame(fields, origin),
    clock: deps.clock,
    logger: deps.logger,
    confirmMs: config.CARDAUTH_SIEM_CONFIRM_MS,
    retryMs: 1000,
  });
  const stop = new AbortController();
  deps.logger.info('siem_forwarding', { to: `${target.host}:${target.port}`, tls: Boolean(target.tls) });
  const running = forwarder.run(stop.signal);
  return {
    async close() {
      stop.abort();
      await running;
      redis.disconnect();
    },
  };
}
