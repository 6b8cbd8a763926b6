// Boots the widget on the playground page. An external module (not an inline script), so
// the page runs under `script-src 'self' 'wasm-unsafe-eval'`. `start` mounts into #confab-app.
import init from "../confab.js";

init({ module_or_path: new URL("../confab_bg.wasm", import.meta.url) }).catch((err) => {
  const app = document.getElementById("confab-app");
  if (app) app.textContent = "Confab could not start: " + err;
  console.error(err);
});
