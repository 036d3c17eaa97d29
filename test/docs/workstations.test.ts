import { join } from 'node:path';
import { loadAgentConfig } from '../../src/config';

describe('docs/workstations.md', () => {
  it('the sample agent settings (docs/systemd/agent.json) are a valid agent config file', () => {
    const config = loadAgentConfig({ CARDAUTH_AGENT_DIR: '/home/u/.local/share/cardauth-agent' }, join(__dirname, '..', '..', 'docs', 'systemd', 'agent.json'));
    expect(config.CARDAUTH_AGENT_ORIGINS).toEqual(['https://mis.example.ru']);
    expect(config.CARDAUTH_AGENT_SERVER).toBe('https://mis.example.ru');
  });
});
