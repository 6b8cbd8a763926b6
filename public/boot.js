// Boots the widget on the playground page. An external module (not an inline script), so
// the page runs under `script-src 'self' 'wasm-unsafe-eval'`. `start` mounts into #confab-app.
import init, { set_math_loader } from "../confab.js";

// The math module (TeX to MathML) is fetched only when the first formula needs it.
const loadMath = async () => {
  const math = await import(new URL("../confab-math.js", import.meta.url).href);
  await math.default({ module_or_path: new URL("../confab-math_bg.wasm", import.meta.url) });
  return math;
};

init({ module_or_path: new URL("../confab_bg.wasm", import.meta.url) })
  .then(() => set_math_loader(loadMath))
  .catch((err) => {
    const app = document.getElementById("confab-app");
    if (app) app.textContent = "Confab could not start: " + err;
    console.error(err);
  });
