// The code lists of GET /api/v1/meta/vocab, defined once in Python (anbao.core.vocab, the warning levels and
// the default thresholds) and served to every page: loaded once when the page starts (js/shell.js; the phone
// app keeps its last copy in IndexedDB) and read from here by every module. Nothing here repeats a code,
// label, rank, colour or threshold of the server.
import {getLang, has, t} from "./i18n.js";

/** What a zone or warning shows when it has no warning level (not a level of the server's list). */
export const NO_LEVEL = "none";
const NO_LEVEL_COLOUR = "#5d6978";

let vocab = {lists: {}, warning_levels: [], density_thresholds: {}, rule_thresholds: {}};
let levels = new Map(); // code -> {code, zh, en, rank, colour}

/** Keep ``data`` (the answer of GET /meta/vocab: the code lists by name, plus warning_levels and the default
 * thresholds) for the page, and give the CSS the level colours. */
export function setVocab(data) {
  const {warning_levels = [], density_thresholds = {}, rule_thresholds = {}, ...lists} = data || {};
  vocab = {lists, warning_levels, density_thresholds, rule_thresholds};
  levels = new Map(vocab.warning_levels.map((lv) => [lv.code, lv]));
  for (const lv of vocab.warning_levels) document.documentElement.style.setProperty(`--lv-${lv.code}`, lv.colour);
}

/** The rows ({code, zh, en}) of one code list, in the server's order. */
export function rows(list) {
  return vocab.lists[list] || [];
}

/** The codes of one code list, in the server's order. */
export function codes(list) {
  return rows(list).map((v) => v.code);
}

/** Label of ``code`` in ``list`` in the current language; else ``fallbackKey`` from the catalog (when given
 * and present), else the code itself. */
export function vocabLabel(list, code, fallbackKey) {
  const row = rows(list).find((v) => v.code === code);
  if (row) return getLang() === "zh-CN" ? row.zh : row.en;
  if (fallbackKey && has(fallbackKey)) return t(fallbackKey);
  return code ?? "";
}

/** The choices of a <select> ([{value, label}]) from one code list. */
export function vocabOptions(list) {
  return rows(list).map((v) => ({value: v.code, label: vocabLabel(list, v.code)}));
}

// ------------------------------------------------------------------ warning levels 蓝黄橙红

/** The warning-level codes, least serious first. */
export function levelCodes() {
  return vocab.warning_levels.map((lv) => lv.code);
}

/** 1 (blue) .. 4 (red); 0 for no level or an unknown code. */
export function levelRank(code) {
  return levels.get(code)?.rank ?? 0;
}

/** The level code of a rank (as zone history sends levels), NO_LEVEL for 0. */
export function levelAt(rank) {
  return vocab.warning_levels.find((lv) => lv.rank === rank)?.code ?? NO_LEVEL;
}

/** Screen colour of a level (#rrggbb); the grey of "no warning" for NO_LEVEL. */
export function levelColour(code) {
  return levels.get(code)?.colour ?? NO_LEVEL_COLOUR;
}

/** 蓝色 … 红色 in the current language; the catalog's word for NO_LEVEL (正常). */
export function levelLabel(code) {
  return vocabLabel("warning_level", code, `level.${code}`);
}

/** The thresholds of a warning rule (a row of GET warning-rules) by level code; null for a level it leaves out. */
export function levelThresholds(rule) {
  return Object.fromEntries(levelCodes().map((c) => [c, rule?.[c] ?? null]));
}

/** Persons/m2 at which each level starts for a zone whose event has no density rule. */
export function densityDefaults() {
  return levelThresholds(vocab.density_thresholds);
}

/** The server's default thresholds of a warning-rule kind (e.g. queue_length), null when it has none. */
export function ruleDefaults(kind) {
  const rule = vocab.rule_thresholds[kind];
  return rule ? levelThresholds(rule) : null;
}
