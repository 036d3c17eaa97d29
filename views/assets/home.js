// Logged-in page and lock screen: sign out; notice a lock (tap-out, another
// card, idle) and show the lock screen. No inline script (CSP).
(function () {
  'use strict';
  var form = document.getElementById('logout-form');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      fetch('/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' })
        .finally(function () { window.location.assign('/login'); });
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
