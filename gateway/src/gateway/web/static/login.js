import { api, attempt, formValues } from "/static/app.js";

const HOMES = { clinician: "/clinician", operator: "/operator" };

export async function goHome() {
  const me = await api("/v1/me");
  const next = new URLSearchParams(location.search).get("next");
  location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : HOMES[me.role] || "/facility");
}

document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = formValues(event.target);
  await attempt(document.getElementById("error"), async () => {
    await api("/v1/sessions", { method: "POST", body, signedIn: false });
    await goHome();
  });
});

document.getElementById("forgot").addEventListener("click", async (event) => {
  event.preventDefault();
  const email = document.getElementById("email").value;
  const said = document.getElementById("forgot-sent");
  if (!email) { said.textContent = "Enter your email first."; return; }
  await attempt(document.getElementById("error"), async () => {
    const answer = await api("/v1/password-resets", { method: "POST", body: { email }, signedIn: false });
    said.textContent = answer.status;
  });
});
