package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/client"
	"github.com/temporalhttp/gateway/internal/auth/authtest"
)

// mintKey runs `server apikey name scopes`, as an operator would, and returns the key and its entry.
func mintKey(t *testing.T, name, scopes string) (key, entry string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "server"), "apikey", name, scopes).Output()
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^key:   (\S+)\nentry: (\S+)$`).FindSubmatch(out)
	require.Len(t, m, 3, "output: %s", out)
	return string(m[1]), string(m[2])
}

func apiKey(key string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key)
		return nil
	}
}

func bearerToken(token string) client.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// TestAuthenticatedGateway runs a second gateway that accepts two API keys minted by its own
// binary and JWTs from an identity provider whose public key it is given in a file.
func TestAuthenticatedGateway(t *testing.T) {
	readKey, readEntry := mintKey(t, "reader", "read")
	startKey, startEntry := mintKey(t, "starter", "start")
	const audience = "e2e-gateway"
	idp := authtest.NewIssuer(t, "RS256", "")
	keyFile := filepath.Join(t.TempDir(), "idp.pem")
	require.NoError(t, os.WriteFile(keyFile, idp.PublicPEM(t), 0o600))

	gw, base, err := startGateway([]string{
		"TEMPORAL_ADDRESS=" + temporalAddr, "TEMPORAL_TASK_QUEUE=" + taskQueue, "GATEWAY_HTTP_ADDR=127.0.0.1:0",
		"GATEWAY_API_KEYS=" + readEntry + "," + startEntry,
		"GATEWAY_JWT_KEY_FILE=" + keyFile, "GATEWAY_JWT_AUDIENCE=" + audience,
	})
	require.NoError(t, err)
	t.Cleanup(gw.stop)
	require.NoError(t, waitReady(base), "/readyz needs no credentials")
	c := apiAt(t, base)
	ctx := t.Context()
	id := uniqueID(t)
	greeting := client.StartWorkflowRequest{WorkflowType: "Greeting", WorkflowId: &id, Input: rawJSON(`{"name":"Ada"}`)}

	t.Run("no credentials: 401", func(t *testing.T) {
		r, err := c.StartWorkflowWithResponse(ctx, nil, greeting)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.ApplicationproblemJSON401, "body: %s", r.Body)
		assert.Equal(t, "urn:temporal-http:problem:unauthorized", r.ApplicationproblemJSON401.Type)
		assert.Equal(t, "application/problem+json", r.HTTPResponse.Header.Get("Content-Type"))
		assert.Equal(t, []string{`Bearer realm="temporal-http-gateway"`, `ApiKey realm="temporal-http-gateway", header="X-API-Key"`},
			r.HTTPResponse.Header.Values("WWW-Authenticate"))

		list, err := c.ListWorkflowsWithResponse(ctx, nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, list.StatusCode())
		health, err := c.GetHealthWithResponse(ctx)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, health.StatusCode(), "/healthz needs no credentials")
	})

	t.Run("read key cannot start: 403", func(t *testing.T) {
		r, err := c.StartWorkflowWithResponse(ctx, nil, greeting, apiKey(readKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusForbidden, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.ApplicationproblemJSON403)
		assert.Equal(t, "urn:temporal-http:problem:forbidden", r.ApplicationproblemJSON403.Type)
		assert.Contains(t, *r.ApplicationproblemJSON403.Detail, `"start"`)
	})

	var runID string
	t.Run("start key starts a Greeting: 201", func(t *testing.T) {
		r, err := c.StartWorkflowWithResponse(ctx, nil, greeting, apiKey(startKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON201)
		runID = r.JSON201.RunId

		read, err := c.GetWorkflowWithResponse(ctx, id, nil, apiKey(startKey))
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, read.StatusCode(), "a start key does not read")
	})

	t.Run("JWT with read reads it", func(t *testing.T) {
		token := idp.Token(t, authtest.Claims(audience, "dashboard", "read"))
		r, err := c.GetWorkflowWithResponse(ctx, id, &client.GetWorkflowParams{Wait: ptr("20s")}, bearerToken(token))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "body: %s", r.Body)
		require.NotNil(t, r.JSON200)
		assert.Equal(t, runID, r.JSON200.RunId)
		assert.Equal(t, client.ExecutionStatusCOMPLETED, r.JSON200.Status)
		require.NotNil(t, r.JSON200.Result)
		assert.JSONEq(t, `{"greeting":"Hello, Ada!"}`, string(*r.JSON200.Result))

		stop, err := c.TerminateWorkflowWithResponse(ctx, id, client.TerminateWorkflowJSONRequestBody{}, bearerToken(token))
		require.NoError(t, err)
		assert.Equal(t, http.StatusForbidden, stop.StatusCode(), "read does not terminate")

		expired := authtest.Claims(audience, "dashboard", "read")
		expired["exp"] = time.Now().Add(-time.Hour).Unix()
		r, err = c.GetWorkflowWithResponse(ctx, id, nil, bearerToken(idp.Token(t, expired)))
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode(), "an expired token")
		other := idp.Token(t, authtest.Claims("another-service", "dashboard", "read"))
		r, err = c.GetWorkflowWithResponse(ctx, id, nil, bearerToken(other))
		require.NoError(t, err)
		assert.Equal(t, http.StatusUnauthorized, r.StatusCode(), "a token for another audience")
	})

	t.Run("a user's token and a client's token of the same name keep their Idempotency-Keys apart", func(t *testing.T) {
		user := authtest.Claims(audience, "nightly-"+id, "start")
		service := authtest.Claims(audience, "", "start")
		delete(service, "sub")
		service["client_id"] = "nightly-" + id
		key := "K-" + id
		req := client.StartWorkflowRequest{WorkflowType: "Echo", Input: rawJSON(`{"run":"nightly"}`)}
		var ids []string
		for _, claims := range []map[string]any{user, service, user} {
			r := keyed(t, c, key, req, "", bearerToken(idp.Token(t, claims)))
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, r.StatusCode(), "body: %s", r.Body)
			e := r.JSON201
			if e == nil {
				e = r.JSON200
			}
			require.NotNil(t, e, "body: %s", r.Body)
			ids = append(ids, e.WorkflowId)
		}
		assert.NotEqual(t, ids[0], ids[1], "the client did not replay the user's start")
		assert.Equal(t, ids[0], ids[2], "the user's retry replays its own start")

		noOne := authtest.Claims(audience, "", "start")
		delete(noOne, "sub")
		r := keyed(t, c, key, req, "", bearerToken(idp.Token(t, noOne)))
		require.Equal(t, http.StatusUnauthorized, r.StatusCode(), "a token that names no one; body: %s", r.Body)
	})

	t.Run("admin JWT terminates another run", func(t *testing.T) {
		sleepID := uniqueID(t)
		r, err := c.StartWorkflowWithResponse(ctx, nil, client.StartWorkflowRequest{
			WorkflowType: "Sleep", WorkflowId: &sleepID, Input: rawJSON(`{"seconds":600}`),
		}, apiKey(startKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "body: %s", r.Body)

		admin := idp.Token(t, authtest.Claims(audience, "oncall", "admin"))
		stop, err := c.TerminateWorkflowWithResponse(ctx, sleepID, client.TerminateWorkflowJSONRequestBody{Reason: ptr("e2e: admin stops it")},
			bearerToken(admin))
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, stop.StatusCode(), "body: %s", stop.Body)

		read, err := c.GetWorkflowWithResponse(ctx, sleepID, nil, apiKey(readKey))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, read.StatusCode(), "body: %s", read.Body)
		assert.Equal(t, client.ExecutionStatusTERMINATED, read.JSON200.Status)
		require.NotNil(t, read.JSON200.Failure)
		assert.Equal(t, "e2e: admin stops it", read.JSON200.Failure.Message)
	})
}

// TestGatewayRefusesToRunOpenBeyondLoopback starts the binary on every interface with no
// credentials: it must exit, saying how to fix it, rather than serve anyone who can reach it.
func TestGatewayRefusesToRunOpenBeyondLoopback(t *testing.T) {
	// A gateway that does start is stopped after a while: the test then fails on its exit status.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "server"))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Env = append(os.Environ(), "GATEWAY_HTTP_ADDR=0.0.0.0:0", "TEMPORAL_ADDRESS="+temporalAddr,
		"GATEWAY_API_KEYS=", "GATEWAY_API_KEYS_FILE=", "GATEWAY_JWT_KEY_FILE=", "GATEWAY_JWT_JWKS_FILE=", "GATEWAY_ALLOW_UNAUTHENTICATED=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "the gateway kept running; output: %s", out)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "output: %s", out)
	assert.NotEqual(t, 0, exit.ExitCode())
	assert.Contains(t, string(out), "GATEWAY_HTTP_ADDR")
	assert.Contains(t, string(out), "GATEWAY_ALLOW_UNAUTHENTICATED=true")
}
