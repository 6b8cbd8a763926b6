// Browser figures for `cargo xtask bench` (prints, never asserts: the machines are shared).
//  1. A 50 KB answer streamed in 4-byte deltas: main-thread time per delta over the first
//     and the last tenth of the answer, and the longest task, for the incremental renderer
//     and for a naive full re-render (`?render=naive`), in one run.
//  2. Preparing a 4000x3000 photo for upload: time until its thumbnail shows, output bytes.
//  3. A 1,000-message conversation (LONG_CONVERSATION, an export file) restored by a reload:
//     time from navigation to its latest message shown with the message box enabled.
import { readFile } from "node:fs/promises";
import { launch, openPage, send, waitIdle, assistantMessages } from "./lib.mjs";

const DELTA_BYTES = 4;

async function streamingFigures(browser, mode) {
  const page = await openPage(browser, `/?render=${mode}`);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  // Long tasks from the send on (not the page load's wasm compile).
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: "longtask" });
  });
  const taskSeconds = async () =>
    (await cdp.send("Performance.getMetrics")).metrics.find((m) => m.name === "TaskDuration").value;
  const textLength = () =>
    page.evaluate(() => document.querySelector('article[data-role="assistant"] .cf-markdown')?.textContent.length ?? 0);

  await send(page, "/demo long tiny");
  const samples = [];
  for (;;) {
    const done = (await page.getByRole("button", { name: "Send", exact: true }).count()) > 0;
    samples.push({ task: await taskSeconds(), len: await textLength() });
    if (done) break;
    await page.waitForTimeout(100);
  }
  await waitIdle(page);
  const total = samples.at(-1).len;
  // Main-thread seconds between the samples nearest to two fractions of the answer.
  const at = (fraction) => samples.reduce((best, s) =>
    Math.abs(s.len - fraction * total) < Math.abs(best.len - fraction * total) ? s : best);
  const perDelta = (a, b) => {
    const [s, e] = [at(a), at(b)];
    const deltas = Math.max(1, (e.len - s.len) / DELTA_BYTES);
    return ((e.task - s.task) * 1e6) / deltas; // microseconds
  };
  const first = perDelta(0, 0.1);
  const last = perDelta(0.9, 1);
  const longest = await page.evaluate(() => window.__longest);
  const chars = (await assistantMessages(page).first().innerText()).length;
  await page.context().close();
  return { mode, first, last, ratio: last / first, longest, chars };
}

async function imageFigures(browser) {
  const page = await openPage(browser);
  const photo = await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(4000, 3000);
    const ctx = canvas.getContext("2d");
    for (let i = 0; i < 60; i++) {
      ctx.fillStyle = `hsl(${i * 6} 70% 50%)`;
      ctx.fillRect((i * 67) % 4000, (i * 151) % 3000, 900, 700);
    }
    const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  });
  const buffer = Buffer.from(photo, "base64");
  const start = Date.now();
  await page.locator("input.cf-file-input").setInputFiles({ name: "photo.jpg", mimeType: "image/jpeg", buffer });
  const thumb = page.locator(".cf-thumb");
  await thumb.waitFor({ timeout: 60_000 });
  const ms = Date.now() - start;
  const out = Number(await thumb.getAttribute("data-bytes"));
  const alt = await thumb.locator("img").getAttribute("alt");
  await page.context().close();
  return { ms, inBytes: buffer.length, out, alt };
}

async function restoreFigures(browser, file) {
  const page = await openPage(browser);
  await page.locator('input[name="import"]').setInputFiles({
    name: "long.json", mimeType: "application/json", buffer: await readFile(file),
  });
  await page.getByText("Imported: 1.").waitFor();
  // The imported conversation is the one shown; its latest messages are drawn.
  const latest = page.locator("article[data-role]").last().filter({ hasText: "Step 499 works" });
  await latest.waitFor({ timeout: 120_000 });
  await page.waitForTimeout(1000); // the active conversation is saved
  const runs = [];
  for (let i = 0; i < 3; i++) {
    await page.reload();
    await latest.waitFor({ timeout: 120_000 });
    await page.getByRole("textbox", { name: "Message" }).waitFor();
    runs.push(await page.evaluate(() => performance.now()));
  }
  const drawn = await page.locator("article[data-role]").count();
  await page.context().close();
  return { runs, drawn };
}

const browser = await launch();
try {
  console.log("== streaming a 50 KB answer in 4-byte deltas (main-thread µs per delta) ==");
  console.log("mode          first 10%   last 10%   last/first   longest task   chars");
  for (const mode of ["incremental", "naive"]) {
    const r = await streamingFigures(browser, mode);
    console.log(
      `${mode.padEnd(12)} ${r.first.toFixed(1).padStart(9)} ${r.last.toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(12)} ${(r.longest ? r.longest.toFixed(0) + " ms" : "< 50 ms").padStart(14)} ${String(r.chars).padStart(7)}`,
    );
  }
  console.log("\n== preparing a 4000x3000 JPEG for upload ==");
  const img = await imageFigures(browser);
  console.log(`input ${(img.inBytes / 1024).toFixed(0)} KB -> output ${(img.out / 1024).toFixed(0)} KB (${img.alt}); ready in ${img.ms} ms (includes Playwright's file hand-over)`);
  if (process.env.LONG_CONVERSATION) {
    console.log("\n== restoring a 1,000-message conversation after a reload ==");
    const r = await restoreFigures(browser, process.env.LONG_CONVERSATION);
    console.log(`navigation to the latest message shown and the message box ready: ${r.runs.map((ms) => ms.toFixed(0) + " ms").join(", ")} (3 reloads; includes loading the wasm; ${r.drawn} of 1,000 messages drawn, the rest on request)`);
  }
} finally {
  await browser.close();
}
