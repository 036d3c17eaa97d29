// The OpenID logout page, when the application proved it is this very session (a valid
// id_token_hint of it): sign out at once, as the "Sign out" button would. No inline script (CSP).
(function () {
  'use strict';
  var page = document.getElementById('logout');
  var yes = document.getElementById('logout-yes');
  if (page && yes && page.dataset.auto === 'yes') yes.click();
})();
