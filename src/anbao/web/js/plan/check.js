// 合规检查: GET plan-check, findings grouped by the article of the 大型群众性活动安全管理条例 they cite,
// each with its severity and what to do; the number of errors also shows on the tab.
import {dateTime, el} from "../format.js";
import {has, t} from "../i18n.js";
import {api} from "../api.js";

const SEVERITIES = ["error", "warning", "info", "ok"];
const root = () => document.getElementById("pane-check");

function articleNo(code) {
  const m = /^art(\d+)/.exec(code || "");
  return m ? Number(m[1]) : 999;
}

export class CheckTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.data = null;
    root().querySelector("#check-run").addEventListener("click", () => this.show().catch((err) => console.warn(err)));
    ctx.on("plans", () => this.badge().catch(() => {}));
  }

  async load() {
    this.data = await api(this.ctx.url("/plan-check"));
    this.at = new Date();
    this.drawBadge();
    return this.data;
  }

  /** Refresh only the number of errors on the tab. */
  async badge() {
    await this.load();
  }

  drawBadge() {
    const b = document.getElementById("check-badge");
    const n = this.data?.counts?.error || 0;
    b.hidden = !n;
    b.textContent = String(n);
  }

  async show() {
    const button = root().querySelector("#check-run");
    button.disabled = true;
    root().classList.add("loading");
    try {
      await this.load();
      this.render();
    } finally {
      button.disabled = false;
      root().classList.remove("loading");
    }
  }

  relabel() {
    if (this.data) this.render();
  }

  render() {
    const d = this.data;
    const c = d.counts || {};
    const summary = root().querySelector("#check-summary");
    summary.replaceChildren(
      el("div", {class: `verdict ${d.ok ? "ok" : "bad"}`}, el("b", {}, t(d.ok ? "plan.check.passed" : "plan.check.failed", {n: c.error || 0})),
        el("span", {}, t("plan.check.summary", {error: c.error || 0, warning: c.warning || 0, info: c.info || 0, ok: c.ok || 0}))),
      el("div", {class: "sev-counts"}, ...SEVERITIES.map((s) => el("span", {class: `sev-count${c[s] ? "" : " zero"}`},
        el("span", {class: `chip sev sev-${s}`}, t(`plan.sev.${s}`)), el("b", {}, String(c[s] || 0))))),
      el("div", {class: "muted small"}, t("plan.check.at", {at: dateTime(this.at)})));
    const groups = new Map();
    for (const f of d.findings) {
      const key = f.code.split(".")[0];
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(f);
    }
    const keys = [...groups.keys()].sort((a, b) => articleNo(a) - articleNo(b));
    const body = root().querySelector("#check-body");
    body.replaceChildren(...keys.map((key) => {
      const items = groups.get(key);
      const worst = SEVERITIES.find((s) => items.some((f) => f.severity === s));
      const root0 = items[0].article.replace(/^(\u7b2c.+?\u6761).*$/, "$1");
      return el("section", {class: `art art-${worst}`, dataset: {article: key}},
        el("header", {class: "art-head"}, el("span", {class: "art-no"}, root0),
          el("span", {class: "art-topic"}, has(`plan.art.${key}`) ? t(`plan.art.${key}`) : ""),
          el("span", {class: "art-n"}, ...SEVERITIES.filter((s) => items.some((f) => f.severity === s)).map((s) =>
            el("span", {class: `chip sev sev-${s}`}, `${t(`plan.sev.${s}`)} ${items.filter((f) => f.severity === s).length}`)))),
        el("ul", {class: "findings"}, items.map((f) => el("li", {class: `finding sev-${f.severity}`, dataset: {code: f.code}},
          el("span", {class: `chip sev sev-${f.severity}`}, t(`plan.sev.${f.severity}`)),
          el("div", {class: "f-text"},
            el("div", {class: "f-msg"}, f.message),
            f.hint ? el("div", {class: "f-hint"}, el("span", {class: "muted"}, t("plan.check.hint")), f.hint) : null),
          el("span", {class: "f-art muted"}, f.article), el("span", {class: "f-code mono muted"}, f.code)))));
    }));
  }
}
