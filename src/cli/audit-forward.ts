import { createJsonLogger } from '../logger';
import type { Command } from './command';

/** `cardauth audit forward`: the audit trail to a SIEM as RFC 5424 syslog, until SIGTERM/SIGINT. */
export const auditForward: Command = {
  path: ['audit', 'forward'],
  usage: '',
  summary: 'send the audit trail to a SIEM as RFC 5424 syslog over TCP or TLS, at least once, until SIGTERM/SIGINT',
  details: [
    'Needs CARDAUTH_SIEM_HOST (and CARDAUTH_SIEM_PORT, CARDAUTH_SIEM_TLS, CARDAUTH_SIEM_CA_FILE);',
    'see `cardauth config table`. The cursor is a Redis consumer group on the audit stream (`siem`):',
    'a restart, a SIEM outage or a Redis outage resumes where it stopped, with no gap (a record sent',
    'just before a connection broke is sent again). The first run sends the whole trail. Run one.',
    'Logs are JSON lines on stdout.',
  ].join('\n'),
  options: {},
  async run(ctx) {
    const logger = createJsonLogger(ctx.io.stdout, () => ctx.clock.now());
    const stop = ctx.io.stopSignal();
    let forwarding;
    try {
      const { startSiemForwarding } = require('../siem') as typeof import('../siem');
      forwarding = startSiemForwarding({ env: ctx.io.env, ...(ctx.configFile ? { configFile: ctx.configFile } : {}), logger, clock: ctx.clock });
    } catch (err) {
      stop.cancel();
      throw err;
    }
    const signal = await stop.signal;
    logger.info('stopping', { signal });
    await forwarding.close();
    return 0;
  },
};
