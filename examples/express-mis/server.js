// @ts-check
// A small Node MIS embedding cardauth: its own patients page and upload route, cardauth's
// login pages and API mounted in the same Express app. Typechecked by `npm run typecheck`
// (JSDoc types, checkJs); see README.md to run it.
'use strict';
const express = require('express');
/** @type {typeof import('../../src/index')} */
const { createCardauth, createJsonLogger, loadServerConfig } = require('../../dist');

const config = loadServerConfig({
  REDIS_URL: 'redis://127.0.0.1:6390',
  CARDAUTH_PUBLIC_ORIGIN: 'http://127.0.0.1:3000',
  ...process.env,
});
const cardauth = createCardauth({ config, logger: createJsonLogger(process.stdout) });

const app = express();
// Express settings are the host's: cardauth refuses (503) to run under another trust proxy.
app.set('trust proxy', config.CARDAUTH_TRUST_PROXY);
// cardauth's /login, /home, /auth/*, /agents/*, /assets/*, /healthz, /readyz; every other path is the MIS's.
app.use(cardauth.router);

/** @param {string} s */
const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

app.get('/', (_req, res) => res.redirect(303, '/patients'));

app.get('/patients', cardauth.requireLogin(), (req, res) => {
  const { user } = /** @type {import('../../src/index').LoggedInRequest} */ (req);
  res.type('html').send(`<!doctype html><title>Patients</title>
<h1>Patients</h1><p>${escape(user.displayName)} (${escape(user.login)}), roles: ${escape(user.roles.join(', '))}</p>
<p>POST /upload takes a scan of up to 2 MB.</p>`);
});

// The MIS's own body limit, not cardauth's 16 KB.
app.post('/upload', cardauth.requireLogin({ api: true }), express.raw({ limit: '2mb', type: '*/*' }), (req, res) => {
  res.json({ bytes: /** @type {Buffer} */ (req.body).length });
});

const port = Number(process.env.MIS_PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => console.log(`MIS on http://127.0.0.1:${port}/patients`));
process.once('SIGINT', () => server.close(() => void cardauth.close()));
process.once('SIGTERM', () => server.close(() => void cardauth.close()));
