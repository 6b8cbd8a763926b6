// Endpoints are bound, not taken from links: in the playground a `?endpoint=` link starts a
// new conversation bound to that endpoint (shown in the bar), and a stored conversation is
// only ever sent to the endpoint it was made with until the user sends it elsewhere.
// A second server on another loopback port records every request it receives.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import {
  launch, openPage, send, waitIdle, composer, assistantMessages, userMessages, shot, BASE,
} from "./lib.mjs";

const SECRET = "my account number is SECRET-7731";
const WIDE = { viewport: { width: 1400, height: 900 } };
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "content-type",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};
const SSE =
  'data: {"choices":[{"delta":{"content":"ok"},"index":0}]}\n\n' +
  'data: {"choices":[{"delta":{},"index":0,"finish_reason":"stop"}]}\n\n' +
  "data: [DONE]\n\n";

let browser;
let server;
/** Every request the other server received: { method, url, body }. */
let received = [];
let otherEndpoint;

before(async () => {
  browser = await launch();
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString("utf8") });
      if (req.method === "OPTIONS") {
        res.writeHead(204, CORS);
        return res.end();
      }
      if (req.method === "GET") {
        res.writeHead(200, { ...CORS, "content-type": "application/json" });
        return res.end('{"data":[]}');
      }
      res.writeHead(200, { ...CORS, "content-type": "text/event-stream", "cache-control": "no-store" });
      res.end(SSE);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  otherEndpoint = `http://127.0.0.1:${server.address().port}/v1/chat/completions`;
});
after(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

const chatPosts = () => received.filter((r) => r.method === "POST");
const ownEndpoint = () => new URL("/v1/chat/completions", BASE).href;
const linkUrl = () => new URL(`/?endpoint=${encodeURIComponent(otherEndpoint)}`, BASE).href;
const sidebarItem = (page, text) => page.locator(".cf-pg-conv", { hasText: text });

/** Lets any request a click might have started reach the recording server. */
const settle = (page) => page.evaluate(() => new Promise((r) => setTimeout(r, 400)));

/** The playground at `/` with one answered message containing the secret. */
async function chatWithSecret() {
  received = [];
  const page = await openPage(browser, "/", WIDE);
  await send(page, SECRET);
  await waitIdle(page);
  await assistantMessages(page).first().locator(".cf-markdown").waitFor();
  assert.equal(await assistantMessages(page).first().getAttribute("data-state"), "done");
  assert.equal(
    await page.getByTestId("bar-endpoint").innerText(),
    `Endpoint: ${ownEndpoint()}`,
  );
  return page;
}

test("a ?endpoint= link starts a new conversation bound to it and the old one is not sent there", async () => {
  const page = await chatWithSecret();

  await page.goto(linkUrl());
  assert.equal(await page.getByTestId("bar-endpoint").innerText(), `Endpoint: ${otherEndpoint}`);
  // Storage has been read once the stored conversation is listed: it was not restored.
  await sidebarItem(page, "my account number").waitFor();
  assert.equal(await userMessages(page).count(), 0);
  assert.equal(await page.getByTestId("endpoint-moved").count(), 0);

  await send(page, "hi");
  await waitIdle(page);
  assert.equal(await assistantMessages(page).last().locator(".cf-markdown").innerText(), "ok");
  assert.equal(chatPosts().length, 1);
  assert.equal(chatPosts()[0].url, "/v1/chat/completions");
  assert.deepEqual(JSON.parse(chatPosts()[0].body).messages, [{ role: "user", content: "hi" }]);
  for (const r of received) assert.ok(!r.body.includes("SECRET-7731"), `${r.method} ${r.url} carried the secret`);

  // The old conversation, opened from the sidebar: a notice, and Send sends nothing.
  await sidebarItem(page, "my account number").locator(".cf-pg-conv-open").click();
  await userMessages(page).filter({ hasText: SECRET }).waitFor();
  const notice = page.getByTestId("endpoint-moved");
  await notice.waitFor();
  assert.equal(
    await notice.locator(".cf-pg-moved-text").innerText(),
    `This conversation was made with ${ownEndpoint()}. The endpoint is now ${otherEndpoint}.`,
  );
  await shot(page, "endpoint-moved");
  await send(page, "and again");
  await settle(page);
  assert.equal(chatPosts().length, 1, "nothing was sent");
  assert.equal(await userMessages(page).count(), 1, "the message was not added");
  assert.equal(await composer(page).inputValue(), "and again", "the text stays in the box");

  // Sending it there is the user's explicit choice.
  await notice.getByRole("button", { name: `Send it to ${otherEndpoint}`, exact: true }).click();
  await notice.waitFor({ state: "detached" });
  await page.getByRole("button", { name: "Send", exact: true }).click();
  await waitIdle(page);
  assert.equal(chatPosts().length, 2);
  const messages = JSON.parse(chatPosts()[1].body).messages;
  assert.equal(messages[0].content, SECRET);
  assert.deepEqual(messages.at(-1), { role: "user", content: "and again" });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("without the link the page comes back to its own conversation, and nothing went to the link's endpoint", async () => {
  const page = await chatWithSecret();
  await page.goto(linkUrl());
  await sidebarItem(page, "my account number").waitFor();
  assert.equal(await userMessages(page).count(), 0);

  await page.goto(new URL("/", BASE).href);
  await userMessages(page).filter({ hasText: SECRET }).waitFor();
  assert.equal(await page.getByTestId("bar-endpoint").innerText(), `Endpoint: ${ownEndpoint()}`);
  assert.equal(await page.getByTestId("endpoint-moved").count(), 0);
  assert.equal(chatPosts().length, 0);
  for (const r of received) assert.ok(!r.body.includes("SECRET-7731"));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("choosing another server in the form sends the conversation shown there, with no notice", async () => {
  const page = await chatWithSecret();
  const base = otherEndpoint.replace(/\/chat\/completions$/, "");
  const field = (name) => page.locator(`.cf-pg-side [name="${name}"]`);
  await field("preset").selectOption("custom");
  await field("base_url").fill(base);
  await field("base_url").press("Tab");
  assert.equal(await page.getByTestId("bar-endpoint").innerText(), `Endpoint: ${otherEndpoint}`);
  assert.equal(await page.getByTestId("endpoint-moved").count(), 0);
  await send(page, "follow-up");
  await waitIdle(page);
  assert.equal(chatPosts().length, 1);
  assert.equal(JSON.parse(chatPosts()[0].body).messages[0].content, SECRET);
  // Only the model list of the custom preset's default (localhost:8000, not running).
  assert.deepEqual(page.errors.filter((e) => !e.includes("ERR_CONNECTION_REFUSED")), []);
  await page.context().close();
});
