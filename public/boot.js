// Boots the widget on the playground page. An external module (not an inline script), so
// the page runs under `script-src 'self' 'wasm-unsafe-eval'`. `start` mounts into #confab-app.
import init, { set_module_loader } from "../confab.js";

// Modules fetched only when first needed: "math" (TeX to MathML) with the first formula,
// "highlight" (code colors) with the first fenced code block.
const loadModule = async (name) => {
  const file = "../confab-" + name;
  const mod = await import(new URL(file + ".js", import.meta.url).href);
  await mod.default({ module_or_path: new URL(file + "_bg.wasm", import.meta.url) });
  return mod;
};

init({ module_or_path: new URL("../confab_bg.wasm", import.meta.url) })
  .then(() => set_module_loader(loadModule))
  .catch((err) => {
    const app = document.getElementById("confab-app");
    if (app) app.textContent = "Confab could not start: " + err;
    console.error(err);
  });
