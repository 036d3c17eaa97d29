import { configTable } from '../config';
import type { Command } from './command';

/** `cardauth config table`. */
export const configTableCommand: Command = {
  path: ['config', 'table'],
  usage: '',
  summary: 'print the table of configuration keys and defaults (markdown)',
  options: {},
  async run(ctx) {
    ctx.io.stdout.write(`${configTable()}\n`);
    return 0;
  },
};

export const configCommands: readonly Command[] = [configTableCommand];
