// REST calls with the bearer token, for every page (/, /wall/, /plan/ and the phone app /m/). A 401 anywhere
// means the login is gone: the page's session module shows the login form again (what the user typed stays
// in the page) and the call fails with AuthError. A refused call is an ApiError with the server's message
// and, for a 422, its list of field errors; no answer at all is a NetworkError.

import {has, t} from "./i18n.js";

/** A refusal as the user reads it: the status in the page's language ("无权执行此操作"), the server's own
 * text after it as the detail; "role officer lacks permission warning:handle" becomes the role and the
 * permission by name. */
export function refusalText(status, detail) {
  const head = has(`http.${status}`) ? t(`http.${status}`) : t("http.other", {status});
  const lacks = /role (\w+) lacks permission ([\w:]+)/.exec(detail || "");
  if (lacks) {
    const role = has(`role.${lacks[1]}`) ? t(`role.${lacks[1]}`) : lacks[1];
    const perm = has(`perm.${lacks[2]}`) ? t(`perm.${lacks[2]}`) : lacks[2];
    return t("http.withDetail", {head, detail: t("http.lacks", {role, perm})});
  }
  return detail && detail !== `HTTP ${status}` ? t("http.withDetail", {head, detail}) : head;
}

export class AuthError extends Error {
  name = "AuthError";
}

export class ApiError extends Error {
  name = "ApiError";

  /** ``errors``: the 422 list ({loc, msg, type}) when the server gave one, else null. */
  constructor(status, detail, errors = null) {
    super(status ? refusalText(status, detail) : detail);
    this.status = status;
    this.detail = detail;
    this.errors = errors;
  }
}

/** The server could not be reached (no network, server down): not an answer. */
export class NetworkError extends Error {
  name = "NetworkError";
}

let token = null;
let onAuthLost = () => {};

export function setToken(value) {
  token = value;
}

export function getToken() {
  return token;
}

export function setAuthLostHandler(fn) {
  onAuthLost = fn;
}

/** The server's error detail as one line (422 lists become "field: message; ..."). */
export function detailText(data, status) {
  const d = data?.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) {
    return d.map((e) => `${(e.loc || []).filter((p) => p !== "body" && p !== "query").join(".")}: ${e.msg}`).join("; ");
  }
  return `HTTP ${status}`;
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (err?.name === "AbortError") throw err;
    throw new NetworkError(err?.message || String(err));
  }
}

async function refused(r) {
  const data = await r.json().catch(() => null);
  return new ApiError(r.status, detailText(data, r.status), Array.isArray(data?.detail) ? data.detail : null);
}

/** The response of ``path`` (under /api/v1, or a full /api/v1/... URL the server handed out) with the token. */
export async function apiResponse(path, {method = "GET", body, query, signal} = {}) {
  let url = path.startsWith("/api/") ? path : `/api/v1${path}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, v);
    if ([...q].length) url += `?${q}`;
  }
  const headers = {Authorization: `Bearer ${token}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await send(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal});
  if (r.status === 401) {
    onAuthLost("expired");
    throw new AuthError("login required");
  }
  if (!r.ok) throw await refused(r);
  return r;
}

/** The JSON answer of ``path``; null for 204. */
export async function api(path, options = {}) {
  const r = await apiResponse(path, options);
  return r.status === 204 ? null : await r.json().catch(() => null);
}

/** An object URL of what ``path`` returns (e.g. a PNG behind the token); revoke it when done. */
export async function blobUrl(path) {
  const r = await apiResponse(path);
  return URL.createObjectURL(await r.blob());
}

function filename(r, fallback) {
  const cd = r.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1] : fallback;
}

/** Fetch ``path`` with the token and save it under the server's file name (else ``fallback``); a plain
 * <a href> would carry no token. Returns the file name. */
export async function download(path, fallback) {
  const r = await apiResponse(path);
  const href = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = filename(r, fallback);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 30000);
  return a.download;
}

/**
 * POST /auth/login: resolves with the session ({access_token, expires_at, username, role, ...}). A refusal
 * is an ApiError whose ``key`` and ``vars`` name the catalog message to show: login.failed, login.tooMany
 * {s}, login.error {detail}, or login.network when the server cannot be reached.
 */
export async function requestLogin(username, password) {
  const fail = (status, key, vars = {}) => Object.assign(new ApiError(status, key), {key, vars});
  let r;
  try {
    r = await fetch("/api/v1/auth/login", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({username, password}),
    });
  } catch {
    throw fail(0, "login.network");
  }
  const data = await r.json().catch(() => null);
  if (r.status === 401) throw fail(401, "login.failed");
  if (r.status === 429) {
    const wait = /(\d+)\s*s\b/.exec(data?.detail || "");
    throw fail(429, "login.tooMany", {s: wait ? wait[1] : "60"});
  }
  if (!r.ok || !data?.access_token) throw fail(r.status, "login.error", {detail: data?.detail || `HTTP ${r.status}`});
  return data;
}
