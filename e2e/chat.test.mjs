import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, assistantMessages, userMessages, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("a message gets a streamed answer that arrives in several steps", async () => {
  const page = await openPage(browser);
  await send(page, "Hello from the e2e test");
  await assert.doesNotReject(userMessages(page).first().waitFor());
  assert.match(await userMessages(page).first().innerText(), /Hello from the e2e test/);

  // Sample the answer's length while it streams: it must grow in more than one step.
  const answer = assistantMessages(page).first();
  await answer.waitFor();
  const lengths = new Set();
  for (let i = 0; i < 200; i++) {
    lengths.add((await answer.innerText()).length);
    if ((await answer.getAttribute("data-state")) !== "streaming") break;
    await page.waitForTimeout(10);
  }
  await waitIdle(page);
  assert.equal(await answer.getAttribute("data-state"), "done");
  assert.ok(lengths.size >= 3, `answer grew in ${lengths.size} steps`);
  assert.match(await answer.innerText(), /Hello from the e2e test/, "the demo model quotes the message");
  await shot(page, "chat-light-en");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
