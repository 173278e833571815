// The officer's login on the phone, kept in localStorage. A lost login (401 from the server, the
// token's expiry, the live stream closed with 4401) brings the login screen back; nothing queued is
// touched. Without network the app keeps working on what it has and asks for the login once the
// network is back (a login needs the server). The request itself is /js/api.js's requestLogin(), as on the
// other pages.
import {requestLogin, setAuthLostHandler, setToken} from "/js/api.js";
import {t} from "./i18n.js";
import {$} from "./util.js";

const KEY = "anbao.m.session";
let pending = null;
let expiryTimer = null;
let reason = "";
const listeners = new Set();
const stateListeners = new Set();

/** ``fn()`` runs when the login screen shows, hides or waits for the network. */
export function onState(fn) {
  stateListeners.add(fn);
}

function changed() {
  for (const fn of stateListeners) fn();
}

export function onLogin(fn) {
  listeners.add(fn);
}

function read() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || "null");
    return s?.access_token ? s : null;
  } catch {
    return null;
  }
}

/** The stored session while it is still valid. */
export function current() {
  const s = read();
  return s && s.expires_at * 1000 > Date.now() + 5000 ? s : null;
}

/** The stored session even when expired (who was logged in, for offline work). */
export function lastUser() {
  return read();
}

function remember(s) {
  localStorage.setItem(KEY, JSON.stringify(s));
  localStorage.setItem("anbao.m.username", s.username);
  setToken(s.access_token);
  clearTimeout(expiryTimer);
  const ms = s.expires_at * 1000 - Date.now();
  if (ms > 0 && ms < 2 ** 31) expiryTimer = setTimeout(() => lost("expired"), ms);
}

function showMessage(text) {
  $("#login-msg").textContent = text;
}

/** The login is gone: forget the token, keep everything else, ask for a new login. */
export function lost(why = "expired") {
  const s = read();
  if (s) localStorage.setItem(KEY, JSON.stringify({...s, access_token: ""}));
  setToken(null);
  return login(why);
}

/** Resolves with a session once the officer logged in. Offline, waits for the network first. */
export function login(why = "") {
  reason = why;
  if (pending) {
    showMessage(why ? t(`login.reason.${why}`) : "");
    return pending.promise;
  }
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  pending = {promise, resolve};
  showMessage(why ? t(`login.reason.${why}`) : "");
  const form = $("#login-form");
  if (!form.username.value) form.username.value = localStorage.getItem("anbao.m.username") || "";
  if (navigator.onLine === false && read()?.username) {
    // no network, no login possible: keep working on what the phone has, ask once the network is back
    document.body.classList.add("login-later");
    addEventListener("online", showForm, {once: true});
    changed();
  } else {
    showForm();
  }
  return promise;
}

function showForm() {
  if (!pending) return;
  document.body.classList.remove("login-later");
  document.body.classList.add("needs-login");
  changed();
  const form = $("#login-form");
  setTimeout(() => (form.username.value ? form.password : form.username).focus(), 0);
}

export function logout() {
  localStorage.removeItem(KEY);
  setToken(null);
  clearTimeout(expiryTimer);
  return login("logout");
}

export function reasonText() {
  return reason ? t(`login.reason.${reason}`) : "";
}

/** Use the stored session if valid; otherwise show the login screen. */
export async function ensure() {
  const s = current();
  if (s) {
    remember(s);
    return s;
  }
  return login(read()?.username ? "expired" : "");
}

export function install() {
  setAuthLostHandler((why) => lost(why === "expired" ? "expired" : "refused"));
  const form = $("#login-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    showMessage("");
    const username = form.username.value.trim();
    const password = form.password.value;
    if (!username || !password) {
      showMessage(t(username ? "login.needPassword" : "login.needUser"));
      (username ? form.password : form.username).focus();
      return;
    }
    if (navigator.onLine === false) {
      showMessage(t("login.offline"));
      return;
    }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      let data;
      try {
        data = await requestLogin(username, password);
      } catch (err) {
        showMessage(t(err.key || "login.network", err.vars));
        return;
      }
      const before = read()?.username;
      form.password.value = "";
      remember(data);
      document.body.classList.remove("needs-login", "login-later");
      reason = "";
      changed();
      const p = pending;
      pending = null;
      p?.resolve(data);
      for (const fn of listeners) fn(data, {sameUser: before === data.username});
    } finally {
      button.disabled = false;
    }
  });
}
