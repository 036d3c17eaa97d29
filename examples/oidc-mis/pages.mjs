// @ts-check
// The MIS's pages, in Russian by default and in English with ?lang=en, as cardauth's own.

const TEXT = {
  ru: {
    title: 'МИС — пациенты',
    patients: 'Пациенты',
    clinician: 'Врач',
    born: 'год рождения',
    ward: 'палата',
    logout: 'Выйти',
    loggedOut: 'Вы вышли из системы. Приложите карту, чтобы войти снова.',
    loginAgain: 'Войти снова',
    loginFailed: 'Вход не выполнен. Попробуйте ещё раз.',
  },
  en: {
    title: 'MIS — patients',
    patients: 'Patients',
    clinician: 'Clinician',
    born: 'born',
    ward: 'ward',
    logout: 'Log out',
    loggedOut: 'You are logged out. Tap your card to log in again.',
    loginAgain: 'Log in again',
    loginFailed: 'Login failed. Please try again.',
  },
};

/** Made-up patients: this is an example. */
const PATIENTS = [
  { name: 'Смирнов Алексей Викторович', born: 1956, ward: 12 },
  { name: 'Кузнецова Мария Андреевна', born: 1983, ward: 7 },
  { name: 'Попов Игорь Сергеевич', born: 1971, ward: 3 },
];

/** @param {string} s */
const escape = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** @param {string} lang */
export const textOf = (lang) => (lang === 'en' ? TEXT.en : TEXT.ru);
/** @param {string} lang @param {string} path */
const withLang = (lang, path) => (lang === 'en' ? `${path}?lang=en` : path);

/** @param {string} lang @param {string} title @param {string} body */
const layout = (lang, title, body) => `<!doctype html>
<html lang="${lang === 'en' ? 'en' : 'ru'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><link rel="stylesheet" href="/assets/mis.css"></head>
<body>${body}</body></html>`;

/** The "logged out" notice: hidden on the patients page until the session is gone, shown as is elsewhere. @param {string} lang @param {boolean} hidden */
const loggedOutNotice = (lang, hidden) => {
  const t = textOf(lang);
  return `<section id="logged-out" role="alert" tabindex="-1"${hidden ? ' hidden' : ''}>
<p>${escape(t.loggedOut)}</p><p><a id="login-again" href="${withLang(lang, '/patients')}">${escape(t.loginAgain)}</a></p></section>`;
};

/**
 * The patients page of a logged-in clinician. Its script asks `/session` every 500 ms and, once
 * the session is gone (a back-channel logout), removes the patients and shows the notice.
 *
 * @param {string} lang
 * @param {{ name: string, login: string }} user
 */
export function patientsPage(lang, user) {
  const t = textOf(lang);
  const rows = PATIENTS.map((p) => `<li>${escape(p.name)}, ${t.born} ${p.born}, ${t.ward} ${p.ward}</li>`).join('\n');
  return layout(
    lang,
    t.title,
    `<main id="patients">
<header><p id="clinician">${escape(t.clinician)}: <strong id="clinician-name">${escape(user.name)}</strong> (${escape(user.login)})</p>
<form method="post" action="/logout"><button id="logout" type="submit">${escape(t.logout)}</button></form></header>
<h1>${escape(t.patients)}</h1>
<ul id="patient-list">
${rows}
</ul></main>
${loggedOutNotice(lang, true)}
<script src="/assets/session-watch.js"></script>`,
  );
}

/** Where a logout (RP-initiated) comes back to, and where a dropped session is shown. @param {string} lang */
export const loggedOutPage = (lang) => layout(lang, textOf(lang).title, loggedOutNotice(lang, false));

/** A login that did not complete (an error from cardauth, a bad state). @param {string} lang */
export const loginFailedPage = (lang) => {
  const t = textOf(lang);
  return layout(lang, t.title, `<section id="login-failed" role="alert"><p>${escape(t.loginFailed)}</p><p><a href="${withLang(lang, '/patients')}">${escape(t.loginAgain)}</a></p></section>`);
};
