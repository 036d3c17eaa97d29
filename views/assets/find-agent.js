// Finds this user's card agent for the pages that ask it for a statement (login.js, cards.js).
// No inline script (CSP): loaded before them, it defines window.cardauthFindAgent.
(function () {
  'use strict';
  /**
   * The agent's URL: `agentUrl`, or on a terminal server (`agentPorts` "from-to": one agent per
   * user session, each on its own loopback port) the one port whose agent answers this user (the
   * others refuse another user); remembered for the tab until a contact fails (forget()).
   */
  function find(agentUrl, agentPorts) {
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
  /** The agent moved or stopped: look again next time. */
  function forget() { sessionStorage.removeItem('cardauth.agentUrl'); }
  window.cardauthFindAgent = { find: find, forget: forget };
})();
