// Errors show where they happened, keep what arrived, and Retry succeeds.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, send, waitIdle, assistantMessages, userMessages, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

async function retryUntilDone(page) {
  const answer = assistantMessages(page).first();
  const retry = answer.getByRole("button", { name: "Retry" });
  await retry.waitFor();
  await page.waitForFunction(() => {
    const b = document.querySelector('article[data-role="assistant"] .cf-retry');
    return b && !b.disabled;
  }, null, { timeout: 10_000 });
  // "/demo X once" misbehaves only the first time the server sees that conversation.
  await retry.click();
  await waitIdle(page);
}

for (const [scenario, pattern] of [
  ["/demo error once", /error|went wrong/i],
  ["/demo cut once", /cut off|truncated|lost|connection/i],
  ["/demo 429 once", /rate|too many|429/i],
]) {
  test(`${scenario} shows an inline error, keeps the question, and Retry works`, async () => {
    const page = await openPage(browser);
    await send(page, scenario);
    await waitIdle(page);
    const answer = assistantMessages(page).first();
    assert.equal(await answer.getAttribute("data-state"), "failed");
    const alert = answer.getByRole("alert");
    assert.match(await alert.innerText(), pattern);
    assert.equal(await userMessages(page).count(), 1);
    await shot(page, `error-${scenario.split(" ")[1]}`);
    await retryUntilDone(page);
    assert.equal(await userMessages(page).count(), 1, "the question was not duplicated");
    const state = await assistantMessages(page).first().getAttribute("data-state");
    assert.equal(state, "done", `retry of ${scenario} succeeded`);
    await page.context().close();
  });
}
