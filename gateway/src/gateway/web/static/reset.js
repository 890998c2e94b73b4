import { api, attempt, formValues } from "/static/app.js";

document.getElementById("reset").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = location.hash.slice(1);
  await attempt(document.getElementById("error"), async () => {
    await api(`/v1/password-resets/${encodeURIComponent(token)}`, { method: "POST", body: formValues(event.target), signedIn: false });
    location.assign("/login");
  });
});
