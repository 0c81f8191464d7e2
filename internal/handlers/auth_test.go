package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/internal/auth"
	"github.com/temporalhttp/gateway/internal/auth/authtest"
	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/handlers"
)

const jwtAudience = "temporal-http-gateway"

// credentials are an authenticator with one API key per scope and a JWT issuer it trusts.
type credentials struct {
	auth   *auth.Authenticator
	keys   map[string]string // scopes ("read+start") -> key
	issuer *authtest.Issuer
}

func newCredentials(t *testing.T) credentials {
	t.Helper()
	c := credentials{keys: map[string]string{}, issuer: authtest.NewIssuer(t, "ES256", "")}
	var entries []auth.APIKey
	for _, scopes := range []string{"read", "start", "schedule", "admin", "read+start"} {
		parsed, err := auth.ParseScopes(scopes)
		require.NoError(t, err)
		key, entry, err := auth.NewAPIKey(strings.ReplaceAll(scopes, "+", "-"), parsed)
		require.NoError(t, err)
		c.keys[scopes] = key
		entries = append(entries, entry)
	}
	pem, err := auth.ParsePEMKeys(c.issuer.PublicPEM(t))
	require.NoError(t, err)
	c.auth = auth.New(entries, &auth.JWTConfig{Keys: pem, Audience: jwtAudience})
	return c
}

func withAuth(a *auth.Authenticator) func(*handlers.Options) {
	return func(o *handlers.Options) { o.Auth = a }
}

func withKey(req *http.Request, key string) *http.Request {
	req.Header.Set("X-API-Key", key)
	return req
}

func withBearer(req *http.Request, token string) *http.Request {
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// secured is one request to every operation that needs credentials, with the scope the issue
// asks for and the status the operation answers when it is allowed.
var secured = []struct {
	operation    string
	method, path string
	body         string
	scope        auth.Scope
	okStatus     int
}{
	{"listWorkflows", http.MethodGet, "/workflows", "", auth.ScopeRead, http.StatusOK},
	{"getWorkflow", http.MethodGet, "/workflows/approval-1", "", auth.ScopeRead, http.StatusOK},
	{"getWorkflowHistory", http.MethodGet, "/workflows/approval-1/history", "", auth.ScopeRead, http.StatusOK},
	{"watchWorkflow", http.MethodGet, "/workflows/approval-1/events", "", auth.ScopeRead, http.StatusOK},
	{"queryWorkflow", http.MethodPost, "/workflows/approval-1/queries/status", "{}", auth.ScopeRead, http.StatusOK},
	{"listWorkflowTypes", http.MethodGet, "/workflow-types", "", auth.ScopeRead, http.StatusOK},
	{"startWorkflow", http.MethodPost, "/workflows", `{"workflowType":"Greeting"}`, auth.ScopeStart, http.StatusCreated},
	{"signalWorkflow", http.MethodPost, "/workflows/approval-1/signals/decision", `{"input":true}`, auth.ScopeStart, http.StatusAccepted},
	{"updateWorkflow", http.MethodPost, "/workflows/approval-1/updates/approve", "{}", auth.ScopeStart, http.StatusOK},
	{"cancelWorkflow", http.MethodPost, "/workflows/approval-1/cancel", "{}", auth.ScopeAdmin, http.StatusAccepted},
	{"terminateWorkflow", http.MethodPost, "/workflows/approval-1/terminate", "{}", auth.ScopeAdmin, http.StatusAccepted},
	// The typed operations ask what their generic twins ask.
	{"startGreeting", http.MethodPost, "/greetings", `{"input":{"name":"Ada"}}`, auth.ScopeStart, http.StatusCreated},
	{"getGreeting", http.MethodGet, "/greetings/approval-1", "", auth.ScopeRead, http.StatusNotFound},
	{"startEcho", http.MethodPost, "/echoes", `{"input":[1]}`, auth.ScopeStart, http.StatusCreated},
	{"getEcho", http.MethodGet, "/echoes/approval-1", "", auth.ScopeRead, http.StatusNotFound},
	{"startSleep", http.MethodPost, "/sleeps", `{}`, auth.ScopeStart, http.StatusCreated},
	{"getSleep", http.MethodGet, "/sleeps/approval-1", "", auth.ScopeRead, http.StatusNotFound},
	{"startMoneyTransfer", http.MethodPost, "/money-transfers",
		`{"input":{"fromAccount":"a","toAccount":"b","amount":1,"referenceId":"r"}}`, auth.ScopeStart, http.StatusCreated},
	{"getMoneyTransfer", http.MethodGet, "/money-transfers/approval-1", "", auth.ScopeRead, http.StatusNotFound},
	{"startCronCounter", http.MethodPost, "/cron-counters", `{}`, auth.ScopeStart, http.StatusCreated},
	{"getCronCounter", http.MethodGet, "/cron-counters/approval-1", "", auth.ScopeRead, http.StatusNotFound},
	{"startApproval", http.MethodPost, "/approvals", `{"input":{"requestId":"r"}}`, auth.ScopeStart, http.StatusCreated},
	{"getApproval", http.MethodGet, "/approvals/approval-1", "", auth.ScopeRead, http.StatusOK},
	{"decideApproval", http.MethodPost, "/approvals/approval-1/decision", `{"input":{"approved":true}}`, auth.ScopeStart, http.StatusAccepted},
	{"getApprovalStatus", http.MethodGet, "/approvals/approval-1/status", "", auth.ScopeRead, http.StatusOK},
	{"approveApproval", http.MethodPost, "/approvals/approval-1/approve", "{}", auth.ScopeStart, http.StatusOK},
	// Reading schedules is a read; everything else a schedule does needs scope schedule.
	{"listSchedules", http.MethodGet, "/schedules", "", auth.ScopeRead, http.StatusOK},
	{"getSchedule", http.MethodGet, "/schedules/nightly", "", auth.ScopeRead, http.StatusOK},
	{"createSchedule", http.MethodPost, "/schedules",
		`{"scheduleId":"hourly","spec":{"intervals":[{"every":"1h"}]},"action":{"workflowType":"Greeting","workflowId":"g","input":{"name":"Ada"}}}`,
		auth.ScopeSchedule, http.StatusCreated},
	// Without If-Match the handler answers 428: the request got past the scope check to it.
	{"updateSchedule", http.MethodPut, "/schedules/nightly",
		`{"spec":{},"action":{"workflowType":"Greeting","workflowId":"g","input":{"name":"Ada"}}}`, auth.ScopeSchedule, http.StatusPreconditionRequired},
	{"pauseSchedule", http.MethodPost, "/schedules/nightly/pause", "{}", auth.ScopeSchedule, http.StatusNoContent},
	{"unpauseSchedule", http.MethodPost, "/schedules/nightly/unpause", "{}", auth.ScopeSchedule, http.StatusNoContent},
	{"triggerSchedule", http.MethodPost, "/schedules/nightly/trigger", "{}", auth.ScopeSchedule, http.StatusAccepted},
	{"backfillSchedule", http.MethodPost, "/schedules/nightly/backfill",
		`{"startAt":"2026-01-01T00:00:00Z","endAt":"2026-01-02T00:00:00Z"}`, auth.ScopeSchedule, http.StatusAccepted},
	// Last: a test that serves every operation on one fake deletes the schedule the others use.
	{"deleteSchedule", http.MethodDelete, "/schedules/nightly", "", auth.ScopeSchedule, http.StatusNoContent},
}

var public = []struct{ operation, path string }{
	{"getHealth", "/healthz"}, {"getReadiness", "/readyz"}, {"getMetrics", "/metrics"}, {"getOpenAPISpec", "/openapi.yaml"},
	{"getDocs", "/docs"}, {"getDocsAsset", "/docs/docs.js"},
}

// The spec is where access is declared; this is the policy it must declare.
func TestSpecDeclaresSecurityForEveryOperation(t *testing.T) {
	spec, err := gen.GetSwagger()
	require.NoError(t, err)

	require.Contains(t, spec.Components.SecuritySchemes, "apiKey")
	apiKey := spec.Components.SecuritySchemes["apiKey"].Value
	assert.Equal(t, []string{"apiKey", "header", "X-API-Key"}, []string{apiKey.Type, apiKey.In, apiKey.Name})
	require.Contains(t, spec.Components.SecuritySchemes, "bearerAuth")
	bearer := spec.Components.SecuritySchemes["bearerAuth"].Value
	assert.Equal(t, []string{"http", "bearer", "JWT"}, []string{bearer.Type, bearer.Scheme, bearer.BearerFormat})
	require.Len(t, spec.Security, 2, "either credential will do")
	for _, req := range spec.Security {
		for _, scopes := range req {
			assert.Empty(t, scopes, "OpenAPI 3.0 has scopes only for oauth2 and openIdConnect")
		}
	}

	want := map[string]auth.Scope{}
	for _, s := range secured {
		want[s.operation] = s.scope
	}
	seen := map[string]bool{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			// The generator's copy of the spec capitalizes operation ids.
			id := strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			seen[id] = true
			if op.Security != nil && len(*op.Security) == 0 {
				assert.True(t, slices.ContainsFunc(public, func(p struct{ operation, path string }) bool { return p.operation == id }),
					"%s %s is public but should not be", method, path)
				continue
			}
			scope, ok := want[id]
			if _, typed := op.Extensions["x-workflow-type"]; typed && !ok {
				// A typed operation asks what its generic twin asks: a read needs read, a
				// start, signal or update needs start.
				scope, ok = auth.ScopeStart, true
				if method == http.MethodGet {
					scope = auth.ScopeRead
				}
			}
			if !assert.True(t, ok, "%s %s (%s) needs credentials but is not in the policy", method, path, id) {
				continue
			}
			assert.Equal(t, string(scope), op.Extensions["x-required-scope"], id)
			assert.Contains(t, op.Description, "Needs scope `"+string(scope)+"`", id)
			for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
				assert.NotNil(t, op.Responses.Status(status), "%s declares %d", id, status)
			}
		}
	}
	for _, op := range append(slices.Collect(maps.Keys(want)), "getHealth", "getReadiness", "getMetrics", "getOpenAPISpec", "getDocs", "getDocsAsset") {
		assert.True(t, seen[op], "operation %s is in the spec", op)
	}
}

func authFake() *fakeTemporal {
	return withGreetingSchedule(&fakeTemporal{executions: []*fakeExecution{runningRun()},
		queryResult: jsonPayload(`{"state":"PENDING"}`), updateResult: jsonPayload(`{"state":"APPROVED"}`)}, "nightly")
}

// serveBriefly serves req, cutting an event stream off after a moment.
func serveBriefly(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	ctx, cancel := context.WithTimeout(req.Context(), 300*time.Millisecond)
	defer cancel()
	return serve(h, req.WithContext(ctx))
}

func TestEachOperationNeedsItsScope(t *testing.T) {
	c := newCredentials(t)
	for _, op := range secured {
		for scopes, key := range c.keys {
			granted, err := auth.ParseScopes(scopes)
			require.NoError(t, err)
			allowed := auth.Principal{Scopes: granted}.Allows(op.scope)
			t.Run(op.operation+" with "+scopes, func(t *testing.T) {
				h := newRouter(t, authFake(), withAuth(c.auth))
				rec := serveBriefly(h, withKey(newRequest(op.method, op.path, op.body), key))
				if allowed {
					assert.Equal(t, op.okStatus, rec.Code, "body: %s", rec.Body)
					return
				}
				requireProblem(t, rec, "urn:temporal-http:problem:forbidden")
				assert.Contains(t, rec.Body.String(), `scope \"`+string(op.scope)+`\"`)
				assert.Empty(t, rec.Header().Values("WWW-Authenticate"))
			})
		}
	}
}

func TestWithoutValidCredentials401(t *testing.T) {
	c := newCredentials(t)
	expired := authtest.Claims(jwtAudience, "alice", "admin")
	expired["exp"] = time.Now().Add(-time.Hour).Unix()
	otherAudience := authtest.Claims("another-service", "alice", "admin")
	stranger := authtest.NewIssuer(t, "ES256", "")
	noOne := authtest.Claims(jwtAudience, "", "admin")
	delete(noOne, "sub")

	for _, tc := range []struct {
		name        string
		header      http.Header
		bearerError string // the RFC 6750 error the Bearer challenge names
	}{
		{"no credentials", http.Header{}, ""},
		{"unknown key", http.Header{"X-Api-Key": {"not-a-key"}}, ""},
		{"expired token", http.Header{"Authorization": {"Bearer " + c.issuer.Token(t, expired)}}, "invalid_token"},
		{"token for another audience", http.Header{"Authorization": {"Bearer " + c.issuer.Token(t, otherAudience)}}, "invalid_token"},
		{"token by another issuer", http.Header{"Authorization": {"Bearer " + stranger.Token(t, authtest.Claims(jwtAudience, "a", "admin"))}}, "invalid_token"},
		{"token that names no one", http.Header{"Authorization": {"Bearer " + c.issuer.Token(t, noOne)}}, "invalid_token"},
		{"basic auth", http.Header{"Authorization": {"Basic YWRtaW46YWRtaW4="}}, ""},
		{"key and token at once", http.Header{"X-Api-Key": {c.keys["admin"]},
			"Authorization": {"Bearer " + c.issuer.Token(t, authtest.Claims(jwtAudience, "a", "admin"))}}, "invalid_request"},
	} {
		for _, op := range secured {
			t.Run(tc.name+" "+op.operation, func(t *testing.T) {
				fake := authFake()
				req := newRequest(op.method, op.path, op.body)
				for k, v := range tc.header {
					req.Header[k] = v
				}
				rec := serve(newRouter(t, fake, withAuth(c.auth)), req)
				p := requireProblem(t, rec, "urn:temporal-http:problem:unauthorized")
				require.NotNil(t, p.Detail)
				for _, leak := range []string{"expired", "aud", "signature", "unknown", "malformed"} {
					assert.NotContains(t, *p.Detail, leak, "the body never says why")
				}
				bearerChallenge := `Bearer realm="temporal-http-gateway"`
				if tc.bearerError != "" {
					bearerChallenge += `, error="` + tc.bearerError + `"`
				}
				assert.Equal(t, []string{bearerChallenge, `ApiKey realm="temporal-http-gateway", header="X-API-Key"`},
					rec.Header().Values("WWW-Authenticate"))
				assert.Empty(t, fake.startCalls(), "nothing reached Temporal")
				assert.Empty(t, fake.describeCalls(), "nothing reached Temporal")
				assert.Empty(t, fake.lifecycle, "nothing reached Temporal")
			})
		}
	}
}

// TestTokenUsersAndClientsAreCallersApart: a user's token (sub) and a client's token (client_id)
// of the same name are two callers, whose Idempotency-Keys never meet; a token that names neither
// is refused, and the log says why.
func TestTokenUsersAndClientsAreCallersApart(t *testing.T) {
	c := newCredentials(t)
	var buf bytes.Buffer
	fake := authFake()
	h := newRouter(t, fake, withAuth(c.auth), func(o *handlers.Options) { o.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	user := authtest.Claims(jwtAudience, "batch-job", "start")
	client := authtest.Claims(jwtAudience, "", "start")
	delete(client, "sub")
	client["client_id"] = "batch-job"
	noOne := authtest.Claims(jwtAudience, "", "start")
	delete(noOne, "sub")

	const body = `{"workflowType":"Greeting","input":{"name":"Ada"}}`
	start := func(claims map[string]any) *httptest.ResponseRecorder {
		req := withBearer(newRequest(http.MethodPost, "/workflows", body), c.issuer.Token(t, claims))
		req.Header.Set("Idempotency-Key", "nightly")
		return serve(h, req)
	}
	var ids []string
	for _, claims := range []map[string]any{user, client} {
		rec := start(claims)
		require.Equal(t, http.StatusCreated, rec.Code, "body: %s", rec.Body)
		ids = append(ids, decode(t, rec.Body.Bytes()).WorkflowId)
	}
	assert.NotEqual(t, ids[0], ids[1], "the user and the client have a key of their own each")
	assert.Len(t, fake.startCalls(), 2)

	requireProblem(t, start(noOne), "urn:temporal-http:problem:unauthorized")
	assert.Len(t, fake.startCalls(), 2, "a token that names no one started nothing")

	var principals, reasons []string
	for _, line := range logLines(t, &buf) {
		switch line["msg"] {
		case "http request":
			p, _ := line["principal"].(string)
			principals = append(principals, p)
		case "authentication failed":
			r, _ := line["reason"].(string)
			reasons = append(reasons, r)
		}
	}
	assert.Equal(t, []string{"jwt:batch-job", "jwt-client:batch-job", ""}, principals)
	require.Len(t, reasons, 1)
	assert.Contains(t, reasons[0], "names no one")
}

// A request without credentials learns nothing about what a valid request looks like: the 401
// comes before parameter binding, the JSON check and the validator.
func TestUnauthenticatedRequestsMeetNoValidation(t *testing.T) {
	c := newCredentials(t)
	h := newRouter(t, &fakeTemporal{}, withAuth(c.auth))
	for _, req := range []*http.Request{
		newRequest(http.MethodPost, "/workflows", `{"workflowType":`),
		newRequest(http.MethodPost, "/workflows", `{"unknownField":1}`),
		newRequest(http.MethodGet, "/workflows?pageSize=many", ""),
		newRequest(http.MethodGet, "/workflows?status=NOPE", ""),
		newRequest(http.MethodGet, "/workflows/x/history?pageSize=0", ""),
		newRequest(http.MethodPost, "/workflows/x/cancel", `{"reason":`+strings.Repeat("1", 10)+`}`),
	} {
		rec := serve(h, req)
		requireProblem(t, rec, "urn:temporal-http:problem:unauthorized")
		assert.NotContains(t, rec.Body.String(), "errors", req.URL.String())
	}
	// With credentials the same request meets the validator.
	rec := serve(h, withKey(newRequest(http.MethodGet, "/workflows?pageSize=many", ""), c.keys["read"]))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}

func TestBearerTokensGrantTheirScopes(t *testing.T) {
	c := newCredentials(t)
	fake := authFake()
	h := newRouter(t, fake, withAuth(c.auth))
	read := c.issuer.Token(t, authtest.Claims(jwtAudience, "alice", "read"))
	admin := c.issuer.Token(t, authtest.Claims(jwtAudience, "root", "admin"))

	assert.Equal(t, http.StatusOK, serve(h, withBearer(newRequest(http.MethodGet, "/workflows/approval-1", ""), read)).Code)
	requireProblem(t, serve(h, withBearer(newRequest(http.MethodPost, "/workflows/approval-1/terminate", "{}"), read)),
		"urn:temporal-http:problem:forbidden")
	assert.Empty(t, fake.lifecycle)
	assert.Equal(t, http.StatusAccepted, serve(h, withBearer(newRequest(http.MethodPost, "/workflows/approval-1/terminate", "{}"), admin)).Code)
	assert.Len(t, fake.lifecycle, 1)
}

func TestOnlyConfiguredSchemesAreChallenged(t *testing.T) {
	_, entry, err := auth.NewAPIKey("ci", []auth.Scope{auth.ScopeRead})
	require.NoError(t, err)
	h := newRouter(t, &fakeTemporal{}, withAuth(auth.New([]auth.APIKey{entry}, nil)))
	rec := serve(h, newRequest(http.MethodGet, "/workflows", ""))
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Equal(t, []string{`ApiKey realm="temporal-http-gateway", header="X-API-Key"`}, rec.Header().Values("WWW-Authenticate"))
}

func TestOperationalEndpointsAndUnknownPathsNeedNoCredentials(t *testing.T) {
	c := newCredentials(t)
	h := newRouter(t, &fakeTemporal{}, withAuth(c.auth))
	for _, p := range public {
		rec := serve(h, newRequest(http.MethodGet, p.path, ""))
		assert.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden}, rec.Code, p.path)
	}
	assert.Equal(t, http.StatusOK, serve(h, newRequest(http.MethodGet, "/healthz", "")).Code)
	assert.Equal(t, http.StatusOK, serve(h, newRequest(http.MethodGet, "/openapi.yaml", "")).Code)
	assert.Equal(t, http.StatusNotFound, serve(h, newRequest(http.MethodGet, "/nowhere", "")).Code)
	assert.Equal(t, http.StatusMethodNotAllowed, serve(h, newRequest(http.MethodDelete, "/workflows", "")).Code)
}

func TestPreflightIsNotBlocked(t *testing.T) {
	c := newCredentials(t)
	h := newRouter(t, &fakeTemporal{}, withAuth(c.auth), withCORS("https://app.example.com"))
	for _, op := range secured {
		rec := serve(h, preflight(op.path, "https://app.example.com", op.method, "content-type,x-api-key,authorization"))
		assert.Less(t, rec.Code, 300, "%s %s: %d %s", op.method, op.path, rec.Code, rec.Body)
		assert.Equal(t, "https://app.example.com", rec.Header().Get("Access-Control-Allow-Origin"), op.path)
	}
	// Without CORS an OPTIONS request is the router's to refuse, not authentication's.
	h = newRouter(t, &fakeTemporal{}, withAuth(c.auth))
	assert.Equal(t, http.StatusMethodNotAllowed, serve(h, newRequest(http.MethodOptions, "/workflows", "")).Code)
}

func TestOpenWithoutAnAuthenticator(t *testing.T) {
	h := newRouter(t, authFake())
	for _, op := range secured {
		rec := serveBriefly(h, newRequest(op.method, op.path, op.body))
		assert.Equal(t, op.okStatus, rec.Code, "%s: %s", op.operation, rec.Body)
	}
}

func TestAccessLogNamesThePrincipal(t *testing.T) {
	c := newCredentials(t)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := newRouter(t, authFake(), withAuth(c.auth), func(o *handlers.Options) { o.Logger = logger })

	serve(h, withKey(newRequest(http.MethodGet, "/workflows/approval-1", ""), c.keys["read"]))
	serve(h, withKey(newRequest(http.MethodPost, "/workflows/approval-1/cancel", "{}"), c.keys["read+start"]))
	serve(h, withBearer(newRequest(http.MethodGet, "/workflow-types", ""), c.issuer.Token(t, authtest.Claims(jwtAudience, "alice", "read"))))
	serve(h, newRequest(http.MethodGet, "/workflows", ""))

	var got []string
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		var entry struct {
			Msg       string
			Status    int
			Principal *string
		}
		require.NoError(t, json.Unmarshal([]byte(line), &entry))
		if entry.Msg != "http request" {
			continue
		}
		p := "-"
		if entry.Principal != nil {
			p = *entry.Principal
		}
		got = append(got, p+" "+http.StatusText(entry.Status))
	}
	assert.Equal(t, []string{"apikey:read OK", "apikey:read-start Forbidden", "jwt:alice OK", "- Unauthorized"}, got)
}

// TestStartBodiesThatAskForMoreThanStart: the route needs `start`, but a body that ends a running
// execution needs `admin`, and one whose answer may be an execution the request did not start
// needs `read` as well.
func TestStartBodiesThatAskForMoreThanStart(t *testing.T) {
	c := newCredentials(t)
	for _, tc := range []struct {
		name, body string
		refused    []string // the keys refused, by their scopes
		missing    auth.Scope
	}{
		{"TERMINATE_EXISTING", `{"workflowType":"Greeting","workflowId":"x","idConflictPolicy":"TERMINATE_EXISTING"}`,
			[]string{"start", "read+start"}, auth.ScopeAdmin},
		{"USE_EXISTING", `{"workflowType":"Greeting","workflowId":"x","idConflictPolicy":"USE_EXISTING"}`,
			[]string{"start"}, auth.ScopeRead},
		{"signal-with-start", `{"workflowType":"Greeting","workflowId":"x","signal":{"name":"decision"}}`,
			[]string{"start"}, auth.ScopeRead},
		{"FAIL", `{"workflowType":"Greeting","workflowId":"x","idConflictPolicy":"FAIL"}`, nil, ""},
		{"cronSchedule", `{"workflowType":"Greeting","workflowId":"x","cronSchedule":"@every 1m"}`,
			[]string{"start", "read+start"}, auth.ScopeSchedule},
		{"update-with-start", `{"start":{"workflowType":"Greeting"}}`, []string{"start"}, auth.ScopeRead},
		{"update-with-start FAIL", `{"start":{"workflowType":"Greeting","idConflictPolicy":"FAIL"}}`, []string{"start"}, auth.ScopeRead},
	} {
		path := "/workflows"
		if strings.HasPrefix(tc.name, "update-with-start") {
			path = "/workflows/x/updates/addItem"
		}
		for _, scopes := range []string{"start", "read+start", "admin"} {
			t.Run(tc.name+" with "+scopes, func(t *testing.T) {
				fake := authFake()
				rec := serve(newRouter(t, fake, withAuth(c.auth)), withKey(newRequest(http.MethodPost, path, tc.body), c.keys[scopes]))
				if slices.Contains(tc.refused, scopes) {
					requireProblem(t, rec, "urn:temporal-http:problem:forbidden")
					assert.Contains(t, rec.Body.String(), `scope \"`+string(tc.missing)+`\"`)
					assert.Empty(t, fake.starts, "nothing reaches Temporal")
					return
				}
				assert.Contains(t, []int{http.StatusCreated, http.StatusOK}, rec.Code, "body: %s", rec.Body)
			})
		}
	}
}
