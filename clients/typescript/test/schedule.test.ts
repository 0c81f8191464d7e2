// A schedule through the generated client: its spec, action and info are typed from the
// contract, and its ETag is what an update sends in If-Match. Run against the live stack by
// internal/e2e/typescript_test.go, as greeting.test.ts is.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { createGatewayClient } from "../src/index.js";

const baseUrl = process.env.GATEWAY_URL;
if (!baseUrl) {
  throw new Error("GATEWAY_URL is not set: GATEWAY_URL=http://127.0.0.1:8080 npm test");
}
const apiKey = process.env.GATEWAY_API_KEY || undefined;
const gateway = createGatewayClient(apiKey ? { baseUrl, apiKey } : { baseUrl });

test("creates a paused schedule, reads it, updates it with its ETag and deletes it", async () => {
  const scheduleId = `ts-schedule-${randomUUID()}`;
  const created = await gateway.POST("/schedules", {
    body: {
      scheduleId,
      spec: { calendars: [{ hour: "9", dayOfWeek: "MON-FRI", comment: "weekday mornings" }], timeZone: "Europe/Berlin" },
      action: { workflowType: "Greeting", workflowId: `${scheduleId}-run`, input: { name: "TypeScript" } },
      state: { paused: true, note: "created paused" },
    },
  });
  try {
    assert.equal(created.response.status, 201, JSON.stringify(created.error));
    assert.equal(created.response.headers.get("Location"), `/schedules/${scheduleId}`);

    const read = await gateway.GET("/schedules/{scheduleId}", { params: { path: { scheduleId } } });
    assert.equal(read.response.status, 200, JSON.stringify(read.error));
    assert.ok(read.data);
    assert.equal(read.data.state.paused, true);
    assert.equal(read.data.spec.timeZone, "Europe/Berlin");
    // Temporal keeps a calendar with every field spelled out; the days of the week as numbers.
    const calendar = read.data.spec.calendars?.[0];
    assert.equal(calendar?.hour, "9");
    assert.equal(calendar?.dayOfWeek, "1-5");
    assert.equal(calendar?.comment, "weekday mornings");
    assert.ok(read.data.info);
    assert.equal(read.data.info.actionCount, 0);
    const etag = read.response.headers.get("ETag");
    assert.ok(etag);

    const updated = await gateway.PUT("/schedules/{scheduleId}", {
      params: { path: { scheduleId }, header: { "If-Match": etag } },
      body: {
        spec: { intervals: [{ every: "1h" }] },
        action: { workflowType: "Greeting", workflowId: `${scheduleId}-run`, input: { name: "Grace" } },
      },
    });
    assert.equal(updated.response.status, 200, JSON.stringify(updated.error));
    assert.deepEqual(updated.data?.spec.intervals, [{ every: "1h0m0s" }]);
    assert.equal(updated.data?.state.paused, true, "an update without state keeps the schedule paused");

    const stale = await gateway.PUT("/schedules/{scheduleId}", {
      params: { path: { scheduleId }, header: { "If-Match": etag } },
      body: { spec: {}, action: { workflowType: "Greeting", workflowId: `${scheduleId}-run`, input: { name: "Grace" } } },
    });
    assert.equal(stale.response.status, 412);
    assert.equal(stale.error?.type, "urn:temporal-http:problem:schedule-changed");
  } finally {
    const deleted = await gateway.DELETE("/schedules/{scheduleId}", { params: { path: { scheduleId } } });
    assert.equal(deleted.response.status, 204);
  }
});
