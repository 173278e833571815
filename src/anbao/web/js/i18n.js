// Message catalogs: every UI string lives in <base>/<lang>.json (zh-CN first, English second); the base is
// /i18n for the command map and the wall, /m/i18n for the mobile app (setCatalogBase). The language choice
// is shared by all of them. t("key", {name: value}) fills {name} placeholders; data-i18n* attributes are
// filled by applyI18n().

export const LANGS = ["zh-CN", "en"];
/** Each language's name in itself (中文, English): the same whatever the current language, so not in a catalog. */
export const LANG_NAMES = {"zh-CN": "\u4e2d\u6587", en: "English"};
const STORE_KEY = "anbao.lang";
let lang = LANGS.includes(localStorage.getItem(STORE_KEY)) ? localStorage.getItem(STORE_KEY) : "zh-CN";
let catalog = {};
let base = "/i18n";
const listeners = new Set();

export function getLang() {
  return lang;
}

/** Where the catalogs of this page live (before the first loadCatalog). */
export function setCatalogBase(path) {
  base = path.replace(/\/$/, "");
}

export async function loadCatalog(which = lang) {
  const r = await fetch(`${base}/${which}.json`, {cache: "no-cache"});
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

/** True when the catalog has ``key`` (for optional labels such as warning kinds). */
export function has(key) {
  return Object.hasOwn(catalog, key);
}

export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  if (root === document && document.body.dataset.i18nDoctitle) document.title = t(document.body.dataset.i18nDoctitle);
}

/** The language switches ([data-lang] buttons) under ``root``: a click picks the language, the current one
 * is marked "on" (now and after every change). Buttons already wired are left alone. */
export function langButtons(root = document) {
  const mark = () => {
    for (const b of root.querySelectorAll("[data-lang]")) b.classList.toggle("on", b.dataset.lang === lang);
  };
  for (const b of root.querySelectorAll("[data-lang]")) {
    if (b.dataset.langWired) continue;
    b.dataset.langWired = "1";
    b.addEventListener("click", () => setLang(b.dataset.lang));
  }
  mark();
  onLang(mark);
}
