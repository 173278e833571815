// REST for the planning page on top of js/api.js: the same bearer token, AuthError and ApiError, but a
// refused change keeps the server's list of field errors (err.errors) so that each message can be shown
// next to its field, in words a planner reads (codes of pydantic errors and the server's usual
// sentences are put into the catalog's language). Downloads (DOCX, heat-map PNG) are fetched with the
// token and handed over as object URLs, since a plain <a href> would carry no token.
import {api, ApiError, AuthError, detailText, getToken} from "../api.js";
import {has, t} from "../i18n.js";
import {expire} from "../session.js";

export {api, ApiError, AuthError};

/** Like api(), for changes: a 4xx/5xx ApiError carries ``errors`` (the 422 list) besides its text. */
export async function send(path, {method = "POST", body} = {}) {
  const headers = {Authorization: `Bearer ${getToken()}`};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(`/api/v1${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch {
    throw new ApiError(0, t("error.network"));
  }
  if (r.status === 401) {
    expire();
    throw new AuthError("login required");
  }
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const err = new ApiError(r.status, detailText(data, r.status));
    err.errors = Array.isArray(data?.detail) ? data.detail : null;
    throw err;
  }
  return data;
}


async function authorised(url) {
  const r = await fetch(url, {headers: {Authorization: `Bearer ${getToken()}`}});
  if (r.status === 401) {
    expire();
    throw new AuthError("login required");
  }
  if (!r.ok) throw new ApiError(r.status, detailText(await r.json().catch(() => null), r.status));
  return r;
}

/** An object URL of what ``url`` returns (e.g. a PNG behind the token); revoke it when done. */
export async function blobUrl(url) {
  const r = await authorised(url);
  return URL.createObjectURL(await r.blob());
}

function filename(r, fallback) {
  const cd = r.headers.get("Content-Disposition") || "";
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1] : fallback;
}

/** Fetch ``url`` with the token and save it under the server's file name (else ``fallback``). */
export async function download(url, fallback) {
  const r = await authorised(url);
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

// ------------------------------------------------------------------ error messages

const LEVEL_WORDS = ["low", "medium", "high", "extreme"];
const level = (code) => (LEVEL_WORDS.includes(code) ? t(`plan.level.${code}`) : code);

/** The server's sentence in the catalog's language where it follows a known pattern, else as it is. */
export function sayServer(msg) {
  if (!msg) return "";
  let m = /cell likelihood (\d) x impact (\d) is '(\w+)', lower than the better cell likelihood (\d) x impact (\d) \('(\w+)'\)/.exec(msg);
  if (m) return t("plan.err.matrixOrder", {l: m[1], i: m[2], lv: level(m[3]), l2: m[4], i2: m[5], lv2: level(m[6])});
  m = /^(zone|unit|exit|command node|gate|risk|plan|session)s? '?([^' ]+?)'? does not exist/.exec(msg);
  if (m) return t("plan.err.notFound", {what: t(`plan.err.what.${m[1].replace(" ", "_")}`), v: m[2]});
  m = /'([^']+)' already exists/.exec(msg);
  if (m) return t("plan.err.exists", {v: m[1]});
  m = /^zone (\S+) \((.+?)\) has no exit/.exec(msg);
  if (m) return t("plan.err.noExit", {v: t("plan.named", {name: m[2], code: m[1]})});
  if (/JuPedSim simulates one zone/.test(msg)) return t("plan.err.jpsZone");
  m = /^zone (\S+) \((.+?)\) is not a public zone/.exec(msg);
  if (m) return t("plan.err.notPublic", {v: t("plan.named", {name: m[2], code: m[1]})});
  return msg;
}

/** One pydantic error item ({loc, msg, type}) in words. */
export function errorText(e) {
  if (e.type && e.type !== "value_error" && has(`plan.err.${e.type}`)) return t(`plan.err.${e.type}`);
  return sayServer((e.msg || "").replace(/^Value error, /, ""));
}

function fieldLabel(path) {
  const name = [...path].reverse().find((p) => typeof p === "string");
  const key = `plan.f.${name}`;
  return name && has(key) ? t(key) : path.join(".");
}

/** Remove the marks of an earlier refusal from a form. */
export function clearErrors(root) {
  for (const n of root.querySelectorAll(".invalid")) n.classList.remove("invalid");
  for (const n of root.querySelectorAll(".fmsg")) n.textContent = "";
  for (const n of root.querySelectorAll(".form-msg")) {
    n.textContent = "";
    n.className = n.className.replace(/\s*\b(good|bad)\b/g, "");
  }
}

/** Show a refused change: each 422 item next to its [data-field] (the longest path that exists), the rest
 * and other errors in ``msgBox``. Returns the number of fields marked. */
export function showErrors(root, err, msgBox = root.querySelector(".form-msg")) {
  const say = (text) => {
    if (!msgBox) return;
    msgBox.textContent = text;
    msgBox.classList.add("bad");
  };
  if (err instanceof AuthError) {
    say(t("plan.err.auth"));
    return 0;
  }
  if (!(err instanceof ApiError)) {
    console.error(err);
    say(t("error.network"));
    return 0;
  }
  if (!err.errors) {
    say(err.status === 403 ? t("plan.err.forbidden") : err.status ? t("error.server", {status: err.status, detail: sayServer(err.detail)})
      : err.detail);
    return 0;
  }
  const rest = [];
  let marked = 0;
  for (const e of err.errors) {
    const path = (e.loc || []).filter((p) => p !== "body" && p !== "query");
    const text = errorText(e);
    let target = null;
    for (let n = path.length; n > 0 && !target; n--) {
      target = root.querySelector(`[data-field="${CSS.escape(path.slice(0, n).join("."))}"]`);
    }
    if (!target) {
      rest.push(t("plan.err.line", {field: fieldLabel(path), text}));
      continue;
    }
    target.classList.add("invalid");
    let box = target.querySelector(":scope > .fmsg");
    if (!box) {
      box = document.createElement("em");
      box.className = "fmsg";
      target.append(box);
    }
    box.textContent = box.textContent ? `${box.textContent}${t("plan.sep")}${text}` : text;
    marked += 1;
  }
  say(rest.length ? rest.join(t("plan.sep")) : t("plan.err.fix"));
  root.querySelector(".invalid")?.scrollIntoView({block: "nearest"});
  return marked;
}

/** A short success note in ``msgBox`` that fades after a while. */
export function sayDone(msgBox, text) {
  if (!msgBox) return;
  msgBox.textContent = text;
  msgBox.classList.remove("bad");
  msgBox.classList.add("good");
  clearTimeout(msgBox._timer);
  msgBox._timer = setTimeout(() => {
    if (msgBox.textContent === text) msgBox.textContent = "";
  }, 4000);
}
