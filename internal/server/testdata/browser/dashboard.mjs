// Drives the cutover dashboard in Debian's chromium through playwright-core:
// the page loads, shows the running lab migration, its chart moves, pause
// is refused without the token and works with it, resume too. Screenshots
// go to $OUT. Run by ../../browser_test.go, which starts the lab and the
// server and passes URL, TOKEN, RUN, OUT, CHROMIUM and PROFILE.
import { chromium } from "playwright-core";

const { URL: base, TOKEN: token, RUN: run, OUT: out, CHROMIUM: executablePath, PROFILE: profile } = process.env;
const step = (msg) => console.log("step: " + msg);

const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
});
const failures = [];
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (e) => failures.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error" && !/401/.test(m.text())) failures.push("console: " + m.text()); });
  const outside = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) outside.push(r.url()); });

  await page.goto(base + "/");
  step("dashboard loaded");
  await page.locator(`#runs tr[data-run="${run}"]`).click();
  await page.locator("#run-name", { hasText: run }).waitFor();
  await page.locator("#run-state", { hasText: "running" }).waitFor();
  step("run shown running");

  // The chart moves: the intended line reaches 10% while we watch.
  const chart = page.locator("#chart");
  await page.waitForFunction(() => document.querySelector("#chart").getAttribute("data-intended") === "10");
  const d1 = await chart.locator("path.intended").getAttribute("d");
  await page.waitForFunction((d) => document.querySelector("#chart path.intended").getAttribute("d") !== d, d1);
  step("chart at 10% and moving");
  await page.locator("#steps li.current").waitFor();
  await page.locator('#gates tr[data-gate="health"] td.pass').waitFor();
  step("gate shown passing");

  // Without the token, pause is refused.
  await page.click("#btn-pause");
  await page.locator("#action-result.error", { hasText: "401" }).waitFor();
  const runNow = await (await fetch(`${base}/api/v1/runs/${run}`)).json();
  if (runNow.events.some((e) => e.type === "operator.requested")) throw new Error("a pause without the token reached the run");
  if (runNow.run.state !== "running") throw new Error("run is " + runNow.run.state + " after a refused pause");
  step("pause refused without the token");

  // With the token, pause and resume work.
  await page.fill("#token", token);
  await page.click("#token-save");
  await page.locator("#token-state", { hasText: "token set" }).waitFor();
  await page.click("#btn-pause");
  await page.locator("#action-result.ok", { hasText: "pause requested" }).waitFor();
  await page.locator("#run-state", { hasText: "paused" }).waitFor();
  await page.screenshot({ path: out + "/dashboard-paused.png", fullPage: true });
  step("paused with the token");
  await page.click("#btn-resume");
  await page.locator("#run-state", { hasText: "running" }).waitFor();
  step("resumed");

  // The run goes on: the chart reaches 50%.
  await page.waitForFunction(() => document.querySelector("#chart").getAttribute("data-intended") === "50", null, { timeout: 60000 });
  await page.locator("#countdown", { hasText: /\d+s/ }).waitFor();
  await page.screenshot({ path: out + "/dashboard.png", fullPage: true });
  step("chart at 50%");
  if (outside.length) failures.push("requests outside the server: " + outside.join(", "));
} catch (e) {
  failures.push(String(e.stack || e));
  try { await context.pages()[0].screenshot({ path: out + "/dashboard-failure.png", fullPage: true }); } catch (_) { /* none */ }
} finally {
  await context.close();
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log("dashboard: ok");
