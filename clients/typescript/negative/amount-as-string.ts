// Must NOT compile: `amount` of a MoneyTransfer is an integer in the contract, and the generated
// types say so. internal/e2e/typescript_test.go runs tsc on this file and requires the error.
import { createGatewayClient } from "../src/index.js";

const gateway = createGatewayClient({ baseUrl: "http://127.0.0.1:8080" });

export async function transferWithAStringAmount() {
  return gateway.POST("/money-transfers", {
    body: { input: { fromAccount: "alice", toAccount: "bob", amount: "250", referenceId: "inv-9" } },
  });
}
