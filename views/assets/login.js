// Login page: card step through the workstation agent, then login + password.
// No inline script (CSP); messages come from the JSON block in the page.
(function () {
  'use strict';
  var root = document.getElementById('login');
  if (!root) return;
  var T = JSON.parse(document.getElementById('messages').textContent);
  var agentUrl = root.dataset.agentUrl;
  var agentPorts = root.dataset.agentPorts;
  var origin = root.dataset.origin;
  var next = root.dataset.next || '/home';
  var stepCard = document.getElementById('step-card');
  var form = document.getElementById('step-password');
  var statusEl = document.getElementById('card-status');
  var errorEl = document.getElementById('error');
  var loginField = document.getElementById('login-field');
  var passwordField = document.getElementById('password-field');
  var generation = 0;
  // A nonce is kept for half its life while no card comes (the agent's wait runs out, or it
  // is unreachable): an idle page asks for one a minute or so, not one per wait.
  var nonce = null;
  var nonceUntil = 0;

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function setStatus(text) { statusEl.textContent = text; }
  function hideError() { errorEl.hidden = true; errorEl.textContent = ''; }
  function showError(err) {
    var code = (err && err.code) || 'generic';
    var text = T['err_' + code] || T.err_generic;
    if (code === 'locked') text = text.replace('{min}', String(Math.max(1, Math.ceil((err.retryAfterSec || 60) / 60))));
    errorEl.textContent = text;
    errorEl.hidden = false;
  }

  function api(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
      credentials: 'same-origin',
    }).then(function (r) {
      if (r.status === 204) return {};
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok) return data;
        var e = new Error('request failed');
        e.code = (data && data.error && data.error.code) || (r.status >= 500 ? 'unavailable' : 'generic');
        e.retryAfterSec = data && data.error && data.error.retryAfterSec;
        throw e;
      });
    });
  }

  // Terminal servers: one agent per user session, each on its own loopback port.
  // Only this user's agent answers (the others refuse another user); remember it.
  function findAgent() {
    if (!agentPorts) return Promise.resolve(agentUrl);
    var known = sessionStorage.getItem('cardauth.agentUrl');
    if (known) return Promise.resolve(known);
    var range = agentPorts.split('-').map(Number);
    var probes = [];
    for (var p = range[0]; p <= range[1]; p++) {
      (function (url) {
        probes.push(fetch(url + '/v1/status', { signal: AbortSignal.timeout(2000) }).then(function (r) {
          if (!r.ok) throw new Error('not mine');
          return url;
        }));
      })('http://127.0.0.1:' + p);
    }
    return Promise.any(probes).then(function (url) {
      sessionStorage.setItem('cardauth.agentUrl', url);
      return url;
    });
  }

  function askAgent(nonce) {
    return findAgent().then(function (url) {
      agentUrl = url;
      return fetch(agentUrl + '/v1/statement', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce: nonce, aud: origin }),
      });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok && data.statement) return data.statement;
        var e = new Error('agent');
        e.code = (data && data.error && data.error.code) || 'agent_error';
        throw e;
      });
    }, function (err) {
      sessionStorage.removeItem('cardauth.agentUrl'); // the agent moved or stopped: look again next time
      throw err;
    });
  }

  function showCardStep() {
    form.hidden = true;
    stepCard.hidden = false;
    passwordField.value = '';
  }
  function showPasswordStep(login) {
    stepCard.hidden = true;
    form.hidden = false;
    if (login) { loginField.value = login; passwordField.focus(); } else { loginField.focus(); }
  }

  async function cardLoop() {
    var mine = ++generation;
    showCardStep();
    for (;;) {
      if (mine !== generation) return;
      setStatus(T.waiting);
      if (!nonce || performance.now() >= nonceUntil) {
        try {
          var issued = await api('/auth/nonce');
          nonce = issued.nonce;
          nonceUntil = performance.now() + (issued.expiresInSec * 1000) / 2;
        } catch (e) {
          nonce = null;
          showError(e);
          await sleep(5000);
          continue;
        }
      }
      var statement;
      try {
        statement = await askAgent(nonce);
      } catch (e) {
        if (e.code === 'tap_timeout') { setStatus(T.card_timeout); continue; }
        setStatus(T.agent_unreachable);
        await sleep(3000);
        continue;
      }
      if (mine !== generation) return;
      setStatus(T.reading);
      nonce = null; // presented with this statement: used, whatever the answer
      try {
        var res = await api('/auth/card', { statement: statement });
        hideError();
        showPasswordStep(res.login);
        return;
      } catch (e) {
        showError(e);
        await sleep(1500);
      }
    }
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    hideError();
    var button = document.getElementById('submit');
    button.disabled = true;
    api('/auth/password', { login: loginField.value, password: passwordField.value })
      .then(function () { window.location.assign(next); })
      .catch(function (e) {
        passwordField.value = '';
        showError(e);
        if (e.code === 'card_step_required' || e.code === 'card_rejected' || e.code === 'session_expired') cardLoop();
      })
      .finally(function () { button.disabled = false; });
  });
  document.getElementById('restart').addEventListener('click', function () { hideError(); cardLoop(); });

  // Demo mode only: buttons that tap a virtual card on the virtual reader.
  var demo = document.getElementById('demo-cards');
  if (demo && root.dataset.demo === 'true') {
    fetch('/demo/cards', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (data) {
      (data.cards || []).forEach(function (c) {
        var b = document.createElement('button');
        b.type = 'button';
        b.className = 'demo-tap';
        b.dataset.uid = c.uid;
        b.textContent = T.demo_tap + ': ' + c.label;
        b.addEventListener('click', function () { api('/demo/tap', { uid: c.uid }).catch(showError); });
        demo.appendChild(b);
      });
    }).catch(function () { /* demo list is optional */ });
  }

  cardLoop();
})();
