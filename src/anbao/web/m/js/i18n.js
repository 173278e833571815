// Message catalogs of the mobile app: /m/i18n/<lang>.json (zh-CN first, English second), the same
// approach as the command map's /js/i18n.js. The language choice is shared with the command map.

export const LANGS = ["zh-CN", "en"];
const STORE_KEY = "anbao.lang";
let lang = LANGS.includes(localStorage.getItem(STORE_KEY)) ? localStorage.getItem(STORE_KEY) : "zh-CN";
let catalog = {};
const listeners = new Set();

export function getLang() {
  return lang;
}

export async function loadCatalog(which = lang) {
  const r = await fetch(`/m/i18n/${which}.json`, {cache: "no-cache"});
  if (!r.ok) throw new Error(`catalog ${which}: HTTP ${r.status}`);
  catalog = await r.json();
  lang = which;
  document.documentElement.lang = which;
}

export async function setLang(which) {
  if (!LANGS.includes(which) || which === lang) return;
  await loadCatalog(which);
  localStorage.setItem(STORE_KEY, which);
  applyI18n();
  for (const fn of listeners) fn(which);
}

export function onLang(fn) {
  listeners.add(fn);
}

export function t(key, vars) {
  let s = catalog[key];
  if (s === undefined) {
    console.warn(`missing message ${key}`);
    s = key;
  }
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

export function has(key) {
  return Object.hasOwn(catalog, key);
}

export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  if (root === document && document.body.dataset.i18nDoctitle) document.title = t(document.body.dataset.i18nDoctitle);
}

/** Label of a vocabulary code from GET /meta/vocab in the current language; ``fallbackKey`` from the catalog. */
export function vocabLabel(vocab, table, code, fallbackKey) {
  const row = (vocab?.[table] || []).find((v) => v.code === code);
  if (row) return lang === "zh-CN" ? row.zh : row.en;
  if (fallbackKey && has(fallbackKey)) return t(fallbackKey);
  return code ?? "";
}
