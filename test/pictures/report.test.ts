import { execFile } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { useTempDirs } from "@stepstone/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// playwright-core drives Debian's chromium; it is a devDependency of @stepstone/pictures,
// whose page these tests open. It never downloads a browser of its own.
import { type Browser, launchChromium, type Page } from "../../packages/pictures/test/browser.js";
import { BIN, REPO, stepstone } from "../helpers/cli.js";

/** The page as the README shows it (docs/report.png is a copy of this one). */
const SCREENSHOT = join(REPO, "test-results/report.png");

const reportDir = useTempDirs("report", { removeAfter: "all" });
let dir: string;
let browser: Browser;
/** The report of the sample graph, and the same for the qemuarm platform. */
let report: string;
let qemuarm: string;
/** Every URL the pages asked for that is not the page itself (file:) or inline (data:). */
const outside: string[] = [];
const errors: string[] = [];

function writeReport(name: string, args: string[] = []): string {
  const file = join(dir, name);
  const r = stepstone(["report", "--out", file, ...args]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^wrote .*report.*\.html \(\d+ KiB\): 13 releases, 4 golden, 3 gaps;/);
  return file;
}

async function open(file: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    if (!/^(file|data):/.test(r.url())) outside.push(r.url());
  });
  await page.route("**/*", (route) =>
    /^(file|data):/.test(route.request().url()) ? route.continue() : route.abort(),
  );
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector("html[data-planner=ready] #plan-result .plan");
  return page;
}

/** `stepstone plan ... --format json`, parsed (exit 0 with a plan, 1 without). */
function cliPlan(from: string, to: string, extra: string[] = []): unknown {
  const r = stepstone(["plan", "--from", from, "--to", to, "--format", "json", ...extra]);
  expect([0, 1]).toContain(r.code);
  return JSON.parse(r.stdout);
}

/** Many of those at once (each is a process of its own). */
function cliPlans(requests: [string, string, string[]][]): Promise<unknown[]> {
  return Promise.all(
    requests.map(
      ([from, to, extra]) =>
        new Promise<unknown>((done, fail) => {
          execFile(
            process.execPath,
            [BIN, "plan", "--from", from, "--to", to, "--format", "json", ...extra],
            { cwd: REPO },
            (e, stdout) => {
              if (e && e.code !== 1) fail(e);
              else done(JSON.parse(stdout));
            },
          );
        }),
    ),
  );
}

interface Shown {
  json: unknown;
  rows: { from: string; to: string; scripts: string[]; wipe: string }[];
  /** The "why:" lines under each stop's row, by the stop's version. */
  why: Record<string, string[]>;
  status: string;
}

/** What the page shows for the pair it is planning: its JSON, and its table of hops. */
async function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const plan = document.querySelector("#plan-result .plan") as HTMLElement;
    return {
      json: JSON.parse(plan.querySelector(".plan-json")?.textContent ?? "null"),
      status: plan.dataset.status ?? "",
      why: Object.fromEntries(
        [...plan.querySelectorAll<HTMLTableRowElement>("table.steps tbody tr.why")].map((tr) => [
          tr.dataset.stop ?? "",
          [...tr.querySelectorAll("li")].map((li) => li.textContent ?? ""),
        ]),
      ),
      rows: [...plan.querySelectorAll<HTMLTableRowElement>("table.steps tbody tr:not(.why)")].map(
        (tr) => ({
          from: tr.dataset.from ?? "",
          to: tr.dataset.to ?? "",
          scripts: [...tr.querySelectorAll(".script-id")].map((c) => c.textContent ?? ""),
          wipe: tr.cells[5]?.textContent ?? "",
        }),
      ),
    };
  });
}

type PlanJson = {
  reachable: boolean;
  steps?: {
    from: string;
    to: string;
    preFlash: { id: string }[];
    boot: { id: string }[];
    wipe: string[];
    why: { code: string; message: string }[];
  }[];
};

/** The page's table says what the CLI's JSON says: each hop, its scripts in order, its wipes. */
function expectRows(s: Shown, cli: PlanJson): void {
  expect(s.rows).toEqual(
    (cli.steps ?? []).map((st) => ({
      from: st.from,
      to: st.to,
      scripts: [...st.preFlash, ...st.boot].map((m) => m.id),
      wipe: st.wipe.length === 0 ? "—" : st.wipe.join(", "),
    })),
  );
  // Under each intermediate stop, its reasons as the CLI gives them.
  expect(s.why).toEqual(
    Object.fromEntries(
      (cli.steps ?? [])
        .filter((st) => st.why.length > 0)
        .map((st) => [st.to, st.why.map((w) => `why: ${w.message} ${w.code}`)]),
    ),
  );
}

async function choose(page: Page, from: string, to: string, wipe: string[] = []): Promise<void> {
  for (const box of await page.locator('input[name="wipe"]').all()) {
    await box.setChecked(wipe.includes((await box.getAttribute("value")) ?? ""));
  }
  await page.selectOption("#from", from);
  await page.selectOption("#to", to);
}

beforeAll(async () => {
  browser = await launchChromium();
  dir = reportDir();
  report = writeReport("report.html");
  qemuarm = writeReport("qemuarm.html", ["--platform", "qemuarm"]);
});

afterAll(async () => {
  await browser?.close();
});

describe("stepstone report, in Chromium", () => {
  it("renders the graph, the golden matrix, the gaps and the planner", async () => {
    const page = await open(report);
    expect(await page.locator(".svg-wrap svg g.node").count()).toBe(13);
    expect(await page.locator(".svg-wrap svg g.cluster").count()).toBe(6);
    // The stops the key rotation and 2.11.0's upgradeFrom force, marked and in the legend.
    expect(
      await page.locator('.svg-wrap svg g.node[id="release:2.9.1"] text').allTextContents(),
    ).toEqual(["2.9.1", "stop: key rotation to vendor-2025"]);
    expect(await page.locator("#graph .legend .key").allTextContents()).toContain(
      "stop forced by a key rotation or an upgradeFrom",
    );
    expect(await page.locator("table.matrix td.cell").count()).toBe(12);
    expect(await page.locator("table.matrix td.cell.wipe").allTextContents()).toEqual([
      "2+1w",
      "2+1w",
      "1+1w",
    ]);
    expect(await page.locator("table.gaps tbody tr").count()).toBe(3);
    expect(await page.locator(".suggestion code").first().textContent()).toBe(
      "2.13.1-transition.1",
    );
    // Opened on the lowest golden release to the highest.
    const s = await shown(page);
    expect(s.json).toEqual(cliPlan("2.8.0", "2.13.0"));
    // Each intermediate stop says why it is needed, under its row; the target says nothing.
    expect(Object.keys(s.why)).toEqual(["2.9.1", "2.10.3"]);
    expect(s.why["2.9.1"]?.[0]).toMatch(/^why: 2\.8\.0 does not trust key "vendor-2025"/);
    expectRows(s, cliPlan("2.8.0", "2.13.0") as PlanJson);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("plans every pair it is given as `stepstone plan` does", async () => {
    const page = await open(report);
    const golden = ["2.8.0", "2.9.2", "2.11.0", "2.13.0"];
    const pairs: [string, string, string[]][] = [
      ...golden.flatMap((a) =>
        golden.filter((b) => b !== a).map((b) => [a, b, []] as [string, string, string[]]),
      ),
      ["2.9.0", "2.10.3", []],
      ["2.10.2", "2.11.1", []], // from the withdrawn release
      ["2.9.1", "2.10.2", []], // to it: refused
      ["2.12.0", "2.10.1-transition.1", []],
      ["2.13.0", "2.9.2", ["ownership"]],
      ["2.13.0", "2.8.0", ["users", "ownership"]],
      ["2.11.1", "2.11.1", []],
    ];
    const expected = await cliPlans(
      pairs.map(([from, to, wipe]) => [
        from,
        to,
        wipe.length > 0 ? ["--allow-wipe", wipe.join(",")] : [],
      ]),
    );
    for (const [k, [from, to, wipe]] of pairs.entries()) {
      await choose(page, from, to, wipe);
      const cli = expected[k];
      const s = await shown(page);
      expect(s.json, `${from} -> ${to}`).toEqual(cli);
      expectRows(s, cli as PlanJson);
      expect(s.status).toBe(
        !(cli as PlanJson).reachable
          ? "blocked"
          : (cli as { wipes: number }).wipes > 0
            ? "wipes"
            : "ok",
      );
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("plans a matrix cell with wipes allowed, as the matrix does, and marks it in the picture", async () => {
    const page = await open(report);
    await page.click('table.matrix td[data-from="2.13.0"][data-to="2.8.0"]');
    const s = await shown(page);
    expect(s.json).toEqual(cliPlan("2.13.0", "2.8.0", ["--allow-wipe", "all"]));
    expect(s.status).toBe("wipes");
    const marked = await page.locator(".svg-wrap svg g.node.on-path title").allTextContents();
    expect(marked.sort()).toEqual(["2.10.1-transition.1", "2.13.0", "2.8.0"]);
    // Neither hop is one the picture draws: both are drawn over it.
    expect(await page.locator(".svg-wrap svg path.plan-overlay").count()).toBe(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("plans with the platform the report was written for", async () => {
    const page = await open(qemuarm);
    const pairs: [string, string, string[]][] = [
      ["2.9.1", "2.9.2", ["--platform", "qemuarm"]],
      ["2.9.2", "2.11.0", ["--platform", "qemuarm"]],
      ["2.11.0", "2.9.2", ["--platform", "qemuarm"]],
    ];
    const expected = await cliPlans(pairs);
    for (const [k, [from, to]] of pairs.entries()) {
      await choose(page, from, to);
      const cli = expected[k];
      const s = await shown(page);
      expect(s.json, `${from} -> ${to} on qemuarm`).toEqual(cli);
      expectRows(s, cli as PlanJson);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it("loads nothing from the network, and could not if it tried", async () => {
    const page = await open(report);
    await choose(page, "2.11.0", "2.9.2");
    // The page's own policy (default-src 'none') stops a load before it is even attempted.
    const blocked = await page.evaluate(() =>
      fetch("https://example.com/x.js").then(
        () => "loaded",
        () => "refused",
      ),
    );
    expect(blocked).toBe("refused");
    expect(outside).toEqual([]);
    const html = readFileSync(report, "utf8");
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base)\b|\ssrc=|\shref=/i);
    errors.length = 0; // the refused fetch logs a CSP violation, as it should
    await page.close();
  });

  it("keeps a screenshot as a test artifact", async () => {
    const page = await open(report);
    await choose(page, "2.11.0", "2.9.2");
    mkdirSync(join(REPO, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe("PNG");
    await page.close();
  });
});
