// 文书: the planning documents as DOCX (the work plan by the nine Art. 6 items, each special plan, the
// risk report, the assignment list). A download is fetched with the token and saved from an object URL.
import {api, download} from "../api.js";
import {el} from "../format.js";
import {t} from "../i18n.js";
import {sayServer} from "./errors.js";

const root = () => document.getElementById("pane-docs");

function kindOf(name) {
  if (name === "work-plan") return "work";
  if (name.startsWith("plan-")) return "plan";
  if (name === "risk-report") return "risk";
  if (name === "assignments") return "assign";
  return "other";
}

export class DocsTab {
  constructor(ctx) {
    this.ctx = ctx;
    this.docs = null;
  }

  async show() {
    this.docs = await api(this.ctx.url("/plan-documents"));
    this.render();
  }

  relabel() {
    if (this.docs) this.render();
  }

  render() {
    const body = root().querySelector(".docs-body");
    const groups = [["work", "plan.docs.work"], ["plan", "plan.docs.plans"], ["risk", "plan.docs.risk"], ["assign", "plan.docs.assign"],
      ["other", "plan.docs.other"]];
    const parts = [];
    for (const [kind, label] of groups) {
      const docs = this.docs.filter((d) => kindOf(d.name) === kind);
      if (!docs.length) continue;
      parts.push(el("h3", {}, t(label), el("span", {class: "count"}, String(docs.length))));
      parts.push(el("div", {class: "doc-grid"}, docs.map((d) => {
        const msg = el("span", {class: "doc-msg", role: "status"});
        const button = el("button", {type: "button", class: "btn primary small", dataset: {name: d.name}}, t("plan.docs.download"));
        button.addEventListener("click", async () => {
          button.disabled = true;
          msg.className = "doc-msg";
          msg.textContent = t("plan.docs.preparing");
          try {
            const file = await download(d.url, `${d.name}.docx`);
            msg.textContent = t("plan.docs.saved", {file});
            msg.classList.add("good");
          } catch (err) {
            msg.textContent = t("error.load", {detail: sayServer(err.detail || err.message)});
            msg.classList.add("bad");
          } finally {
            button.disabled = false;
          }
        });
        return el("div", {class: `doc doc-${kind}`, dataset: {name: d.name}},
          el("div", {class: "doc-icon"}, "DOCX"),
          el("div", {class: "doc-text"}, el("div", {class: "doc-title"}, d.title), el("div", {class: "doc-name mono muted"}, `${d.name}.docx`), msg),
          button);
      })));
    }
    if (!parts.length) parts.push(el("div", {class: "empty"}, t("plan.docs.none")));
    body.replaceChildren(...parts);
  }
}
