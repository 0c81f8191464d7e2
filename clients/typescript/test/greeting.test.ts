// Drives the gateway at GATEWAY_URL (with GATEWAY_API_KEY, when set) through the generated
// client: internal/e2e/typescript_test.go runs it against the live stack.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";

import { createGatewayClient, type Execution, type Problem } from "../src/index.js";

const baseUrl = process.env.GATEWAY_URL;
if (!baseUrl) {
  throw new Error("GATEWAY_URL is not set: GATEWAY_URL=http://127.0.0.1:8080 npm test");
}
const apiKey = process.env.GATEWAY_API_KEY || undefined;
const gateway = createGatewayClient(apiKey ? { baseUrl, apiKey } : { baseUrl });

// The generic POST /workflows answers a result of any type (`unknown` here): the caller declares
// the shape it expects of the workflow it started and checks it before trusting it. The typed
// resources (money-transfer.test.ts) need none of this.
interface GreetingResult {
  greeting: string;
}

function isGreetingResult(value: unknown): value is GreetingResult {
  return typeof value === "object" && value !== null && typeof (value as { greeting?: unknown }).greeting === "string";
}

test("starts a Greeting, waits for it and reads its typed result", async () => {
  const workflowId = `ts-greeting-${randomUUID()}`;
  const started = await gateway.POST("/workflows", {
    body: { workflowType: "Greeting", workflowId, input: { name: "TypeScript" } },
  });
  assert.equal(started.response.status, 201, JSON.stringify(started.error));
  assert.ok(started.data);
  assert.equal(started.data.workflowId, workflowId);
  assert.match(started.response.headers.get("Location") ?? "", new RegExp(`^/workflows/${workflowId}\\?runId=`));

  const read = await gateway.GET("/workflows/{workflowId}", {
    params: { path: { workflowId }, query: { runId: started.data.runId, wait: "30s" } },
  });
  assert.equal(read.response.status, 200, JSON.stringify(read.error));
  const execution: Execution | undefined = read.data;
  assert.ok(execution);
  assert.equal(execution.status, "COMPLETED");
  assert.ok(execution.closeTime, "a closed execution has its close time");
  const result = execution.result;
  assert.ok(isGreetingResult(result), `not a GreetingResult: ${JSON.stringify(result)}`);
  assert.equal(result.greeting, "Hello, TypeScript!");
});

test("signals an execution with {} as the body of a body-less action", async () => {
  const workflowId = `ts-signal-${randomUUID()}`;
  const started = await gateway.POST("/workflows", {
    body: { workflowType: "Approval", workflowId, input: { requestId: workflowId, amount: 1, approver: "grace" } },
  });
  assert.equal(started.response.status, 201, JSON.stringify(started.error));

  // Every POST must be application/json (415 otherwise): with `body: {}` the client sends "{}"
  // with that type. The types demand the body, so a call without one does not compile.
  const signalled = await gateway.POST("/workflows/{workflowId}/signals/{signalName}", {
    params: { path: { workflowId, signalName: "decision" } },
    body: {},
  });
  assert.equal(signalled.response.status, 202, JSON.stringify(signalled.error));
  const read = await gateway.GET("/workflows/{workflowId}", { params: { path: { workflowId }, query: { wait: "30s" } } });
  assert.equal(read.data?.status, "COMPLETED", "the decision closed the Approval");
});

// Never called: it only has to fail to compile without its body, as @ts-expect-error checks.
export function cancelWithoutBody(workflowId: string) {
  // @ts-expect-error the contract requires a body on every POST
  return gateway.POST("/workflows/{workflowId}/cancel", { params: { path: { workflowId } } });
}

test("answers an unknown execution with a typed problem", async () => {
  const workflowId = `ts-missing-${randomUUID()}`;
  const { data, error, response } = await gateway.GET("/workflows/{workflowId}", {
    params: { path: { workflowId } },
  });
  assert.equal(data, undefined);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get("Content-Type"), "application/problem+json");
  // Assigning to Problem is the type check: the 404 answer is typed from the spec.
  const problem: Problem | undefined = error;
  assert.ok(problem);
  assert.equal(problem.status, 404);
  assert.equal(problem.type, "urn:temporal-http:problem:workflow-not-found");
  assert.ok(problem.title);
  assert.equal(problem.requestId, response.headers.get("X-Request-Id"));
});

test("sends the API key with every request", { skip: apiKey ? false : "GATEWAY_API_KEY is not set" }, async () => {
  const anonymous = createGatewayClient({ baseUrl });
  const refused = await anonymous.GET("/workflow-types");
  assert.equal(refused.response.status, 401);
  const problem: Problem | undefined = refused.error;
  assert.equal(problem?.type, "urn:temporal-http:problem:unauthorized");

  const { data, response } = await gateway.GET("/workflow-types");
  assert.equal(response.status, 200);
  assert.ok(data?.workflowTypes.some((t) => t.name === "Greeting"));
});
