// Embedding: the loader's bubble, the shadow root, the JS API and events, and the example
// host pages under public/examples/ (plain, hostile CSS, strict CSP, two widgets, phone,
// inline element, iframe, a page that already owns `window.Confab`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ask, launch, openPage, shot, waitMath } from "./lib.mjs";

const EX = "/public/examples/";
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** Polls `fn(arg)` in the page with page.evaluate (no eval: works under a strict CSP). */
async function until(page, fn, arg, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg).catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error("timed out waiting for " + fn.toString().slice(0, 120));
    await page.waitForTimeout(100);
  }
}

/** Records confab:* events from the start of the page, in page.events (read with events()). */
async function recordEvents(context) {
  await context.addInitScript(() => {
    window.__confabEvents = [];
    for (const type of ["confab:ready", "confab:open", "confab:close", "confab:message", "confab:error"]) {
      document.addEventListener(type, (ev) => window.__confabEvents.push({ type, detail: ev.detail ?? null }));
    }
  });
}
const events = (page) => page.evaluate(() => window.__confabEvents);

/** A page opened after the init script is installed (openPage navigates at once). */
async function openWith(url, options = {}, setup = async () => {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 }, ...options });
  await recordEvents(context);
  await setup(context);
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  // Failed requests are checked by URL (page.failed), not by their console line.
  page.on("console", (m) => { if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) page.errors.push(m.text()); });
  page.failed = [];
  page.on("response", (r) => { if (r.status() >= 400) page.failed.push(r.status() + " " + new URL(r.url()).pathname); });
  page.warnings = [];
  page.on("console", (m) => { if (m.type() === "warning") page.warnings.push(m.text()); });
  await page.goto(new URL(url, process.env.CONFAB_URL ?? "http://127.0.0.1:8787").href);
  return page;
}

const bubble = (page) => page.locator("confab-chat .cf-bubble");
const answers = (scope) => scope.locator('article[data-role="assistant"]');

test("the bubble shows at once, before the widget's code arrives; opening streams an answer", async () => {
  let release;
  const held = new Promise((r) => { release = r; });
  const page = await openWith(EX + "plain.html", {}, async (context) => {
    await context.route("**/confab_bg.wasm", async (route) => { await held; await route.continue(); });
  });
  await bubble(page).waitFor({ state: "visible", timeout: 5000 });
  const box = await bubble(page).boundingBox();
  assert.ok(box.width >= 50 && box.width <= 60, "bubble is 56px: " + box.width);
  assert.ok(box.x + box.width > 1000 - 40 && box.y + box.height > 760 - 40, "bottom-right corner");
  assert.equal(await page.evaluate(() => !!document.querySelector("confab-chat").shadowRoot.querySelector(".cf-root")), false,
    "the widget is not mounted while its wasm is held back");
  await shot(page, "embed-bubble-before-wasm");
  await bubble(page).click();
  await page.locator("confab-chat .cf-loading").waitFor();
  release();
  const input = page.getByRole("textbox", { name: "Message" });
  await input.waitFor();
  await until(page, () => document.querySelector("confab-chat").shadowRoot.activeElement?.tagName === "TEXTAREA");
  await ask(page, "Hello from the embed test");
  assert.match(await answers(page).first().innerText(), /\S{3,}/);
  const ev = await until(page, () => window.__confabEvents.find((e) => e.type === "confab:message"));
  assert.equal(ev.detail.role, "assistant");
  assert.equal(ev.detail.state, "done");
  assert.ok(ev.detail.text.length > 3 && ev.detail.conversationId, JSON.stringify(ev.detail));
  const types = (await events(page)).map((e) => e.type);
  assert.deepEqual(types.slice(0, 2).sort(), ["confab:open", "confab:ready"].sort());
  await shot(page, "embed-plain-open");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("with data-preload=interaction nothing heavy loads until the user hovers the bubble", async () => {
  const page = await openWith(EX + "lazy-test.html", {}, async (context) => {
    // A page made up here, so no other widget on it shares the loaded code.
    await context.route("**/lazy-test.html", (route) => route.fulfill({
      contentType: "text/html",
      body: '<!doctype html><title>lazy</title><p>lazy</p><script async src="../embed.js" data-endpoint="/v1/chat/completions" data-preload="interaction" data-lang="en" data-storage-key="lazy"></script>',
    }));
  });
  const seen = [];
  page.on("request", (r) => seen.push(new URL(r.url()).pathname));
  const heavy = (p) => /confab_bg\.wasm|\/confab\.js|confab\.css/.test(p);
  await bubble(page).waitFor();
  await page.waitForTimeout(2500);
  assert.deepEqual(seen.filter(heavy), [], "no widget code before interest");
  await bubble(page).hover();
  await until(page, () => window.__confabEvents.some((e) => e.type === "confab:ready"));
  assert.ok(seen.some((p) => p.endsWith("confab_bg.wasm")), "hover loads the wasm");
  assert.equal(await bubble(page).getAttribute("aria-expanded"), "false", "hover loads, only a click opens");
  await page.context().close();
});

test("JS API and events: open, send, setConfig theme live, clear, close, errors with kind and status", async () => {
  const page = await openWith(EX + "plain.html");
  await page.evaluate(() => Confab.open());
  await until(page, () => window.__confabEvents.some((e) => e.type === "confab:ready"));
  const sent = await page.evaluate(() => Confab.send("api hello"));
  assert.equal(sent, true);
  const msg = await until(page, () => window.__confabEvents.find((e) => e.type === "confab:message"));
  assert.equal(msg.detail.role, "assistant");

  const rootTheme = () => document.querySelector("confab-chat").shadowRoot.querySelector(".cf-root").dataset.theme;
  const panelBg = () => getComputedStyle(document.querySelector("confab-chat").shadowRoot.querySelector(".cf-panel")).backgroundColor;
  await page.evaluate(() => Confab.setConfig({ theme: "dark" }));
  assert.equal(await page.evaluate(rootTheme), "dark");
  assert.equal(await page.evaluate(panelBg), "rgb(22, 24, 29)");
  await shot(page, "embed-api-dark");
  await page.evaluate(() => Confab.setConfig({ theme: "light" }));
  assert.equal(await page.evaluate(panelBg), "rgb(255, 255, 255)");
  // The same switch through the element's attribute.
  await page.evaluate(() => Confab.element.setAttribute("data-theme", "dark"));
  assert.equal(await page.evaluate(rootTheme), "dark", "the element's data-theme attribute switches it too");

  await page.evaluate(() => Confab.send("/demo 429"));
  const err = await until(page, () => window.__confabEvents.find((e) => e.type === "confab:error"));
  assert.equal(err.detail.kind, "rate_limited");
  assert.equal(err.detail.status, 429);
  assert.ok(err.detail.message.length > 5, err.detail.message);
  assert.deepEqual(page.failed, ["429 /v1/chat/completions"]);

  await page.evaluate(() => Confab.clear());
  await until(page, () => document.querySelector("confab-chat").shadowRoot.querySelectorAll("article").length === 0);
  await page.evaluate(() => Confab.close());
  await until(page, () => window.__confabEvents.some((e) => e.type === "confab:close"));
  assert.equal(await bubble(page).getAttribute("aria-expanded"), "false");
  await page.evaluate(() => Confab.toggle());
  assert.equal(await bubble(page).getAttribute("aria-expanded"), "true");
  await page.keyboard.press("Escape");
  assert.equal(await bubble(page).getAttribute("aria-expanded"), "false", "Escape closes the popup");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("data-theme on the element switches live without a remount", async () => {
  const page = await openWith(EX + "inline.html");
  await until(page, () => window.__confabEvents.some((e) => e.type === "confab:ready"));
  const mark = () => { const r = document.querySelector("#inline-chat").shadowRoot.querySelector(".cf-root"); r.__mark = 1; };
  await page.evaluate(mark);
  await page.evaluate(() => document.querySelector("#inline-chat").setAttribute("data-theme", "dark"));
  const state = await page.evaluate(() => {
    const r = document.querySelector("#inline-chat").shadowRoot.querySelector(".cf-root");
    return { theme: r.dataset.theme, same: r.__mark === 1 };
  });
  assert.deepEqual(state, { theme: "dark", same: true });
  await page.context().close();
});

test("the widget leaves the host page's head, title, styles and scroll alone", async () => {
  const page = await openWith(EX + "plain.html");
  // The page's own event log would move the content (and, by scroll anchoring, the scroll).
  await page.evaluate(() => document.getElementById("events").remove());
  const before = await page.evaluate(() => ({
    head: document.head.innerHTML, title: document.title, sheets: document.styleSheets.length,
    adopted: document.adoptedStyleSheets.length, html: document.documentElement.getAttribute("style"),
  }));
  await page.evaluate(() => window.scrollTo(0, 300));
  await page.evaluate(() => Confab.send("hello, head"));
  await until(page, () => window.__confabEvents.some((e) => e.type === "confab:message"));
  const afterOpen = await page.evaluate(() => ({
    head: document.head.innerHTML, title: document.title, sheets: document.styleSheets.length,
    adopted: document.adoptedStyleSheets.length, html: document.documentElement.getAttribute("style"),
  }));
  assert.deepEqual(afterOpen, before);
  assert.equal(await page.evaluate(() => document.querySelectorAll("style").length), 0, "no <style> anywhere in the document");
  assert.equal(await page.evaluate(() => Math.round(window.scrollY)), 300, "page scroll untouched");
  const sheets = await page.evaluate(() => document.querySelector("confab-chat").shadowRoot.adoptedStyleSheets.length);
  assert.equal(sheets, 2, "widget CSS and loader CSS as constructed sheets in the shadow root");
  await page.context().close();
});

test("hostile host CSS neither reaches the widget nor is touched by it", async () => {
  const page = await openWith(EX + "hostile.html");
  const host = () => {
    const t = getComputedStyle(document.getElementById("host-title"));
    const b = getComputedStyle(document.getElementById("host-send"));
    return { titleWeight: t.fontWeight, titleSize: t.fontSize, sendBg: b.backgroundColor, sendBorder: b.borderTopWidth };
  };
  const hostBefore = await page.evaluate(host);
  await bubble(page).waitFor();
  const b = await bubble(page).boundingBox();
  assert.ok(b.width >= 50 && b.width <= 60, "bubble keeps its size: " + b.width);
  await bubble(page).click();
  await ask(page, "hello, hostile page");
  const inside = await page.evaluate(() => {
    const root = document.querySelector("confab-chat").shadowRoot;
    const cs = (sel) => getComputedStyle(root.querySelector(sel));
    return {
      rootSize: cs(".cf-root").fontSize, letterSpacing: cs(".cf-root").letterSpacing,
      transform: cs(".cf-title").textTransform, panel: cs(".cf-panel").display,
      input: cs(".cf-input").display, sizing: cs(".cf-input").boxSizing, send: cs(".cf-send").backgroundColor,
      bubbleBg: cs(".cf-bubble").backgroundColor,
    };
  });
  assert.equal(inside.rootSize, "15px");
  assert.equal(inside.letterSpacing, "normal");
  assert.equal(inside.transform, "none");
  assert.equal(inside.panel, "flex");
  assert.notEqual(inside.input, "none");
  assert.equal(inside.sizing, "border-box");
  assert.notEqual(inside.send, "rgb(255, 0, 0)");
  assert.equal(inside.bubbleBg, "rgb(37, 99, 235)");
  assert.match(await answers(page).first().innerText(), /\S{3,}/);
  assert.deepEqual(await page.evaluate(host), hostBefore, "the widget's cf- classes do not style host elements");
  await shot(page, "embed-hostile");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("under a strict CSP (no inline script or style) the widget loads, is styled and streams", async () => {
  const page = await openWith(EX + "csp.html");
  const violations = [];
  page.on("console", (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  await bubble(page).click();
  await ask(page, "hello under CSP, $\\color{red}{x}$");
  assert.match(await answers(page).first().innerText(), /\S{3,}/);
  // The math module loads and its MathML is styled through the CSSOM, which CSP allows.
  const red = page.locator("confab-chat math mi", { hasText: "x" }).first();
  await red.waitFor();
  await waitMath(page);
  assert.equal(await red.evaluate((el) => getComputedStyle(el).color), "rgb(255, 0, 0)");
  const failed = await page.locator("confab-chat .cf-math-error").evaluateAll((els) => els.map((e) => `${e.dataset.tex}: ${e.title}`));
  assert.deepEqual(failed, []);
  const styled = await page.evaluate(() => {
    const root = document.querySelector("confab-chat").shadowRoot;
    return { panel: getComputedStyle(root.querySelector(".cf-panel")).display,
      accent: getComputedStyle(root.querySelector(".cf-root")).getPropertyValue("--cf-accent").trim() };
  });
  assert.deepEqual(styled, { panel: "flex", accent: "#7c3aed" });
  await shot(page, "embed-csp");
  assert.deepEqual(violations, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("two widgets on one page keep separate conversations", async () => {
  const page = await openWith(EX + "two.html");
  const sales = page.locator("#sales");
  const support = page.locator("#support");
  await sales.getByRole("textbox", { name: "Message" }).waitFor();
  await support.getByRole("textbox", { name: "Message" }).waitFor();
  await ask(sales, "question for sales");
  assert.equal(await answers(sales).count(), 1);
  assert.equal(await answers(support).count(), 0);
  await page.waitForTimeout(500); // the save is asynchronous
  await page.reload();
  await sales.locator('article[data-role="user"]').first().waitFor();
  assert.match(await sales.locator('article[data-role="user"]').first().innerText(), /question for sales/);
  await support.getByRole("textbox", { name: "Message" }).waitFor();
  assert.equal(await support.locator("article").count(), 0, "the other widget stays empty");
  const themes = await page.evaluate(() => [...document.querySelectorAll("confab-chat")].map((e) => e.shadowRoot.querySelector(".cf-root").dataset.theme));
  assert.deepEqual(themes, ["auto", "dark"]);
  const accent = await support.evaluate((el) => getComputedStyle(el.shadowRoot.querySelector(".cf-root")).getPropertyValue("--cf-accent").trim());
  assert.equal(accent, "#0f766e", "--confab-accent set by the host page themes the widget");
  await shot(page, "embed-two");
  await page.context().close();
});

test("on a phone the panel is full screen and only then locks the page's scroll", async () => {
  const page = await openWith(EX + "plain.html", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await bubble(page).tap();
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  // The popup slides in (a short transition): measure once it has settled.
  const box = async () => {
    const b = await page.locator("confab-chat .cf-popup").boundingBox();
    return [b.x, b.y, b.width, b.height].map(Math.round);
  };
  for (let i = 0; i < 30 && (await box())[1] !== 0; i++) await page.waitForTimeout(100);
  assert.deepEqual(await box(), [0, 0, 390, 844]);
  assert.equal(await page.evaluate(() => document.documentElement.style.overflow), "hidden");
  await shot(page, "embed-phone");
  await page.getByRole("button", { name: "Close", exact: true }).tap();
  // (Playwright's screenshot itself may leave an empty style attribute on <html>.)
  assert.equal(await page.evaluate(() => document.documentElement.style.cssText), "", "scroll lock removed");
  await page.context().close();
});

test("the inline element takes its container's size", async () => {
  const page = await openWith(EX + "inline.html");
  const input = page.getByRole("textbox", { name: "Message" });
  await input.waitFor();
  const box = await page.locator("#inline-chat").boundingBox();
  assert.deepEqual([box.width, box.height].map(Math.round), [460, 520]);
  const panel = await page.locator("#inline-chat .cf-panel").boundingBox();
  assert.ok(Math.abs(panel.height - 518) < 2, "panel fills the element inside its 1px border: " + panel.height);
  await ask(page, "hello inline");
  assert.match(await answers(page).first().innerText(), /\S{3,}/);
  await shot(page, "embed-inline");
  await page.context().close();
});

test("the iframe page reads its settings from the query string", async () => {
  const page = await openWith(EX + "iframe.html");
  const frame = page.frameLocator("iframe");
  await ask(frame, "hello iframe");
  assert.match(await answers(frame).first().innerText(), /\S{3,}/);
  assert.equal(await frame.locator(".cf-title").innerText(), "Framed chat");
  assert.equal(await frame.locator(".cf-root").getAttribute("data-theme"), "dark");
  await shot(page, "embed-iframe");
  await page.context().close();
});

test("a page that owns window.Confab keeps it; the element still works; bad values warn once", async () => {
  const page = await openWith(EX + "taken.html");
  assert.deepEqual(await page.evaluate(() => window.Confab), { mine: true });
  await page.evaluate(() => document.querySelector("confab-chat").open());
  await page.getByRole("textbox", { name: "Message" }).waitFor();
  assert.equal(page.warnings.filter((w) => /window\.Confab is taken/.test(w)).length, 1);
  assert.equal(page.warnings.filter((w) => /theme="sideways"/.test(w)).length, 1, page.warnings.join("\n"));
  assert.equal(await page.evaluate(() => document.querySelector("confab-chat").shadowRoot.querySelector(".cf-root").dataset.theme), "auto");
  await page.context().close();
});

test("versioned release files with SRI hashes load (when cargo xtask dist wrote them)", async (t) => {
  const base = process.env.CONFAB_URL ?? "http://127.0.0.1:8787";
  const res = await fetch(base + "/release/index.html");
  if (!res.ok) { t.skip("no release/ in the served folder"); return; }
  const page = await openWith("/release/index.html");
  await bubble(page).click();
  await ask(page, "hello release");
  assert.match(await answers(page).first().innerText(), /\S{3,}/);
  // The answer's formulas bring in the math module, also checked against its hash.
  await page.locator("confab-chat math").first().waitFor();
  await waitMath(page);
  assert.equal(await page.locator("confab-chat .cf-math-error").count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a release file that does not match its SRI hash is refused", async (t) => {
  const base = process.env.CONFAB_URL ?? "http://127.0.0.1:8787";
  if (!(await fetch(base + "/release/index.html")).ok) { t.skip("no release/ in the served folder"); return; }
  const page = await openWith("/release/index.html", {}, async (context) => {
    await context.route("**/release/confab_bg-*.wasm", (route) => route.fulfill({ contentType: "application/wasm", body: Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]) }));
  });
  await bubble(page).click();
  const err = await until(page, () => window.__confabEvents.find((e) => e.type === "confab:error"));
  assert.equal(err.detail.kind, "load");
  // A preload and the click may both try (and fail); the message is what stays.
  await page.locator("confab-chat .cf-loading", { hasText: "could not load" }).waitFor();
  await page.context().close();
});
