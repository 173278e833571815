// Login overlay and the stored session (shared by / and /wall through localStorage).
// An expired or refused login brings the form back with the user name kept; the page underneath
// (open drawers, typed comments) stays as it was.
import {ApiError, setAuthLostHandler, setToken} from "./api.js";
import {applyI18n, getLang, onLang, setLang, t} from "./i18n.js";

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
    if (s && s.access_token && s.expires_at * 1000 > Date.now() + 5000) return s;
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

export function installLogin() {
  setAuthLostHandler((reason) => lost(reason));
  const box = overlay();
  const form = box.querySelector("form");
  const msg = box.querySelector(".login-msg");
  const last = stored()?.username || localStorage.getItem("anbao.username");
  if (last) form.username.value = last;
  for (const b of box.querySelectorAll("[data-lang]")) b.addEventListener("click", () => setLang(b.dataset.lang));
  const markLang = () => {
    for (const b of box.querySelectorAll("[data-lang]")) b.classList.toggle("on", b.dataset.lang === getLang());
    if (reasonKey) msg.textContent = t(reasonKey);
  };
  onLang(markLang);
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
      const r = await fetch("/api/v1/auth/login", {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({username, password}),
      });
      const data = await r.json().catch(() => null);
      if (r.status === 401) throw new ApiError(401, t("login.failed"));
      if (r.status === 429) {
        const wait = /(\d+)\s*s\b/.exec(data?.detail || "");
        throw new ApiError(429, t("login.tooMany", {s: wait ? wait[1] : "60"}));
      }
      if (!r.ok) throw new ApiError(r.status, t("login.error", {detail: data?.detail || r.status}));
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
      msg.textContent = err instanceof ApiError ? err.detail : t("login.network");
    } finally {
      button.disabled = false;
    }
  });
  applyI18n(box);
  markLang();
}
