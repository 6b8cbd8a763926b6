// Every embed attribute the README lists, proved by its effect: an exact value in the
// request the server received, or the exact text or colour a visitor sees. (data-system-prompt
// has its own tests in settings.test.mjs; data-storage-key and data-preload in embed.test.mjs.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ask, launch } from "./lib.mjs";

const BASE = (process.env.CONFAB_URL ?? "http://127.0.0.1:8787").replace(/\/$/, "");
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PNG_1PX = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

/** A page made up here (served under BASE's origin) holding one widget with `attrs`. */
async function widgetPage(attrs, { bubble = false, label = "Message" } = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  const list = Object.entries({ "data-lang": "en", "data-storage-key": "attrs-" + Math.random().toString(36).slice(2), ...attrs })
    .map(([k, v]) => `${k}="${v.replace(/&/g, "&amp;").replace(/"/g, "&quot;")}"`).join(" ");
  const body = bubble
    ? `<script async src="../embed.js" data-endpoint="/v1/chat/completions" ${list}></script>`
    : `<confab-chat data-endpoint="/v1/chat/completions" ${list}></confab-chat><script async src="../embed.js"></script>`;
  await context.route("**/public/examples/attrs-test.html", (route) => route.fulfill({
    contentType: "text/html", body: `<!doctype html><title>attrs</title>${body}`,
  }));
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.requests = [];
  page.on("request", (r) => page.requests.push(r.url()));
  await page.goto(BASE + "/public/examples/attrs-test.html");
  if (bubble) await page.locator("confab-chat .cf-bubble").click();
  await page.getByRole("textbox", { name: label }).waitFor();
  return page;
}

/** The body the demo model received last (same origin, so allowed). */
async function lastRequest(page) {
  return page.evaluate(() => fetch("/v1/demo/last-request").then((r) => r.json()));
}

const assistant = (page) => page.locator('article[data-role="assistant"]').last();

test("data-model is the model of every request", async () => {
  const page = await widgetPage({ "data-model": "gpt-4o-mini" });
  await ask(page, "which model?");
  assert.equal((await lastRequest(page)).model, "gpt-4o-mini");
  await page.context().close();
});

test("data-title and data-welcome are what the visitor reads", async () => {
  const page = await widgetPage({ "data-title": "Help desk", "data-welcome": "Ask about orders and returns." });
  assert.equal(await page.locator(".cf-title").innerText(), "Help desk");
  assert.equal(await page.locator(".cf-welcome").innerText(), "Ask about orders and returns.");
  await page.context().close();
});

test("data-position=bottom-left puts the bubble in the left corner; data-accent colours it", async () => {
  const page = await widgetPage({ "data-position": "bottom-left", "data-accent": "#0f766e" }, { bubble: true });
  // Away from the bubble, which grows a little under the pointer.
  await page.mouse.move(500, 300);
  await page.waitForTimeout(300);
  const box = await page.locator("confab-chat .cf-bubble").boundingBox();
  assert.equal(Math.round(box.x), 20, "20px from the left edge (the default offset)");
  const bg = await page.locator("confab-chat .cf-bubble").evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, "rgb(15, 118, 110)");
  await page.context().close();
});

test("data-max-images limits the images of one message, with the reason shown", async () => {
  const page = await widgetPage({ "data-max-images": "1" });
  await page.locator("input.cf-file-input").setInputFiles([
    { name: "a.png", mimeType: "image/png", buffer: PNG_1PX },
    { name: "b.png", mimeType: "image/png", buffer: PNG_1PX },
  ]);
  await page.locator(".cf-attach-error").waitFor();
  assert.equal(await page.locator(".cf-attach-error").innerText(), "At most 1 images per message; the others were not added.");
  assert.equal(await page.locator(".cf-thumb").count(), 1);
  await page.context().close();
});

test("data-image-hosts lets images from those hosts load; others wait for a click", async () => {
  const img = `![logo](${BASE}/public/icon.svg?from-answer)`;
  const fetched = (page) => page.requests.filter((u) => u.includes("icon.svg?from-answer")).length;

  const strict = await widgetPage({});
  await ask(strict, img);
  assert.equal(await assistant(strict).locator(".cf-image-placeholder").first().innerText(), "🖼 Load image from 127.0.0.1");
  assert.equal(fetched(strict), 0, "no request before the click");
  await strict.context().close();

  const allowed = await widgetPage({ "data-image-hosts": "127.0.0.1" });
  await ask(allowed, img);
  await assistant(allowed).locator("img").first().waitFor();
  assert.equal(await assistant(allowed).locator(".cf-image-placeholder").count(), 0);
  assert.ok(fetched(allowed) >= 1, "the allowed host's image was requested");
  await allowed.context().close();
});

test("data-lang=zh speaks Chinese; data-theme=dark is dark", async () => {
  const page = await widgetPage({ "data-lang": "zh", "data-theme": "dark" }, { label: "消息" });
  assert.equal(await page.locator(".cf-welcome").innerText(), "你好！有什么可以帮你？");
  assert.equal(await page.locator(".cf-panel").evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(22, 24, 29)");
  await page.context().close();
});
