#!/usr/bin/env node
// Rewrites docs/audit-events.md and the README's audit table from the events table
// (src/audit/events.ts), through dist/: run `npm run build` first. Tests keep both equal to the code.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const { auditEventsTable } = require(join(root, 'dist', 'audit', 'events'));
const { auditEventsDoc } = require(join(root, 'dist', 'audit', 'events-doc'));

writeFileSync(join(root, 'docs', 'audit-events.md'), auditEventsDoc());

const readmeFile = join(root, 'README.md');
const readme = readFileSync(readmeFile, 'utf8');
const start = readme.indexOf('\n', readme.indexOf('<!-- audit-table:start')) + 1;
const end = readme.indexOf('<!-- audit-table:end');
if (start === 0 || end < start) throw new Error('README.md: no audit-table markers');
writeFileSync(readmeFile, `${readme.slice(0, start)}${auditEventsTable()}\n${readme.slice(end)}`);
