// Message catalogs of the mobile app: /m/i18n/<lang>.json (zh-CN first, English second). The code is the
// command map's /js/i18n.js (one module, so the language choice is shared); only the catalogs differ.
import {setCatalogBase} from "/js/i18n.js";

export * from "/js/i18n.js";
setCatalogBase("/m/i18n");
