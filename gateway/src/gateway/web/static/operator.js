import { api, attempt, fill, h, signOut, toast } from "/static/app.js";

async function start() {
  const me = await api("/v1/me");
  fill(document.getElementById("who"), h("span", {}, me.name), h("button", { type: "button", onclick: signOut }, "Sign out"));
  await Promise.all([compacts(), audit()]);
}

function verification(entry) {
  return entry.verification.verification.replace("VERIFICATION_", "").toLowerCase().replace("_", "-");
}

async function showRecord(clinician) {
  const record = await api(`/v1/operator/clinicians/${encodeURIComponent(clinician)}/licensing`);
  const decide = (kind, id, decision) => attempt(document.getElementById("find-error"), async () => {
    await api(`/v1/operator/clinicians/${encodeURIComponent(clinician)}/${kind}/${encodeURIComponent(id)}/${decision}?expected_version=${record.version}`, { method: "POST" });
    toast(`${decision === "verify" ? "Verified" : "Revoked"}.`);
    await showRecord(clinician);
  });
  const row = (kind, entry, id, text) => h("li", { "data-entry": id }, text, " · ", h("span", { class: "muted" }, verification(entry)), " ",
    h("button", { type: "button", class: "secondary", onclick: () => decide(kind, id, "verify") }, "Verify"), " ",
    h("button", { type: "button", class: "danger", onclick: () => decide(kind, id, "revoke") }, "Revoke"));
  fill(document.getElementById("record"), h("p", {}, `Lives in ${record.residence || "(not given)"} · record version ${record.version}`),
    h("ul", { class: "plain" },
      record.licences.map((l) => row("licences", l, l.licence_id, `${l.jurisdiction} ${l.profession} ${l.number}${l.multistate ? " multistate" : ""}, ${l.issued} to ${l.expires}`)),
      record.authorities.map((a) => row("authorities", a, a.authority_id, `${a.kind.replace("AUTHORITY_KIND_", "")} ${a.compact} ${a.jurisdiction}, to ${a.expires}`))));
}

async function compacts() {
  const list = (await api("/v1/compacts")).compacts;
  fill(document.getElementById("compacts"), list.map((c) => h("details", {},
    h("summary", {}, `${c.name} (${c.code}) · ${c.members.length} members · version ${c.version}`),
    h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Jurisdiction"), h("th", {}, "Honours privileges from"), h("th", {}, "Issues to residents from"), h("th", {}, "Note"))),
      h("tbody", {}, c.members.map((m) => h("tr", {}, h("td", {}, m.jurisdiction), h("td", {}, m.honours_from || "—"), h("td", {}, m.residents_from || "—"), h("td", {}, m.note)))))),
    h("div", { class: "row", style: "max-width: 24rem" },
      h("button", { type: "button", class: "secondary", onclick: () => edit(c.code) }, "Edit this table"),
      h("button", { type: "button", class: "secondary", onclick: (e) => history(c.code, e.target) }, "History")))));
}

// The latest table as stored (every field), with its version, into the editor.
async function edit(code) {
  const versions = (await api(`/v1/operator/compacts/${encodeURIComponent(code)}/history`)).versions;
  const latest = versions[versions.length - 1];
  document.getElementById("table").value = JSON.stringify({ ...JSON.parse(latest.table_json), version: latest.version }, null, 2);
  document.querySelector("#compact-form").closest("details").open = true;
  document.getElementById("table").focus();
}

async function history(code, button) {
  const versions = (await api(`/v1/operator/compacts/${encodeURIComponent(code)}/history`)).versions;
  button.closest("details").append(h("table", { class: "history" },
    h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "Recorded (UTC)"), h("th", {}, "By"), h("th", {}, "Members"), h("th", {}, "Source"))),
    h("tbody", {}, versions.slice().reverse().map((v) => h("tr", {}, h("td", {}, v.version), h("td", {}, v.changed_at.replace("T", " ").slice(0, 16)),
      h("td", {}, v.changed_by.id), h("td", {}, v.compact.members.length), h("td", {}, v.source))))));
  button.disabled = true;
}

async function audit() {
  const entries = (await api("/v1/operator/audit?limit=50")).entries.reverse();
  fill(document.querySelector("#audit tbody"), entries.map((e) => h("tr", {}, h("td", {}, e.at.replace("T", " ").slice(0, 19)),
    h("td", {}, e.account_id || "anonymous"), h("td", {}, `${e.method} ${e.route}`), h("td", {}, e.status))));
}

document.getElementById("find-form").addEventListener("submit", (event) => {
  event.preventDefault();
  attempt(document.getElementById("find-error"), () => showRecord(document.getElementById("clinician").value.trim()));
});
document.getElementById("compact-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await attempt(document.getElementById("compact-error"), async () => {
    const table = JSON.parse(document.getElementById("table").value);
    const version = table.version || 0;
    delete table.version;
    await api("/v1/operator/compacts", { method: "PUT", body: { table, source: document.getElementById("source").value, expected_version: version } });
    toast("Table saved.");
    await compacts();
  });
});

start();
