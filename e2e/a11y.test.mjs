// Accessibility, audited by axe-core (WCAG 2.1 A and AA rules) on every screen a person
// sees: the playground in light and dark with an answer, and the open embed panel. New
// screens get a line here, so they are audited too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { launch, send, waitIdle } from "./lib.mjs";

const BASE = (process.env.CONFAB_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** axe's violations on the page, as "rule: target (summary)" lines, one per node. */
async function audit(page) {
  // An unstyled page would pass for the wrong reason: the widget's stylesheet must apply.
  const styled = await page.evaluate(() => {
    const host = document.querySelector("confab-chat");
    const panel = (host ? host.shadowRoot : document).querySelector(".cf-panel");
    return getComputedStyle(panel).display;
  });
  assert.equal(styled, "flex", "the widget's stylesheet is applied");
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations.flatMap((v) => v.nodes.map((n) =>
      `${v.id}: ${JSON.stringify(n.target)} (${(n.failureSummary || "").split("\n").slice(1, 2).join("").trim()})`));
  });
  return violations;
}

/** A context whose pages accept axe's injected script (the server's CSP would refuse it). */
async function openAudited(url, options = {}) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  await page.goto(BASE + url);
  return page;
}

for (const theme of ["light", "dark"]) {
  test(`the playground in ${theme} with an answer has no WCAG 2.1 AA violations`, async () => {
    const page = await openAudited(`/?theme=${theme}&lang=en`);
    await send(page, "Hello, show me a table");
    await waitIdle(page);
    assert.deepEqual(await audit(page), []);
    await page.context().close();
  });
}

for (const theme of ["light", "dark"]) {
  test(`the open embed panel in ${theme} with an answer has no WCAG 2.1 AA violations`, async () => {
    const page = await openAudited(`/public/examples/plain.html`);
    await page.evaluate((t) => window.Confab.setConfig({ theme: t }), theme);
    await page.locator("confab-chat .cf-bubble").click();
    await send(page, "Hello from the audit");
    await waitIdle(page);
    assert.deepEqual(await audit(page), []);
    await page.context().close();
  });
}
