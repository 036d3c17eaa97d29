import { createWorkstationIpCheck } from '../../src/strategies/workstation-ip';

// A plain fake of the agent store: the IPs each agent was seen at, and every read made.
function setup(exempt: readonly string[]) {
  const seen: Record<string, string[]> = { ag_0000000000000001: ['192.0.2.10'] };
  const reads: string[] = [];
  const check = createWorkstationIpCheck({
    agents: { seenAt: async (id, ip) => (reads.push(ip), (seen[id] ?? []).includes(ip)) },
    exempt,
  });
  return { check, reads };
}
const AGENT = 'ag_0000000000000001';

describe('workstation IP check', () => {
  it('with no exempt ranges: only an IP the agent was seen at', async () => {
    const { check } = setup([]);
    expect(await check(AGENT, '192.0.2.10')).toBe(true);
    expect(await check(AGENT, '192.0.2.11')).toBe(false);
    expect(await check('ag_0000000000000002', '192.0.2.10')).toBe(false);
  });

  it('an exempt range passes any agent without reading the store; addresses and IPv4-mapped IPv6 too', async () => {
    const { check, reads } = setup(['10.20.0.0/16', '172.16.5.9', '2001:db8::/32']);
    for (const ip of ['10.20.3.4', '::ffff:10.20.0.1', '172.16.5.9', '2001:db8::7']) expect(await check('ag_0000000000000002', ip)).toBe(true);
    expect(reads).toEqual([]);
    for (const ip of ['10.21.0.1', '172.16.5.10', '2001:db9::1', 'unknown']) expect(await check('ag_0000000000000002', ip)).toBe(false);
  });

  it('0.0.0.0/0 and ::/0 turn the check off', async () => {
    const { check, reads } = setup(['0.0.0.0/0', '::/0']);
    for (const ip of ['198.51.100.7', '2001:db9::1', '::ffff:203.0.113.1']) expect(await check(AGENT, ip)).toBe(true);
    expect(reads).toEqual([]);
  });
});
