// The gateway's TypeScript client: openapi-fetch over the types that openapi-typescript generates
// from api/openapi.yaml (src/schema.ts, `npm run generate`). Nothing here restates the contract:
// paths, parameters, bodies and every response, problems included, are typed from the spec.
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** A workflow execution, as every read, start and list answers it. */
export type Execution = components["schemas"]["Execution"];
/** The body of every error answer: an RFC 9457 problem (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];
/** The body of `POST /workflows`. */
export type StartWorkflowRequest = components["schemas"]["StartWorkflowRequest"];
/** One of `RUNNING COMPLETED FAILED CANCELED TERMINATED CONTINUED_AS_NEW TIMED_OUT`. */
export type ExecutionStatus = components["schemas"]["ExecutionStatus"];

/** The client of one gateway: `client.GET("/workflows/{workflowId}", ...)` and so on. */
export type GatewayClient = Client<paths>;

export interface GatewayClientOptions {
  /** The gateway's URL, such as `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** An API key, sent as `X-API-Key`. */
  apiKey?: string;
  /** A JWT, sent as `Authorization: Bearer`. */
  token?: string;
}

/**
 * Creates a client of the gateway at `baseUrl`. Give it `apiKey` or `token`, or neither for a
 * gateway that runs open; the gateway refuses a request that carries both, so this does too.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const { baseUrl, apiKey, token } = options;
  if (apiKey !== undefined && token !== undefined) {
    throw new Error("createGatewayClient: give apiKey or token, not both");
  }
  const client = createClient<paths>({ baseUrl });
  // A middleware rather than default headers: it reaches every request, whatever headers the
  // call itself sets.
  const credentials: Middleware = {
    onRequest({ request }) {
      if (apiKey !== undefined) {
        request.headers.set("X-API-Key", apiKey);
      } else if (token !== undefined) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(credentials);
  return client;
}
