// The patients page asks the MIS every 500 ms whether its session still holds. Once cardauth
// ended the login (a tap-out, a lock, a logout: it posts a back-channel logout to the MIS, which
// drops the session at once), the patients leave the screen and the "logged out" notice shows.
'use strict';
(function watchSession() {
  const INTERVAL_MS = 500;
  const gone = () => {
    const patients = document.getElementById('patients');
    if (patients) patients.remove();
    const notice = document.getElementById('logged-out');
    notice.hidden = false;
    notice.focus();
  };
  const check = async () => {
    try {
      const res = await fetch('/session', { cache: 'no-store', credentials: 'same-origin' });
      const body = res.ok ? await res.json() : null;
      if (body && body.active === false) return gone();
    } catch {
      // The MIS did not answer this time: ask again.
    }
    setTimeout(check, INTERVAL_MS);
  };
  setTimeout(check, INTERVAL_MS);
})();
