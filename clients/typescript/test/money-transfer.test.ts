// A MoneyTransfer through its typed resource: the input, the result and the failure are typed
// from the contract, so nothing here declares or casts the workflow's shapes. Run against the
// live stack by internal/e2e/typescript_test.go, as greeting.test.ts is.
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

test("starts a MoneyTransfer, waits for it and reads its receipt", async () => {
  const referenceId = `ts-transfer-${randomUUID()}`;
  const started = await gateway.POST("/money-transfers", {
    params: { query: { wait: "30s" } },
    body: { workflowId: referenceId, input: { fromAccount: "alice", toAccount: "bob", amount: 1, referenceId } },
  });
  assert.equal(started.response.status, 201, JSON.stringify(started.error));
  assert.ok(started.data);
  assert.match(started.response.headers.get("Location") ?? "", new RegExp(`^/money-transfers/${referenceId}\\?runId=`));
  assert.equal(started.data.status, "COMPLETED");
  // result is a MoneyTransferResult: its fields are read without a cast.
  const receipt = started.data.result;
  assert.ok(receipt);
  const ids: string[] = [receipt.referenceId, receipt.withdrawalId, receipt.depositId];
  assert.equal(ids[0], referenceId);
  assert.ok(receipt.withdrawalId && receipt.depositId);

  const read = await gateway.GET("/money-transfers/{workflowId}", { params: { path: { workflowId: referenceId } } });
  assert.equal(read.response.status, 200, JSON.stringify(read.error));
  assert.equal(read.data?.result?.depositId, receipt.depositId);
});

test("reads a refused MoneyTransfer's typed failure", async () => {
  const referenceId = `ts-refused-${randomUUID()}`;
  const { data, error } = await gateway.POST("/money-transfers", {
    params: { query: { wait: "30s" } },
    body: { workflowId: referenceId, input: { fromAccount: "charlie", toAccount: "bob", amount: 1, referenceId } },
  });
  assert.ok(data, JSON.stringify(error));
  assert.equal(data.status, "FAILED");
  // failure.type is the union of the error types the contract lists for MoneyTransfer.
  switch (data.failure?.type) {
    case "InsufficientFundsError":
      break;
    default:
      assert.fail(`failure type ${data.failure?.type}, want InsufficientFundsError`);
  }
});
