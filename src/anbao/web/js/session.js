// The login of /, /wall/ and /plan/: the login dialog (made here, once per page, by mountLogin) and the stored
// session, shared by the three pages through localStorage. An expired or refused login brings the dialog
// back with the user name kept; the page underneath (open drawers, typed comments) stays as it was. The
// phone app /m/ has its own (m/js/session.js: it must work offline) on the same requestLogin().
import {requestLogin, setAuthLostHandler, setToken} from "./api.js";
import {el} from "./format.js";
import {applyI18n, LANG_NAMES, LANGS, onLang, t} from "./i18n.js";

const KEY = "anbao.session";
let pending = null; // {promise, resolve} while the form is shown
let reasonKey = "";
let expiryTimer = null;
const loginListeners = new Set();

/** ``fn(session)`` runs after every successful login through the form (e.g. a new login after expiry). */
export function onLogin(fn) {
  loginListeners.add(fn);
}

export function stored() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null");
    if (s?.access_token && s.expires_at * 1000 > Date.now() + 5000) return s;
  } catch {
    // a damaged entry counts as no session
  }
  return null;
}

function remember(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
  setToken(s.access_token);
  clearTimeout(expiryTimer);
  const ms = s.expires_at * 1000 - Date.now();
  if (ms > 0 && ms < 2 ** 31) expiryTimer = setTimeout(() => lost("expired"), ms);
}

const overlay = () => document.getElementById("login");

function setReason(reason) {
  reasonKey = reason ? `login.reason.${reason}` : "";
  overlay().querySelector(".login-msg").textContent = reasonKey ? t(reasonKey) : "";
}

function lost(reason) {
  localStorage.removeItem(KEY);
  setToken(null);
  return login(reason);
}

/** Resolves with a session; shows the form until the user logs in (``reason``: expired, refused, logout). */
export function login(reason) {
  if (pending) {
    if (reason) setReason(reason);
    return pending.promise;
  }
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  pending = {promise, resolve};
  const box = overlay();
  setReason(reason);
  box.hidden = false;
  document.body.classList.add("needs-login");
  const form = box.querySelector("form");
  (form.username.value ? form.password : form.username).focus();
  return promise;
}

export async function ensureSession() {
  const s = stored();
  if (s) {
    remember(s);
    return s;
  }
  return login();
}

export function currentUser() {
  return stored();
}

/** The login is gone (e.g. the live stream was refused with 4401). */
export function expire() {
  return lost("expired");
}

export function logout() {
  return lost("logout");
}

/** The login dialog (hidden until needed): the page's name, a line under it, user name, password, the
 * language switch and, when ``apiDocs``, a link to the API documentation. */
function dialog({title, subtitle, apiDocs}) {
  return el("div", {id: "login", class: "login", hidden: true},
    el("form", {novalidate: true},
      el("img", {class: "login-logo", src: "/favicon.svg", alt: ""}),
      el("h1", {dataset: {i18n: title}}),
      el("p", {class: "muted", dataset: {i18n: subtitle}}),
      el("label", {}, el("span", {dataset: {i18n: "login.username"}}),
        el("input", {name: "username", autocomplete: "username", maxlength: 80})),
      el("label", {}, el("span", {dataset: {i18n: "login.password"}}),
        el("input", {name: "password", type: "password", autocomplete: "current-password", maxlength: 200})),
      el("div", {class: "login-msg", role: "alert"}),
      el("button", {type: "submit", class: "btn primary", dataset: {i18n: "login.submit"}}),
      el("div", {class: "lang seg"}, LANGS.map((lang) => el("button", {type: "button", dataset: {lang}}, LANG_NAMES[lang]))),
      apiDocs ? el("p", {class: "muted small"}, el("a", {href: "/api/docs", dataset: {i18n: "login.apiDocs"}})) : null));
}

/** Put the login dialog in the page and handle its form; once per page, before ensureSession(). ``title`` and
 * ``subtitle`` are catalog keys. */
export function mountLogin({title = "app.name", subtitle = "app.subtitle", apiDocs = true} = {}) {
  setAuthLostHandler((reason) => lost(reason));
  const box = dialog({title, subtitle, apiDocs});
  document.body.append(box);
  const form = box.querySelector("form");
  const msg = box.querySelector(".login-msg");
  const last = stored()?.username || localStorage.getItem("anbao.username");
  if (last) form.username.value = last;
  onLang(() => {
    if (reasonKey) msg.textContent = t(reasonKey);
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    reasonKey = "";
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) {
      msg.textContent = t(username ? "login.needPassword" : "login.needUser");
      (username ? form.password : form.username).focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const data = await requestLogin(username, password);
      localStorage.setItem("anbao.username", username);
      form.password.value = "";
      remember(data);
      box.hidden = true;
      document.body.classList.remove("needs-login");
      const p = pending;
      pending = null;
      p?.resolve(data);
      for (const fn of loginListeners) fn(data);
    } catch (err) {
      msg.textContent = err.key ? t(err.key, err.vars) : t("login.network");
    } finally {
      button.disabled = false;
    }
  });
  applyI18n(box);
}
