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
  // Self-enrollment is on: a refused card may be one to request (no lock screen: that is someone's session).
  var selfEnrollment = root.dataset.selfEnrollment === 'true' && !root.dataset.lockedLogin;
  var enrollOffer = document.getElementById('enroll-offer');
  var stepCard = document.getElementById('step-card');
  var form = document.getElementById('step-password');
  var statusEl = document.getElementById('card-status');
  var errorEl = document.getElementById('error');
  var loginField = document.getElementById('login-field');
  var passwordField = document.getElementById('password-field');
  var cardHeading = document.getElementById('card-heading');
  var takeBack = document.getElementById('take-back');
  var changeForm = document.getElementById('step-change');
  var newField = document.getElementById('new-password-field');
  var repeatField = document.getElementById('repeat-password-field');
  var limitPanel = document.getElementById('step-limit');
  var limitList = document.getElementById('limit-list');
  var limitHint = document.getElementById('limit-hint');
  // At the session limit: the login as typed and the sessions offered to end. The same login is
  // sent again with their handles, so both factors are proven in the request that ends them;
  // the password stays in memory only until that answer or a cancel.
  var pendingLimit = null;
  // Both factors passed but the password must be changed: the password just typed is the
  // current one the change needs, kept in memory only until the change is answered.
  var currentPassword = '';
  var generation = 0;
  // The error on screen came from a failed nonce request: hidden once a nonce comes again.
  var nonceErrorShown = false;
  // The last contact with the agent failed: its message stays until the agent answers again.
  var agentTrouble = false;
  // A nonce is kept for half its life while no card comes (the agent's wait runs out, or it
  // is unreachable): an idle page asks for one a minute or so, not one per wait.
  var nonce = null;
  var nonceUntil = 0;

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  // The same text again is not set again: the live region would announce it once more.
  function setStatus(text) { if (statusEl.textContent !== text) statusEl.textContent = text; }
  function hideError() { errorEl.hidden = true; errorEl.textContent = ''; nonceErrorShown = false; }
  function showError(err) {
    var code = (err && err.code) || 'generic';
    var text = T['err_' + code] || T.err_generic;
    if (code === 'locked') text = text.replace('{min}', String(Math.max(1, Math.ceil((err.retryAfterSec || 60) / 60))));
    errorEl.textContent = text;
    errorEl.hidden = false;
    nonceErrorShown = false;
  }

  // Any server failure (5xx, whatever its code, or no answer at all) is `unavailable` for people.
  function api(path, body) {
    return fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
      credentials: 'same-origin',
    }).then(function (r) {
      if (r.status === 204) return {};
      return r.json().catch(function () { return {}; }).then(function (data) {
        // A 202 `enrollment_pending` is an answer with an error body, and no session: not a success.
        if (r.ok && !(data && data.error)) return data;
        var e = new Error('request failed');
        e.status = r.status;
        e.code = r.status >= 500 ? 'unavailable' : (data && data.error && data.error.code) || 'generic';
        e.retryAfterSec = data && data.error && data.error.retryAfterSec;
        e.sessions = data && data.error && data.error.sessions;
        e.limit = data && data.error && data.error.limit;
        throw e;
      });
    }, function () {
      var e = new Error('no answer');
      e.status = 0;
      e.code = 'unavailable';
      throw e;
    });
  }

  // This user's agent (views/assets/find-agent.js: on a terminal server, among the loopback ports).
  function findAgent() {
    return window.cardauthFindAgent.find(agentUrl, agentPorts);
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
        e.status = r.status;
        e.code = (data && data.error && data.error.code) || 'agent_error';
        throw e;
      });
    }, function () {
      sessionStorage.removeItem('cardauth.agentUrl'); // the agent moved or stopped: look again next time
      var e = new Error('agent unreachable');
      e.status = 0;
      e.code = 'agent_unreachable';
      throw e;
    });
  }

  /** After a failed contact: does the agent answer again, enrolled? (A quick check, not the long wait.) */
  function agentAnswers() {
    return findAgent().then(function (url) {
      return fetch(url + '/v1/status', { signal: AbortSignal.timeout(2000) });
    }).then(function (r) {
      if (!r.ok) return false;
      return r.json().then(function (s) { return Boolean(s && s.agentId); }, function () { return false; });
    }, function () {
      sessionStorage.removeItem('cardauth.agentUrl');
      return false;
    });
  }

  /** What the page says when the agent could not give a statement (not a timeout, not an unreadable card). */
  function agentProblemText(e) {
    if (e.status === 403 || e.status === 503 || e.code === 'origin_forbidden' || e.code === 'forbidden' || e.code === 'unavailable') {
      return T.agent_not_set_up; // refused this page, or not enrolled yet: the security officer sets it up
    }
    return T.agent_unreachable;
  }

  function showCardStep() {
    var fromPassword = !form.hidden || !changeForm.hidden || !limitPanel.hidden;
    form.hidden = true;
    changeForm.hidden = true;
    limitPanel.hidden = true;
    pendingLimit = null;
    currentPassword = newField.value = repeatField.value = '';
    stepCard.hidden = false;
    enrollOffer.hidden = true;
    passwordField.value = '';
    // Back from the password step: the focused field is gone; take focus to the card step.
    if (fromPassword && cardHeading) cardHeading.focus();
  }
  function showPasswordStep(login) {
    stepCard.hidden = true;
    form.hidden = false;
    if (login) { loginField.value = login; passwordField.focus(); } else { loginField.focus(); }
  }

  async function cardLoop() {
    var mine = ++generation;
    showCardStep();
    takeBack.hidden = true;
    // Set here and after the agent answers again, not on every round: a status shown
    // (no card yet, agent down) stays until something changes.
    if (!agentTrouble) setStatus(T.waiting);
    for (;;) {
      if (mine !== generation) return;
      if (!nonce || performance.now() >= nonceUntil) {
        try {
          var issued = await api('/auth/nonce');
          nonce = issued.nonce;
          nonceUntil = performance.now() + (issued.expiresInSec * 1000) / 2;
          if (nonceErrorShown) hideError(); // the service is back
        } catch (e) {
          nonce = null;
          showError(e);
          nonceErrorShown = true;
          await sleep(5000);
          continue;
        }
      }
      if (mine !== generation) return;
      if (agentTrouble) {
        if (!(await agentAnswers())) { await sleep(3000); continue; }
        if (mine !== generation) return;
        agentTrouble = false;
        setStatus(T.waiting);
      }
      var statement;
      try {
        statement = await askAgent(nonce);
      } catch (e) {
        if (mine !== generation) return;
        if (e.code === 'tap_timeout') { setStatus(T.card_timeout); continue; }
        if (e.code === 'card_unreadable') { setStatus(T.card_unreadable); continue; } // wait for the next tap
        // A newer request took the reader (another tab, or a program): say so, and ask again only when
        // the user says so. Asking again at once, two pages would take it from each other for ever.
        if (e.code === 'superseded') { setStatus(T.card_superseded); takeBack.hidden = false; return; }
        agentTrouble = true;
        setStatus(agentProblemText(e));
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
        // Perhaps a new card of someone who has none yet: the password form, to request it.
        if (selfEnrollment && e.code === 'card_rejected') { showPasswordStep(); enrollOffer.hidden = false; return; }
        await sleep(1500);
        setStatus(T.waiting); // the card was answered; wait for the next one
      }
    }
  }

  // Times as the rest of the pages show them: Moscow time, in the page's language.
  var timeFormat = new Intl.DateTimeFormat(document.documentElement.lang === 'en' ? 'en-GB' : 'ru-RU', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Moscow' });

  /** The 409 `session_limit` answer: where the other sessions are, and the offer to end them. */
  function showLimit(e, login, password) {
    pendingLimit = { login: login, password: password, handles: (e.sessions || []).map(function (x) { return x.handle; }) };
    limitList.textContent = '';
    (e.sessions || []).forEach(function (x) {
      var li = document.createElement('li');
      var parts = [x.workstation || T.limit_unknown_workstation];
      if (x.since) parts.push(T.limit_since + ' ' + timeFormat.format(new Date(x.since)));
      if (x.ip) parts.push(T.limit_ip + ' ' + x.ip);
      if (x.locked) parts.push(T.limit_locked);
      li.textContent = parts.join(', ');
      limitList.appendChild(li);
    });
    form.hidden = true;
    changeForm.hidden = true;
    stepCard.hidden = true;
    limitPanel.hidden = false;
    limitHint.textContent = T.limit_hint.replace('{limit}', String(e.limit || (e.sessions || []).length));
    document.getElementById('limit-heading').focus();
  }

  /** A failed login (the password form's, or its resend at the limit). */
  function loginFailed(e, typed) {
    // The session ended (third failed unlock): the server now shows the login page.
    if (e.code === 'session_expired') { window.location.reload(); return; }
    if (e.code === 'session_limit') { passwordField.value = ''; showLimit(e, loginField.value, typed); return; }
    if (e.code === 'password_change_required') {
      currentPassword = typed;
      passwordField.value = '';
      form.hidden = true;
      limitPanel.hidden = true;
      changeForm.hidden = false;
      document.getElementById('change-heading').focus();
      return;
    }
    // The server failed, not the password: keep it, the user can just send it again.
    if (e.code !== 'unavailable') passwordField.value = '';
    if (!limitPanel.hidden) { limitPanel.hidden = true; pendingLimit = null; form.hidden = false; passwordField.focus(); }
    showError(e);
    if (e.code === 'card_step_required' || e.code === 'card_rejected' || e.code === 'enrollment_pending') cardLoop();
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    hideError();
    var button = document.getElementById('submit');
    button.disabled = true;
    var typed = passwordField.value;
    api('/auth/password', { login: loginField.value, password: typed })
      .then(function () { window.location.assign(next); })
      .catch(function (e) { loginFailed(e, typed); })
      .finally(function () { button.disabled = false; });
  });
  document.getElementById('limit-end').addEventListener('click', function () {
    if (!pendingLimit) return;
    hideError();
    var button = document.getElementById('limit-end');
    button.disabled = true;
    var p = pendingLimit;
    api('/auth/password', { login: p.login, password: p.password, endSessions: p.handles })
      .then(function () { pendingLimit = null; window.location.assign(next); })
      .catch(function (e) { loginFailed(e, p.password); })
      .finally(function () { button.disabled = false; });
  });
  document.getElementById('limit-cancel').addEventListener('click', function () { hideError(); cardLoop(); });
  changeForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    hideError();
    if (newField.value !== repeatField.value) {
      repeatField.value = '';
      showError({ code: 'password_mismatch' });
      repeatField.focus();
      return;
    }
    var button = document.getElementById('change-submit');
    button.disabled = true;
    api('/auth/password/change', { currentPassword: currentPassword, newPassword: newField.value })
      .then(function () { currentPassword = ''; window.location.assign(next); })
      .catch(function (e) {
        newField.value = repeatField.value = '';
        // A rule the new password broke: choose another. Anything else ends this login: the card again.
        if (e.code === 'password_weak' || e.code === 'password_contains_name' || e.code === 'password_reused' || e.code === 'unavailable' || e.code === 'attempt_in_progress') {
          showError(e);
          newField.focus();
          return;
        }
        showError(e);
        cardLoop();
      })
      .finally(function () { button.disabled = false; });
  });
  document.getElementById('restart').addEventListener('click', function () { hideError(); cardLoop(); });
  takeBack.addEventListener('click', function () { cardLoop(); if (cardHeading) cardHeading.focus(); });

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
