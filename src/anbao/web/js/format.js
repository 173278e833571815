// Number, time and duration formatting in the current language and the configured time zone.
import {getLang, t} from "./i18n.js";

let timeZone = "Asia/Shanghai";
export function setTimeZone(tz) {
  timeZone = tz || timeZone;
}

export function num(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return Number(v).toLocaleString(getLang(), {maximumFractionDigits: digits, minimumFractionDigits: digits});
}

export function density(v) {
  return v === null || v === undefined ? "—" : num(v, 2);
}

/** An Intl.DateTimeFormat in the current language and the event's time zone, 24-hour clock. */
export function timeFormat(opts) {
  return new Intl.DateTimeFormat(getLang(), {timeZone, hour12: false, ...opts});
}
const fmt = timeFormat;

export function clock(d = new Date()) {
  return fmt({hour: "2-digit", minute: "2-digit", second: "2-digit"}).format(d);
}

/** Hours and minutes of a Date, ms or ISO string; "—" for none. */
export function hm(d) {
  return d || d === 0 ? fmt({hour: "2-digit", minute: "2-digit"}).format(new Date(d)) : "—";
}

export function dateTime(d) {
  if (!d) return "—";
  return fmt({month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"}).format(new Date(d));
}

export function dateLong(d = new Date()) {
  return fmt({year: "numeric", month: "long", day: "numeric", weekday: "short"}).format(d);
}

/** Elapsed time since ``since`` (Date, ms or ISO) as "3分12秒" / "3 min 12 s". */
export function age(since, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - new Date(since).getTime()) / 1000));
  if (s < 60) return t("dur.s", {s});
  const m = Math.floor(s / 60);
  if (m < 60) return t("dur.ms", {m, s: s % 60});
  const h = Math.floor(m / 60);
  return t("dur.hm", {h, m: m % 60});
}

export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return t("dur.min", {m: num(seconds / 60, 0)});
}

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
