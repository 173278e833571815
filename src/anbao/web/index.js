// Minimal start page until the command map lands: log in and list events.
const form = document.getElementById("login");
const msg = document.getElementById("msg");
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  msg.textContent = "";
  const body = Object.fromEntries(new FormData(form));
  const r = await fetch("/api/v1/auth/login", {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) { msg.textContent = "登录失败：" + (typeof data.detail === "string" ? data.detail : r.status); return; }
  sessionStorage.setItem("anbao.token", data.access_token);
  const auth = {headers: {Authorization: "Bearer " + data.access_token}};
  const [events, vocab] = await Promise.all([
    fetch("/api/v1/events", auth).then((r) => r.json()),
    fetch("/api/v1/meta/vocab", auth).then((r) => r.json()),
  ]);
  const label = (table, code) => (vocab[table].find((v) => v.code === code) || {zh: code}).zh;
  const tbody = document.querySelector("#events tbody");
  tbody.replaceChildren(...events.map((e) => {
    const tr = document.createElement("tr");
    const cells = [e.name, label("event_kind", e.kind), e.expected_attendance.toLocaleString("zh-CN"),
                   label("event_status", e.status)];
    for (const v of cells) {
      const td = document.createElement("td"); td.textContent = v; tr.append(td);
    }
    return tr;
  }));
  document.getElementById("events").hidden = false;
});
