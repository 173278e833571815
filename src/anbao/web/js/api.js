// REST calls with the bearer token. A 401 anywhere means the login is gone: the session module shows
// the login form again (what the user typed stays in the page) and the call fails with AuthError.

export class AuthError extends Error {}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
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

export async function api(path, {method = "GET", body, query, signal} = {}) {
  let url = `/api/v1${path}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, v);
    if ([...q].length) url += `?${q}`;
  }
  const headers = {Authorization: `Bearer ${token}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(url, {method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal});
  if (r.status === 401) {
    onAuthLost("expired");
    throw new AuthError("login required");
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, detailText(data, r.status));
  return data;
}
