import { InputError } from "@stepstone/errors";
import { describe, expect, it } from "vitest";
import { failedComponent, parseDeviceStatus, statusFailures } from "../src/index.js";

// `runner status --json`, as plan --device and fleet read it.
const STATUS = {
  release: "2.10.0",
  platform: null,
  components: [
    { name: "users", epoch: 2, interrupted: null, failed: true },
    { name: "network", epoch: 1, failed: true },
    { name: "cache", epoch: 3 },
  ],
  failures: [
    { id: "users-2-3", component: "users", phase: "boot", from: 2, to: 3, status: 1 },
    { id: "@cache", component: null, reason: "no chain 3->4" },
  ],
};

describe("parseDeviceStatus", () => {
  it("returns the status as written", () => {
    expect(parseDeviceStatus(STATUS, "s.json")).toEqual(STATUS);
  });

  it("says which field is wrong, naming the input", () => {
    const bad = { ...STATUS, components: [{ name: "users", epoch: -1 }] };
    expect(() => parseDeviceStatus(bad, "s.json")).toThrow(InputError);
    expect(() => parseDeviceStatus(bad, "s.json")).toThrow(
      's.json: components[0].epoch: expected an integer >= 0 or null (expected the output of "runner status --json")',
    );
  });
});

describe("statusFailures", () => {
  it("lists the records, then the components marked failed that no record names", () => {
    const s = parseDeviceStatus(STATUS, "s.json");
    expect(statusFailures(s)).toEqual([
      {
        id: "users-2-3",
        component: "users",
        phase: "boot",
        from: 2,
        to: 3,
        status: 1,
        reason: null,
      },
      {
        id: "@cache",
        component: "cache",
        phase: null,
        from: null,
        to: null,
        status: null,
        reason: "no chain 3->4",
      },
      {
        id: "@network",
        component: "network",
        phase: null,
        from: null,
        to: null,
        status: null,
        reason: "marked failed, without a failure record",
      },
    ]);
  });

  it("reads a record's component from its field, or from an @<component> id", () => {
    expect(failedComponent({ id: "x-1-2", component: "x" })).toBe("x");
    expect(failedComponent({ id: "@y", component: null })).toBe("y");
    expect(failedComponent({ id: "z-1-2", component: null })).toBeNull();
  });
});
