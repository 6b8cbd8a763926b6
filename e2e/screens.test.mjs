// The panel in light and dark, English and Chinese: screenshots kept in e2e/artifacts
// for a person to look at, plus the checks that the theme and language really switched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openPage, composer, shot } from "./lib.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const theme of ["light", "dark"]) {
  for (const lang of ["en", "zh"]) {
    test(`panel in ${theme} / ${lang}`, async () => {
      const page = await openPage(browser, `/?theme=${theme}&lang=${lang}`);
      const send = lang === "zh" ? "发送" : "Send";
      const box = page.getByRole("textbox", { name: lang === "zh" ? "消息" : "Message" });
      await box.fill(lang === "zh" ? "你好，请用表格介绍一下" : "Hello, show me a table");
      await page.getByRole("button", { name: send, exact: true }).click();
      await page.getByRole("button", { name: send, exact: true }).waitFor({ timeout: 30_000 });
      assert.equal(await page.locator(".cf-root").getAttribute("data-theme"), theme);
      const bg = await page.locator(".cf-panel").evaluate((el) => getComputedStyle(el).backgroundColor);
      if (theme === "dark") assert.equal(bg, "rgb(22, 24, 29)");
      else assert.equal(bg, "rgb(255, 255, 255)");
      await shot(page, `panel-${theme}-${lang}`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}

test("prefers-color-scheme: dark is honoured by theme=auto", async () => {
  const page = await openPage(browser, "/", { colorScheme: "dark" });
  await composer(page).waitFor();
  const bg = await page.locator(".cf-panel").evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(bg, "rgb(22, 24, 29)");
  await page.context().close();
});
