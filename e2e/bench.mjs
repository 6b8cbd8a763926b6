// Browser figures for `cargo xtask bench` (prints, never asserts: the machines are shared).
//  1. Streaming markdown answers in 4-byte deltas (demo `/demo bench N [paced]`): 10 KB at a
//     realistic 200 deltas/s, 10 KB and 50 KB as fast as the socket allows. For each: the
//     main thread's busy share while streaming, the longest task, main-thread time per delta
//     over the first and the last tenth (their ratio), and the time from the last text to
//     the answer settled; printed next to the goals of issue 16. The naive full re-render
//     (`?render=naive`) runs once as a baseline.
//  2. Preparing a 4000x3000 photo for upload: time until its thumbnail shows, output bytes.
//  3. A 1,000-message conversation (LONG_CONVERSATION, an export file) restored by a reload:
//     time from navigation to its latest message shown with the message box enabled.
import { readFile } from "node:fs/promises";
import { launch, openPage, send, waitIdle, assistantMessages } from "./lib.mjs";

const DELTA_BYTES = 4;

async function streamingFigures(browser, { mode, prompt }) {
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
  // One cheap query per sample (no role or accessible-name lookups: on a large transcript
  // those cost the page more than the widget does).
  const probe = () =>
    page.evaluate(() => ({
      len: document.querySelector('article[data-role="assistant"] .cf-markdown')?.textContent.length ?? 0,
      busy: document.querySelector("button.cf-send.cf-stop") !== null,
    }));

  await page.getByRole("textbox", { name: "Message" }).fill(prompt);
  const t0 = { task: await taskSeconds(), wall: Date.now() };
  await page.keyboard.press("Enter");
  const samples = [];
  let lastGrowth = Date.now();
  for (;;) {
    const { len, busy } = await probe();
    const s = { task: await taskSeconds(), len, wall: Date.now() };
    if (samples.length && s.len > samples.at(-1).len) lastGrowth = s.wall;
    samples.push(s);
    if (!busy && len > 0) break;
    await page.waitForTimeout(100); // a sampling interval, not a wait for a state
  }
  const end = samples.at(-1);
  await waitIdle(page);
  const total = end.len;
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
  const wall = end.wall - t0.wall;
  const busy = ((end.task - t0.task) * 1000) / wall;
  await page.context().close();
  return { first, last, ratio: last / first, longest, busy, wall, settle: end.wall - lastGrowth, chars: total };
}

const STREAMS = [
  { name: "10 KB, 200 deltas/s", mode: "incremental", prompt: "/demo bench 10 paced",
    goal: "busy < 10%, no task > 50 ms, settled <= 1 s after the last text" },
  { name: "10 KB, max rate", mode: "incremental", prompt: "/demo bench 10", goal: "longest task <= 50 ms" },
  { name: "50 KB, max rate", mode: "incremental", prompt: "/demo bench 50", goal: "longest task <= 50 ms, last/first <= 1.5" },
  { name: "10 KB, max, naive", mode: "naive", prompt: "/demo bench 10", goal: "(baseline: full re-render per frame)" },
];

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
  console.log("== streaming markdown in 4-byte deltas (issue 16) ==");
  console.log("stream               busy   longest    µs/delta first  last  last/first   settled   wall    goal");
  for (const stream of STREAMS) {
    const r = await streamingFigures(browser, stream);
    const longest = r.longest ? `${r.longest.toFixed(0)} ms` : "< 50 ms";
    console.log(
      `${stream.name.padEnd(19)} ${(r.busy * 100).toFixed(0).padStart(4)}% ${longest.padStart(9)} ${r.first.toFixed(1).padStart(15)} ${r.last.toFixed(1).padStart(5)} ${r.ratio.toFixed(2).padStart(11)} ${(r.settle + " ms").padStart(9)} ${((r.wall / 1000).toFixed(1) + " s").padStart(6)}    ${stream.goal}`,
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
