// Logged-in page and lock screen: sign out; notice a lock (tap-out, another
// card, idle) and show the lock screen. No inline script (CSP).
(function () {
  'use strict';
  // Texts come from the JSON block in the page (no inline script).
  var messagesEl = document.getElementById('messages');
  var T = messagesEl ? JSON.parse(messagesEl.textContent) : {};
  var form = document.getElementById('logout-form');
  if (form) {
    var logoutError = document.getElementById('logout-error');
    var button = form.querySelector('button');
    var failed = function () {
      logoutError.textContent = T.logout_failed;
      logoutError.hidden = false;
    };
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      logoutError.hidden = true;
      logoutError.textContent = ''; // a second failure is announced again
      button.disabled = true;
      fetch('/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' })
        .then(function (r) {
          // Signed out, or no session any more (ended or locked): the login page shows what is next.
          if (r.status === 204 || r.status === 401) return window.location.assign('/login');
          failed();
        }, failed)
        .finally(function () { button.disabled = false; });
    });
  }

  var home = document.getElementById('home');
  if (!home) return;
  function check() {
    // Marked as a background check: it must not keep an unattended session from the idle lock.
    return fetch('/auth/session', { credentials: 'same-origin', headers: { 'x-cardauth-background': '1' } }).then(function (r) {
      if (r.status === 401) window.location.reload(); // the server shows the lock screen or the login page
    }).catch(function () { /* offline: try again later */ });
  }
  setInterval(check, 20000);
  // The card agent reports taps; a tap here may be a tap-out or another clinician.
  var agentUrl = (home.dataset.agentPorts && sessionStorage.getItem('cardauth.agentUrl')) || home.dataset.agentUrl;
  if (agentUrl && window.EventSource) {
    var es = new EventSource(agentUrl + '/v1/events');
    es.addEventListener('card', function () { setTimeout(check, 400); });
    es.addEventListener('removed', function () { setTimeout(check, 400); });
  }
})();
