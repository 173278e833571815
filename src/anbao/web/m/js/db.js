// IndexedDB on the phone: "outbox" (work waiting to be sent, in order), "failed" (work the server
// refused for good, kept until the officer retries or drops it) and "kv" (the last good copy of each
// server read, so the app opens without network).

const NAME = "anbao-m";
const VERSION = 1;
let opening = null;

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      if (!globalThis.indexedDB) {
        reject(new Error("IndexedDB unavailable"));
        return;
      }
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", {keyPath: "seq", autoIncrement: true});
        if (!db.objectStoreNames.contains("failed")) db.createObjectStore("failed", {keyPath: "seq"});
        if (!db.objectStoreNames.contains("kv")) db.createObjectStore("kv", {keyPath: "k"});
      };
      req.onsuccess = () => {
        const db = req.result;
        db.onversionchange = () => db.close();
        resolve(db);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error("IndexedDB blocked by another tab"));
    });
    opening.catch(() => {
      opening = null;
    });
  }
  return opening;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    tx.onerror = () => reject(tx.error);
  });
}

function result(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Add ``value`` to ``store``; resolves with its key once the transaction is durable. */
export async function add(store, value) {
  const db = await openDb();
  const tx = db.transaction(store, "readwrite", {durability: "strict"});
  const key = result(tx.objectStore(store).add(value));
  await done(tx);
  return key;
}

export async function put(store, value) {
  const db = await openDb();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value);
  await done(tx);
}

export async function del(store, key) {
  const db = await openDb();
  const tx = db.transaction(store, "readwrite", {durability: "strict"});
  tx.objectStore(store).delete(key);
  await done(tx);
}

/** Move one item between stores in one transaction (never in both, never in neither). */
export async function move(from, to, key, change = {}) {
  const db = await openDb();
  const tx = db.transaction([from, to], "readwrite", {durability: "strict"});
  const src = tx.objectStore(from);
  const item = await result(src.get(key));
  if (item) {
    tx.objectStore(to).put({...item, ...change});
    src.delete(key);
  }
  await done(tx);
  return item;
}

/** Every value of ``store`` in key order. */
export async function all(store) {
  const db = await openDb();
  const tx = db.transaction(store, "readonly");
  const rows = await result(tx.objectStore(store).getAll());
  await done(tx);
  return rows;
}

export async function count(store) {
  const db = await openDb();
  const tx = db.transaction(store, "readonly");
  const n = await result(tx.objectStore(store).count());
  await done(tx);
  return n;
}

export async function getKv(k) {
  const db = await openDb();
  const tx = db.transaction("kv", "readonly");
  const row = await result(tx.objectStore("kv").get(k));
  await done(tx);
  return row ? row.v : undefined;
}

export function setKv(k, v) {
  return put("kv", {k, v, at: Date.now()});
}
