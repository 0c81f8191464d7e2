package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// newHTTPClient keeps one connection per loop and gateway open, as a client in production would.
// MaxIdleConns is left unbounded: it counts every host together, so with two gateways a bound of
// conns made each returned connection push the other gateway's out, and the bench reconnected on
// nearly every request.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}}
}

// post sends body and reads the whole answer, which must have the status want and, when
// contains is set, hold it.
func post(ctx context.Context, c *http.Client, target, body, prefer string, want int, contains string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want || (contains != "" && !bytes.Contains(got, []byte(contains))) {
		return fmt.Errorf("POST %s: %s: %.300s", target, resp.Status, got)
	}
	return nil
}

// gatewayStart starts a Greeting through the gateways at bases, round robin: each loop sends its
// requests to each gateway in turn, so that the load splits evenly at any concurrency, one
// included. With wait, it also waits for its result. With minimal it sends Prefer: return=minimal, so that the 201
// has no body and the gateway makes one Temporal call, as the SDK's ExecuteWorkflow does.
func gatewayStart(bases []string, c *http.Client, queue, prefix string, wait time.Duration, minimal bool) func(ctx context.Context, loop, i int) error {
	query, contains, prefer := "", "", ""
	if minimal {
		prefer = "return=minimal"
	}
	if wait > 0 {
		query = "?wait=" + wait.String()
		contains = `"status":"COMPLETED"`
	}
	return func(ctx context.Context, loop, i int) error {
		body := fmt.Sprintf(`{"workflowType":"Greeting","workflowId":"%s-%d-%d","taskQueue":%q,"input":{"name":"Bench"}}`, prefix, loop, i, queue)
		return post(ctx, c, bases[(loop+i)%len(bases)]+"/workflows"+query, body, prefer, http.StatusCreated, contains)
	}
}

// nativeStart starts a Greeting through Temporal's own HTTP API (grpc-gateway in the frontend,
// `StartWorkflowExecution` as `POST /api/v1/namespaces/{namespace}/workflows/{workflow_id}`).
// Its JSON payload shorthand takes the input as plain JSON values, one per argument.
func nativeStart(st *stack, c *http.Client, prefix string) func(ctx context.Context, loop, i int) error {
	base := st.nativeHTTP + "/api/v1/namespaces/" + url.PathEscape(namespace) + "/workflows/"
	return func(ctx context.Context, loop, i int) error {
		id := fmt.Sprintf("%s-%d-%d", prefix, loop, i)
		body := fmt.Sprintf(`{"workflowType":{"name":"Greeting"},"taskQueue":{"name":%q},"input":[{"name":"Bench"}],"requestId":%q,"identity":"bench"}`,
			idleQueue, uuid.NewString())
		return post(ctx, c, base+url.PathEscape(id), body, "", http.StatusOK, `"runId"`)
	}
}
