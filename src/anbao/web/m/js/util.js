// Small helpers: DOM building, ids made on the phone, time formatting in the event's time zone.
import {getLang, t} from "./i18n.js";

export const $ = (s, root = document) => root.querySelector(s);
export const $$ = (s, root = document) => [...root.querySelectorAll(s)];

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

/** A random UUID (v4). crypto.randomUUID exists only on https/localhost; getRandomValues everywhere. */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

let timeZone = "Asia/Shanghai";
export function setTimeZone(tz) {
  timeZone = tz || timeZone;
}

function fmt(opts) {
  return new Intl.DateTimeFormat(getLang(), {timeZone, hour12: false, ...opts});
}

export function hm(d) {
  return d ? fmt({hour: "2-digit", minute: "2-digit"}).format(new Date(d)) : "—";
}

export function hms(d) {
  return d ? fmt({hour: "2-digit", minute: "2-digit", second: "2-digit"}).format(new Date(d)) : "—";
}

export function dateTime(d) {
  return d ? fmt({month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}).format(new Date(d)) : "—";
}

/** Elapsed time since ``since`` as "3分12秒前" / "3 min 12 s ago". */
export function ago(since, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - new Date(since).getTime()) / 1000));
  if (s < 60) return t("dur.s", {s});
  const m = Math.floor(s / 60);
  if (m < 60) return t("dur.m", {m});
  const h = Math.floor(m / 60);
  return t("dur.hm", {h, m: m % 60});
}

export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return Number(v).toLocaleString(getLang(), {maximumFractionDigits: digits, minimumFractionDigits: digits});
}

/** Vibrate if the phone can (ignored elsewhere). */
export function buzz(pattern = [200, 100, 200]) {
  try {
    navigator.vibrate?.(pattern);
  } catch {
    // not allowed before a user gesture: the on-screen notice still shows
  }
}

/** Replace the children of ``box`` (null, undefined and false are left out). */
export function fill(box, ...children) {
  box.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}
