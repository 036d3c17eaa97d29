import { BlockList, isIPv4 } from 'node:net';
import type { AgentStore } from '../store/agents';

/**
 * Whether a card step may come from a client IP: only from one the agent's
 * workstation was seen at (its enrollment, its signed events), so a statement
 * carried off the workstation is refused, unless the IP lies in one of the
 * `exempt` ranges (CIDR or single addresses, as CARDAUTH_WORKSTATION_IP_EXEMPT
 * lists them: NAT or terminal servers whose browsers and agents reach the
 * server from different addresses). An exempt IP costs no Redis read.
 *
 * @example
 * const workstationSeenAt = createWorkstationIpCheck({ agents, exempt: ['10.20.0.0/16'] });
 * await workstationSeenAt('ag_0123456789abcdef', '10.20.3.4'); // => true
 */
export function createWorkstationIpCheck(deps: { agents: Pick<AgentStore, 'seenAt'>; exempt: readonly string[] }) {
  const exempt = new BlockList();
  for (const range of deps.exempt) {
    const [address = '', bits] = range.split('/');
    const family = isIPv4(address) ? 'ipv4' : 'ipv6';
    exempt.addSubnet(address, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
  }
  const isExempt = (ip: string) => deps.exempt.length > 0 && exempt.check(ip, isIPv4(ip) ? 'ipv4' : 'ipv6');
  return (agentId: string, ip: string): Promise<boolean> => (isExempt(ip) ? Promise.resolve(true) : deps.agents.seenAt(agentId, ip));
}
