// Drives `salesflow console` in Debian's chromium, headless, as a person
// would: look at the rejects, filter by reason, open a record missing its
// contact e-mail, fix it in the editor until the server's verdict turns
// valid, replay it; then a fix that is still invalid, which the page will not
// replay and the server refuses. A screenshot of each screen goes to OUT_DIR.
// Prints one JSON line of what it saw; exits non-zero on the first failure.
//   node console.mjs URL OUT_DIR PLAN_JSON
// PLAN_JSON: {"fix_id", "fixed_record", "invalid_id", "invalid_record", "reason", "expected_rows"}
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

const [url, outDir, planJson] = process.argv.slice(2);
const plan = JSON.parse(planJson);
mkdirSync(outDir, { recursive: true });
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
const seen = {};

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"],
  defaultViewport: { width: 1400, height: 1000 },
});
const shot = async (page, name) => page.screenshot({ path: join(outDir, `${name}.png`), fullPage: true });
try {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => { if (message.type() === "error") problems.push(`console: ${message.text()}`); });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));

  await page.goto(url, { waitUntil: "networkidle0" });
  await page.waitForSelector("#count");
  seen.count = Number(await page.$eval("#count", (e) => e.textContent));
  seen.reasons_charted = await page.$$eval("#by-reason .bar", (bars) => bars.map((b) => b.dataset.label));
  await shot(page, "1-overview");

  await page.select("#filter-reason", plan.reason);
  seen.rows_for_reason = await page.$$eval("#envelopes tbody tr", (rows) => rows.length);
  await shot(page, "2-filtered");

  await page.click(`#envelopes tbody tr[data-id="${plan.fix_id}"]`);
  await page.waitForSelector("#detail:not([hidden])");
  seen.marked = await page.$$eval("#detail-raw .marked", (marks) => marks.map((m) => m.dataset.path));
  seen.marked_title = await page.$$eval("#detail-raw .marked", (marks) => marks.map((m) => m.title).join("\n"));
  await page.waitForSelector("#verdict.invalid");
  seen.verdict_before = await page.$eval("#verdict", (e) => e.textContent);
  seen.replay_disabled_before = await page.$eval("#replay", (b) => b.disabled);
  await shot(page, "3-envelope");

  // Type the correction as a person would (the page revalidates as they type).
  await page.$eval("#editor", (e) => { e.value = ""; });
  await page.type("#editor", plan.fixed_record, { delay: 0 });
  await page.waitForSelector("#verdict.valid", { timeout: 10000 });
  seen.verdict_after = await page.$eval("#verdict", (e) => e.textContent);
  seen.item_preview = await page.$eval("#item", (e) => e.textContent);
  await shot(page, "4-valid");

  await page.click("#replay");
  await page.waitForSelector("#outcome.good", { timeout: 30000 });
  seen.outcome = await page.$eval("#outcome", (e) => e.textContent);
  seen.count_after = Number(await page.$eval("#count", (e) => e.textContent));
  await shot(page, "5-replayed");

  await page.select("#filter-reason", "");
  await page.click(`#envelopes tbody tr[data-id="${plan.invalid_id}"]`);
  await page.waitForSelector("#detail:not([hidden])");
  await page.$eval("#editor", (e, text) => { e.value = text; e.dispatchEvent(new Event("input")); }, plan.invalid_record);
  await page.waitForFunction(() => document.querySelector("#verdict")?.textContent.includes("whitespace"), { timeout: 10000 });
  seen.invalid_verdict = await page.$eval("#verdict", (e) => e.textContent);
  seen.invalid_replay_disabled = await page.$eval("#replay", (b) => b.disabled);
  // The server holds the same line as the page: a replay of it is refused.
  seen.invalid_replay = await page.evaluate(async (id, raw) => {
    const session = await (await fetch("/api/session")).json();
    const answer = await fetch("/api/replay", {
      method: "POST", headers: { "Content-Type": "application/json", "X-Salesflow-Token": session.token },
      body: JSON.stringify({ id, raw }),
    });
    return (await answer.json()).status;
  }, plan.invalid_id, plan.invalid_record);
  await shot(page, "6-still-invalid");

  seen.problems = [...problems];
  // A state-changing request without the page's token is refused (the
  // browser logs that 403 as an error: expected, so after the check above).
  seen.without_token = await page.evaluate(async (id) => (await fetch("/api/discard", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id, reason: "x" }),
  })).status, plan.invalid_id);
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
