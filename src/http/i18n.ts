import type { Request, Response } from 'express';

export const LANGS = ['ru', 'en'] as const;
export type Lang = (typeof LANGS)[number];

/**
 * Every string a person reads. Russian is the default; English on request
 * (`?lang=en`, remembered in a cookie). Error texts are short and say what to
 * do next. Keys starting with `err_` are the API error codes the page maps.
 */
const MESSAGES = {
  ru: {
    title: 'Вход в МИС',
    page_title_home: 'МИС — вы вошли в систему',
    page_title_locked: 'МИС — сеанс заблокирован',
    step1: 'Приложите карту к считывателю',
    step1_hint: 'Карта ЕКП (Единая карта петербуржца) и считыватель этого рабочего места.',
    waiting: 'Ожидание карты…',
    reading: 'Карта прочитана, проверяем…',
    agent_unreachable: 'Программа считывателя не отвечает. Если это продолжается больше минуты, обратитесь в техподдержку.',
    agent_not_set_up: 'Рабочее место не подключено к входу по карте. Обратитесь к администратору безопасности.',
    card_unreadable: 'Карта не прочитана. Приложите её ещё раз и держите неподвижно.',
    card_timeout: 'Карта не приложена. Приложите карту, чтобы продолжить.',
    card_superseded: 'Считыватель карт занят другим окном или программой. Если вы не открывали другое окно входа, сообщите администратору безопасности.',
    take_back: 'Вернуть считыватель сюда',
    step2: 'Введите логин и пароль',
    login: 'Логин',
    password: 'Пароль',
    submit: 'Войти',
    other_card: 'Другая карта',
    demo_tap: 'Приложить демо-карту',
    demo_note: 'Демо-режим: виртуальная карта вместо настоящей.',
    home_title: 'Вы вошли в систему',
    locked_title: 'Сеанс заблокирован',
    locked_who: 'Сеанс пользователя',
    locked_hint: 'Чтобы продолжить, приложите свою карту и введите пароль. Другой сотрудник может приложить свою карту, чтобы войти.',
    err_session_locked: 'Сеанс заблокирован. Приложите карту и введите пароль.',
    signed_in_as: 'Пользователь',
    roles: 'Роли',
    role_clinician: 'врач',
    role_security_officer: 'администратор безопасности',
    role_auditor: 'аудитор',
    role_chief_admin: 'главный администратор',
    signed_in_at: 'Время входа',
    workstation: 'Рабочее место',
    previous_login: 'Предыдущий вход',
    first_login: 'это первый вход',
    failed_attempts: 'Неудачных попыток входа с предыдущего входа',
    logout: 'Выйти',
    logout_failed: 'Не удалось выйти. Приложите карту, чтобы заблокировать сеанс, или попробуйте ещё раз.',
    page_title_logout: 'МИС — выход',
    logout_question: 'Выйти из системы?',
    logout_app: 'Приложение «{app}» просит завершить ваш вход.',
    logout_some_app: 'Приложение просит завершить ваш вход.',
    logout_explain: 'Вы выйдете из всех приложений, в которые вошли на этом компьютере; чтобы войти снова, понадобятся карта и пароль.',
    logout_stay: 'Не выходить',
    logged_out_title: 'Вы вышли из системы',
    logged_out_text: 'Чтобы войти снова, понадобятся карта и пароль.',
    logged_out_app_title: 'Вход в приложение завершён',
    logged_out_app_text: 'Приложение «{app}» завершило вход; в других приложениях вы остаётесь в системе.',
    other_lang: 'English',
    other_lang_code: 'en',
    err_card_rejected: 'Карта не принята. Приложите свою карту ещё раз или обратитесь к администратору безопасности.',
    err_login_failed: 'Вход не выполнен. Проверьте логин и пароль и попробуйте снова.',
    err_locked: 'Учётная запись временно заблокирована. Повторите через {min} мин. или обратитесь к администратору безопасности.',
    err_rate_limited: 'Слишком много попыток входа с этого рабочего места. Подождите и попробуйте снова.',
    err_card_step_required: 'Приложите карту ещё раз, затем введите пароль.',
    err_attempt_in_progress: 'Пароль уже проверяется. Дождитесь ответа.',
    err_session_expired: 'Сеанс завершён. Войдите снова.',
    err_unavailable: 'Сервис временно недоступен. Попробуйте ещё раз через минуту. Если это продолжается, обратитесь в техподдержку.',
    err_origin_forbidden: 'Страница входа открыта не по тому адресу. Откройте МИС по ярлыку или обратитесь к администратору.',
    err_bad_request: 'Проверьте введённые данные и попробуйте снова.',
    err_generic: 'Не получилось. Обновите страницу и попробуйте снова.',
    change_title: 'Смените пароль',
    change_hint: 'Пароль выдан администратором или его срок истёк. Придумайте новый: без логина и имени, не из прежних.',
    new_password: 'Новый пароль',
    repeat_password: 'Новый пароль ещё раз',
    change_submit: 'Сменить пароль и войти',
    err_password_change_required: 'Смените пароль, чтобы войти.',
    err_password_mismatch: 'Пароли не совпадают. Введите новый пароль дважды одинаково.',
    err_password_weak: 'Пароль слишком простой: сделайте его длиннее и используйте строчные и заглавные буквы, цифры и знаки.',
    err_password_contains_name: 'Пароль не должен содержать ваш логин или имя.',
    err_password_reused: 'Этот пароль уже был у вас. Придумайте новый.',
  },
  en: {
    title: 'MIS sign-in',
    page_title_home: 'MIS — signed in',
    page_title_locked: 'MIS — session locked',
    step1: 'Place your card on the reader',
    step1_hint: 'Your St. Petersburg resident card (EKP) and this workstation’s reader.',
    waiting: 'Waiting for the card…',
    reading: 'Card read, checking…',
    agent_unreachable: 'The card reader program is not answering. If this lasts more than a minute, contact IT support.',
    agent_not_set_up: 'This workstation is not set up for card sign-in. Contact the security officer.',
    card_unreadable: 'The card could not be read. Place it again and hold it still.',
    card_timeout: 'No card yet. Place your card on the reader to continue.',
    card_superseded: 'The card reader was taken by another window or program. If you did not open another sign-in window, tell the security officer.',
    take_back: 'Use the reader here',
    step2: 'Enter your login and password',
    login: 'Login',
    password: 'Password',
    submit: 'Sign in',
    other_card: 'Another card',
    demo_tap: 'Place the demo card',
    demo_note: 'Demo mode: a virtual card instead of a real one.',
    home_title: 'You are signed in',
    locked_title: 'Session locked',
    locked_who: 'Session of',
    locked_hint: 'To continue, place your card on the reader and enter your password. Another clinician can place their own card to sign in.',
    err_session_locked: 'The session is locked. Place your card on the reader and enter your password.',
    signed_in_as: 'User',
    roles: 'Roles',
    role_clinician: 'clinician',
    role_security_officer: 'security officer',
    role_auditor: 'auditor',
    role_chief_admin: 'chief administrator',
    signed_in_at: 'Signed in at',
    workstation: 'Workstation',
    previous_login: 'Previous sign-in',
    first_login: 'this is the first sign-in',
    failed_attempts: 'Failed sign-in attempts since the previous sign-in',
    logout: 'Sign out',
    logout_failed: 'Sign-out failed. Place your card on the reader to lock the session, or try again.',
    page_title_logout: 'MIS — sign-out',
    logout_question: 'Sign out?',
    logout_app: 'The application “{app}” asks to end your sign-in.',
    logout_some_app: 'An application asks to end your sign-in.',
    logout_explain: 'You will be signed out of every application you signed in to on this computer; signing in again takes your card and password.',
    logout_stay: 'Stay signed in',
    logged_out_title: 'You are signed out',
    logged_out_text: 'Signing in again takes your card and password.',
    logged_out_app_title: 'Application sign-in ended',
    logged_out_app_text: 'The application “{app}” ended its sign-in; you stay signed in to other applications.',
    other_lang: 'Русский',
    other_lang_code: 'ru',
    err_card_rejected: 'Card not accepted. Place your own card on the reader again or contact the security officer.',
    err_login_failed: 'Sign-in failed. Check your login and password and try again.',
    err_locked: 'The account is locked for now. Try again in {min} min or contact the security officer.',
    err_rate_limited: 'Too many login attempts from this workstation. Wait, then try again.',
    err_card_step_required: 'Place your card again, then enter the password.',
    err_attempt_in_progress: 'The password is already being checked. Wait for the answer.',
    err_session_expired: 'Your session has ended. Sign in again.',
    err_unavailable: 'The service is temporarily unavailable. Try again in a minute. If this lasts, contact IT support.',
    err_origin_forbidden: 'This sign-in page was opened at the wrong address. Open the MIS from its shortcut or contact the administrator.',
    err_bad_request: 'Check what you entered and try again.',
    err_generic: 'Something went wrong. Reload the page and try again.',
    change_title: 'Change your password',
    change_hint: 'Your password was set by an administrator or has expired. Choose a new one: without your login or name, not one you had before.',
    new_password: 'New password',
    repeat_password: 'New password again',
    change_submit: 'Change password and sign in',
    err_password_change_required: 'Change your password to sign in.',
    err_password_mismatch: 'The passwords differ. Type the new password the same way twice.',
    err_password_weak: 'The password is too simple: make it longer and mix lower and upper case letters, digits and punctuation.',
    err_password_contains_name: 'The password must not contain your login or your name.',
    err_password_reused: 'You have had this password before. Choose a new one.',
  },
} as const satisfies Record<Lang, Record<string, string>>;

export type Messages = (typeof MESSAGES)[Lang];
export type MessageKey = keyof (typeof MESSAGES)['ru'];

export function messages(lang: Lang): Messages {
  return MESSAGES[lang];
}

/** A role's name for people, in the page's language. */
export function roleName(t: Messages, role: string): string {
  const key = `role_${role}` as MessageKey;
  return key in t ? t[key] : role;
}

const isLang = (v: unknown): v is Lang => typeof v === 'string' && (LANGS as readonly string[]).includes(v);

/** Picks the language: `?lang=` (remembered in a cookie, Secure over https), then the cookie, then Russian. */
export function pickLang(req: Request, res: Response): Lang {
  const q = req.query.lang;
  if (isLang(q)) {
    res.cookie('lang', q, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: 365 * 86400_000 });
    return q;
  }
  const m = /(?:^|;\s*)lang=(ru|en)(?:;|$)/.exec(req.get('cookie') ?? '');
  return m && isLang(m[1]) ? m[1] : 'ru';
}
