// Who is looking at the command map: the role's permissions (GET /auth/me) decide which actions are shown,
// and the display names of actors (GET /auth/names) replace "user:demo" / "system:simulator" on screen.
import {api, AuthError} from "./api.js";
import {has, t} from "./i18n.js";

let perms = null; // null until loaded: everything shown (the server still refuses what the role may not do)
let names = {};

/** Load the caller's permissions and the display names; a failure leaves the defaults. */
export async function loadRoles() {
  try {
    const [me, known] = await Promise.all([api("/auth/me"), api("/auth/names").catch(() => ({}))]);
    perms = new Set(me?.permissions || []);
    names = known || {};
    if (me?.username) names[`user:${me.username}`] = me.display_name || me.username;
    document.dispatchEvent(new Event("anbao:names")); // the top bar shows the display name
  } catch (err) {
    if (!(err instanceof AuthError)) console.warn("roles", err);
  }
}

/** May the logged-in user do ``perm`` ("warning:handle", "incident:dispatch", ...)? */
export function can(perm) {
  return perms === null || perms.has(perm);
}

/** "user:zhang" -> 张警官, "system:simulator" -> 仿真系统, "system:x" -> 系统; anything else as given.
 * ``known``: display names by actor (default: those loadRoles fetched; the phone passes its cached copy). */
export function actorName(actor, known = names) {
  if (!actor) return "";
  if (known?.[actor]) return known[actor];
  const [kind, name] = actor.includes(":") ? [actor.slice(0, actor.indexOf(":")), actor.slice(actor.indexOf(":") + 1)] : ["", actor];
  if (kind === "system") return has(`actor.${name}`) ? t(`actor.${name}`) : t("actor.system");
  if (kind === "user") return name;
  return actor;
}

/** Hide every element marked data-perm="..." the role may not use. */
export function applyRoles(root = document) {
  for (const n of root.querySelectorAll("[data-perm]")) n.hidden = !can(n.dataset.perm);
}
