// Small helpers of the mobile app: ids made on the phone, short time formats, vibration. DOM building,
// numbers and the time zone are the command map's (/js/format.js).
import {clock, timeFormat} from "/js/format.js";
import {t} from "./i18n.js";

export {el, hm, num, setTimeZone} from "/js/format.js";
export {uuid} from "/js/uuid.js";

export const $ = (s, root = document) => root.querySelector(s);
export const $$ = (s, root = document) => [...root.querySelectorAll(s)];

/** Hours, minutes and seconds; "—" for none. */
export function hms(d) {
  return d ? clock(new Date(d)) : "—";
}

/** Month, day, hours and minutes (no seconds on a phone); "—" for none. */
export function dateTime(d) {
  return d ? timeFormat({month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"}).format(new Date(d)) : "—";
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
