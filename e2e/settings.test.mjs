// Settings prove their effect on the request the widget sends, and errors say what to fix:
// data-system-prompt (and setConfig({systemPrompt})) arrive as the first message, checked
// with the demo model's `/demo echo`, which answers with the exact body it received; a
// request that cannot work (422, 400 model_required) shows the cause and no Retry, one
// that may work next time (503) keeps Retry.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { BASE, launch, openPage, waitIdle, assistantMessages, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** The request body a `/demo echo` answer shows: a JSON code block of exactly what arrived. */
function echoedBody(answerText) {
  const m = /^(`{3,})json\n([\s\S]*)\n\1\n?$/.exec(answerText);
  assert.ok(m, "an echo answer: " + answerText.slice(0, 200));
  return JSON.parse(m[2]);
}

const PROMPT = `You answer questions about Acme's shop only. Say "hi" first.`;

/** A host page made up here, on the server's origin, with the loader and `attrs`. */
async function openHost(name, attrs) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  await context.addInitScript(() => {
    window.__confabEvents = [];
    for (const type of ["confab:message", "confab:error"]) {
      document.addEventListener(type, (ev) => window.__confabEvents.push({ type, detail: ev.detail ?? null }));
    }
  });
  const escape = (s) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  const attributes = Object.entries(attrs).map(([k, v]) => ` ${k}="${escape(v)}"`).join("");
  await context.route(`**/public/examples/${name}`, (route) => route.fulfill({
    contentType: "text/html",
    body: `<!doctype html><html lang="en"><meta charset="utf-8"><title>${name}</title><p>host</p>`
      + `<script async src="../embed.js"${attributes}></script></html>`,
  }));
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  await page.goto(new URL(`/public/examples/${name}`, BASE).href);
  return page;
}

/** Sends `text` through `Confab.send` and returns the settled answer's event detail. */
async function apiAsk(page, text) {
  const before = await page.evaluate(() => window.__confabEvents.length);
  assert.equal(await page.evaluate((t) => Confab.send(t), text), true);
  // The made-up host page has no CSP, so waitForFunction may evaluate there.
  const ev = await (await page.waitForFunction((n) => window.__confabEvents[n], before, { timeout: 30_000 })).jsonValue();
  assert.equal(ev.type, "confab:message", JSON.stringify(ev.detail));
  return ev.detail;
}

test("data-system-prompt is the first message of every request, and setConfig({systemPrompt}) replaces it for the next one", async () => {
  const page = await openHost("system-prompt-test.html", {
    "data-endpoint": "/v1/chat/completions",
    "data-lang": "en",
    "data-storage-key": "system-prompt-test",
    "data-system-prompt": PROMPT,
  });
  const first = echoedBody((await apiAsk(page, "/demo echo")).text);
  assert.deepEqual(first.messages, [
    { role: "system", content: PROMPT },
    { role: "user", content: "/demo echo" },
  ]);

  // The second request of the same conversation starts with it too.
  const second = echoedBody((await apiAsk(page, "/demo echo")).text);
  assert.deepEqual(second.messages[0], { role: "system", content: PROMPT });
  assert.equal(second.messages.length, 4);
  assert.equal(second.messages.filter((m) => m.role === "system").length, 1);

  await page.evaluate(() => Confab.setConfig({ systemPrompt: "Answer in French.\nBe brief." }));
  const third = echoedBody((await apiAsk(page, "/demo echo")).text);
  assert.deepEqual(third.messages[0], { role: "system", content: "Answer in French.\nBe brief." });
  assert.equal(third.messages.filter((m) => m.role === "system").length, 1, "the old prompt is gone");
  assert.deepEqual(third.messages.at(-1), { role: "user", content: "/demo echo" });

  await page.evaluate(() => Confab.setConfig({ systemPrompt: "" }));
  const fourth = echoedBody((await apiAsk(page, "/demo echo")).text);
  assert.equal(fourth.messages.filter((m) => m.role === "system").length, 0, "an empty prompt sends none");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("without data-system-prompt no system message is sent", async () => {
  const page = await openHost("no-system-prompt-test.html", {
    "data-endpoint": "/v1/chat/completions",
    "data-lang": "en",
    "data-storage-key": "no-system-prompt-test",
  });
  const body = echoedBody((await apiAsk(page, "/demo echo")).text);
  assert.deepEqual(body.messages, [{ role: "user", content: "/demo echo" }]);
  await page.context().close();
});

const MODEL_REQUIRED = JSON.stringify({
  error: {
    message: "No model was chosen: set data-model on the widget, or start confab-server with --model.",
    type: "invalid_request_error", param: "model", code: "model_required",
  },
});

/** The playground with every chat request answered by `status` and `body`. */
async function playgroundAnswering(status, body, url = "/") {
  const page = await openPage(browser, url);
  await page.route("**/v1/chat/completions", (route) => route.fulfill({ status, contentType: "application/json", body }));
  return page;
}

/** Sends `text` with the composer named `message` / button `sendName` and waits for the error. */
async function failedAnswer(page, text, { message = "Message", sendName = "Send" } = {}) {
  await page.getByRole("textbox", { name: message }).fill(text);
  await page.getByRole("button", { name: sendName, exact: true }).click();
  await page.waitForFunction(() => document.querySelector('article[data-role="assistant"]')?.dataset.state === "failed", null, { timeout: 20_000 });
  return assistantMessages(page).first();
}

test("a 422 shows the server's message and no Retry", async () => {
  const page = await playgroundAnswering(422, JSON.stringify({
    error: { message: "you must provide a model parameter", type: "invalid_request_error", param: null, code: null },
  }));
  const answer = await failedAnswer(page, "hello");
  assert.equal(await answer.locator(".cf-error-text").innerText(),
    "The server rejected the request (HTTP 422): you must provide a model parameter.");
  assert.equal(await answer.getByRole("button", { name: "Retry" }).count(), 0);
  await shot(page, "error-422-no-retry");
  await page.context().close();
});

test("a 400 model_required says to set data-model or start the server with --model, with no Retry", async () => {
  const page = await playgroundAnswering(400, MODEL_REQUIRED);
  const answer = await failedAnswer(page, "hello");
  assert.equal(await answer.locator(".cf-error-text").innerText(),
    "No model was chosen: set data-model on the widget, or start confab-server with --model.");
  assert.equal(await answer.getByRole("button", { name: "Retry" }).count(), 0);
  await page.context().close();
});

test("model_required in Chinese (?lang=zh)", async () => {
  const page = await playgroundAnswering(400, MODEL_REQUIRED, "/?lang=zh");
  const answer = await failedAnswer(page, "你好", { message: "消息", sendName: "发送" });
  assert.equal(await answer.locator(".cf-error-text").innerText(),
    "未选择模型：请在组件上设置 data-model，或用 --model 启动 confab-server。");
  assert.equal(await answer.getByRole("button", { name: "重试" }).count(), 0);
  assert.equal(await answer.locator(".cf-retry").count(), 0);
  await shot(page, "error-model-required-zh");
  await page.context().close();
});

test("a 503 keeps Retry, and Retry sends again", async () => {
  const page = await playgroundAnswering(503, JSON.stringify({
    error: { message: "The upstream is overloaded.", type: "server_error" },
  }));
  const answer = await failedAnswer(page, "hello");
  assert.equal(await answer.locator(".cf-error-text").innerText(),
    "The server had a problem answering (HTTP 503): The upstream is overloaded.");
  const retry = answer.getByRole("button", { name: "Retry" });
  assert.equal(await retry.count(), 1);
  assert.equal(await retry.isEnabled(), true);
  await page.unroute("**/v1/chat/completions");
  await retry.click();
  await waitIdle(page);
  assert.equal(await assistantMessages(page).first().getAttribute("data-state"), "done");
  await page.context().close();
});
