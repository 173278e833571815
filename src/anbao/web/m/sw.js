// Service worker of the mobile app (scope /m/): keeps the app shell in the Cache API so the app opens
// without network. Shell files are fetched network-first (a deployed update shows at once when the
// server is reachable) and fall back to the cached copy; API calls are never cached here (the app
// keeps its own copy of the data in IndexedDB, and its outbox decides what is sent when).
const VERSION = "anbao-m-2026.12.07-2";
const SHELL = [
  "/m/",
  "/m/manifest.webmanifest",
  "/m/icon.svg",
  "/m/icon-192.png",
  "/m/icon-512.png",
  "/m/icon-maskable-512.png",
  "/m/css/mobile.css",
  "/m/i18n/zh-CN.json",
  "/m/i18n/en.json",
  "/m/js/app.js",
  "/m/js/data.js",
  "/m/js/db.js",
  "/m/js/geo.js",
  "/m/js/i18n.js",
  "/m/js/outbox.js",
  "/m/js/photo.js",
  "/m/js/report.js",
  "/m/js/session.js",
  "/m/js/taskmap.js",
  "/m/js/util.js",
  "/m/js/views.js",
  "/css/base.css",
  "/js/api.js",
  "/js/format.js",
  "/js/i18n.js",
  "/js/live.js",
  "/js/roles.js",
  "/js/uuid.js",
  "/js/vocab.js",
];
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(VERSION);
    await cache.addAll(SHELL.map((u) => new Request(u, {cache: "reload"})));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith("anbao-m-") && name !== VERSION) await caches.delete(name);
    await self.clients.claim();
  })());
});

function isShell(url) {
  return url.pathname.startsWith("/m/") || SHELL.includes(url.pathname);
}

async function networkFirst(request) {
  const cache = await caches.open(VERSION);
  const key = request.mode === "navigate" ? "/m/" : request;
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("slow network")), NETWORK_WAIT_MS)),
    ]);
    if (response.ok && response.type === "basic") await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(key, {ignoreSearch: true});
    if (cached) return cached;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/") || !isShell(url)) return;
  event.respondWith(networkFirst(request));
});
