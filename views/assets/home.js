// Logged-in page: sign out. No inline script (CSP).
(function () {
  'use strict';
  var form = document.getElementById('logout-form');
  if (!form) return;
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    fetch('/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' })
      .finally(function () { window.location.assign('/login'); });
  });
})();
