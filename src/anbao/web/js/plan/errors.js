// How the planning page explains a refused change: js/api.js's ApiError carries the server's list of field
// errors (err.errors), and each message is shown next to its field, in words a planner reads (codes of
// pydantic errors and the server's usual sentences are put into the catalog's language).
import {ApiError, AuthError, NetworkError} from "../api.js";
import {has, t} from "../i18n.js";
import {codes} from "../vocab.js";
import {riskLevelLabel} from "./ui.js";

const level = (code) => (codes("risk_level").includes(code) ? riskLevelLabel(code) : code);

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

/** What went wrong in one line: the server's refusal in words, no network, or the error itself. */
export function problemText(err) {
  if (err instanceof NetworkError) return t("error.network");
  if (err instanceof ApiError) return sayServer(err.detail);
  return err?.message || String(err);
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
    if (!(err instanceof NetworkError)) console.error(err);
    say(t("error.network"));
    return 0;
  }
  if (!err.errors) {
    say(err.status === 403 ? t("plan.err.forbidden") : t("error.server", {status: err.status, detail: sayServer(err.detail)}));
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
