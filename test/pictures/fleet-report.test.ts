import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { SAMPLE, stepstone } from "../helpers/cli.js";

const INVENTORY = [
  { id: "bmc-01", release: "2.9.2" },
  { id: "bmc-02", release: "2.9.2" },
  { id: "bmc-03", release: "2.13.0" },
  { id: "bmc-04", release: "2.8.0" },
]
  .map((d) => JSON.stringify(d))
  .join("\n");

describe("stepstone report --inventory", () => {
  it("adds a fleet section: classes toward the target, waves, distribution, golden reach", () => {
    const dir = tempDir({ "devices.jsonl": INVENTORY });
    const out = join(dir, "report.html");
    const r = stepstone([
      "report",
      "--graph",
      SAMPLE,
      "--out",
      out,
      "--inventory",
      join(dir, "devices.jsonl"),
      "--to",
      "2.11.0",
    ]);
    expect(r.code).toBe(0);
    const html = readFileSync(out, "utf8");
    const fleet = html.slice(
      html.indexOf('<section id="fleet"'),
      html.indexOf("</section>", html.indexOf('<section id="fleet"')),
    );
    expect(fleet).toContain("Toward 2.11.0");
    expect(fleet).toContain("4 devices in 3 classes");
    expect(fleet).toMatch(
      /<code>2\.9\.2<\/code><\/td><td class="num">2<\/td><td class="why">2\.10\.3 → 2\.11\.0/,
    );
    expect(fleet).toMatch(/<code>2\.13\.0<\/code>.*no plan/);
    expect(fleet).toContain("Where can we take it?");
    // Still self-contained: nothing to load.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/);
  });

  it("defaults the target to the newest golden release; --to needs --inventory", () => {
    const dir = tempDir({ "devices.jsonl": INVENTORY });
    const out = join(dir, "report.html");
    expect(
      stepstone([
        "report",
        "--graph",
        SAMPLE,
        "--out",
        out,
        "--inventory",
        join(dir, "devices.jsonl"),
      ]).code,
    ).toBe(0);
    expect(readFileSync(out, "utf8")).toContain("Toward 2.13.0");
    const r = stepstone(["report", "--graph", SAMPLE, "--out", out, "--to", "2.11.0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to is the target of the fleet section");
  });
});
