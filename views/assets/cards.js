// The workbench's cards page: read the new card's UID at the officer's own desk reader (the
// officer's card agent, found as the login page finds it: find-agent.js), and load a CSV file into the import
// form. No inline script (CSP); texts come from the page's data attributes. Without this
// script the page still works: the UID is typed, the CSV pasted.
(function () {
  'use strict';
  var desk = document.getElementById('desk-read');
  var button = document.getElementById('desk-read-button');
  var statusEl = document.getElementById('desk-status');
  var uidField = document.getElementById('bind-uid');
  var fileField = document.getElementById('import-file-field');
  var file = document.getElementById('import-file');
  var csv = document.getElementById('import-csv');
  var fileName = document.getElementById('import-file-name');

  if (fileField && file && csv) {
    fileField.hidden = false;
    file.addEventListener('change', function () {
      var f = file.files && file.files[0];
      if (!f) return;
      f.text().then(function (text) {
        csv.value = text;
        if (fileName) fileName.value = f.name;
      });
    });
  }

  if (!desk || !button || !uidField) return;
  var D = desk.dataset;
  var agentUrl = D.agentUrl;
  desk.hidden = false;

  function say(text) { statusEl.textContent = text; }
  function fill(text, params) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return Object.prototype.hasOwnProperty.call(params, k) ? String(params[k]) : m; });
  }

  function post(url, body, sameOrigin) {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body || {}),
      credentials: sameOrigin ? 'same-origin' : 'omit',
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok) return data;
        var e = new Error('request failed');
        e.code = (data && data.error && data.error.code) || 'generic';
        throw e;
      });
    });
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    say(D.waiting);
    var unreachable = false;
    post('/auth/nonce', {}, true)
      .then(function (issued) {
        return window.cardauthFindAgent.find(agentUrl, D.agentPorts).then(function (url) {
          return post(url + '/v1/statement', { nonce: issued.nonce, aud: D.origin, purpose: 'desk_read' }, false).catch(function (e) {
            if (!e.code) { // no answer: the agent moved or stopped; look again next time
              unreachable = true;
              window.cardauthFindAgent.forget();
            }
            throw e;
          });
        }, function (e) {
          unreachable = true;
          throw e;
        });
      })
      .then(function (answer) { return post('/admin/api/cards/desk-read', { statement: answer.statement }, true); })
      .then(function (read) {
        uidField.value = read.uid;
        say(read.bound
          ? fill(D.bound, { uid: read.uid, login: read.bound.login, name: read.bound.displayName, status: D['status' + read.bound.status.charAt(0).toUpperCase() + read.bound.status.slice(1)] || read.bound.status })
          : fill(D.read, { uid: read.uid }));
        uidField.focus();
      }, function () {
        say(unreachable ? D.unreachable : D.failed);
      })
      .then(function () { button.disabled = false; });
  });
})();
