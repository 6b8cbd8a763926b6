// Buttons on the plain example page that drive the widget through its JS API, and a log of
// its events (written with textContent only).
const log = document.getElementById("events");
for (const type of ["confab:ready", "confab:open", "confab:close", "confab:message", "confab:error"]) {
  document.addEventListener(type, (ev) => {
    const line = document.createElement("li");
    const d = ev.detail || {};
    line.textContent = type + (d.role ? " " + d.role + ": " + String(d.text).slice(0, 60) : "") + (d.kind ? " " + d.kind + " " + d.message : "");
    log?.prepend(line);
  });
}
document.addEventListener("click", (ev) => {
  const action = ev.target.closest?.("[data-api]")?.dataset.api;
  if (!action || !window.Confab?.element) return;
  if (action === "send") Confab.send("Hello from the page");
  else if (action === "dark" || action === "light" || action === "auto") Confab.setConfig({ theme: action });
  else Confab[action]();
});
