package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/go-chi/chi/v5"

	"github.com/temporalhttp/gateway/internal/auth"
)

// requiredScopeExtension is where the spec names the scope an operation needs. OpenAPI 3.0 lists
// scopes only for oauth2 and openIdConnect schemes, so the API key and bearer schemes cannot
// carry them.
const requiredScopeExtension = "x-required-scope"

// authRealm names the gateway in WWW-Authenticate challenges.
const authRealm = "temporal-http-gateway"

// routeAccess is what a route asks of its callers.
type routeAccess struct {
	public bool
	scope  auth.Scope
}

// routeAccessRules reads from the spec who may call each operation, keyed by method and path
// template ("POST /workflows/{workflowId}/cancel"), which is how chi names the matched route. The
// spec is the one place the rules are written: an operation that needs credentials but names no
// valid scope is an error, not an open door.
func routeAccessRules(spec *openapi3.T) (map[string]routeAccess, error) {
	rules := make(map[string]routeAccess)
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			security := spec.Security
			if op.Security != nil {
				security = *op.Security
			}
			if isPublic(security) {
				rules[key] = routeAccess{public: true}
				continue
			}
			name, _ := op.Extensions[requiredScopeExtension].(string)
			scope, ok := auth.ParseScope(name)
			if !ok {
				return nil, fmt.Errorf("operation %s (%s) needs credentials but its %s is %q, not read, start, schedule or admin",
					op.OperationID, key, requiredScopeExtension, name)
			}
			rules[key] = routeAccess{scope: scope}
		}
	}
	return rules, nil
}

// isPublic says whether security requirements let a request without credentials through: none
// at all, or an empty alternative among them.
func isPublic(security openapi3.SecurityRequirements) bool {
	if len(security) == 0 {
		return true
	}
	for _, req := range security {
		if len(req) == 0 {
			return true
		}
	}
	return false
}

// authenticate refuses requests without the credentials and scope their route needs. It runs
// before the generated router binds parameters and before the request validator: a client
// without credentials learns nothing about what a valid request would look like. So it finds the
// route itself, in routes; paths that match no route pass on to be answered 404 or 405. With no
// authenticator the gateway is open.
func authenticate(pw problemWriter, authn *auth.Authenticator, rules map[string]routeAccess, routes chi.Routes) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A CORS preflight carries no credentials by design; the CORS middleware answers it
			// before this one. Any other OPTIONS request matches no route (the spec declares no
			// OPTIONS operation) and passes on to be answered 405; were one declared, it would
			// need its scope like any other operation.
			if authn == nil {
				next.ServeHTTP(w, r)
				return
			}
			pattern := routes.Find(chi.NewRouteContext(), r.Method, routePath(r))
			access, known := rules[r.Method+" "+pattern]
			switch {
			case pattern == "" || access.public:
				next.ServeHTTP(w, r)
				return
			case !known:
				// A route the spec does not describe is a gateway bug: refuse rather than serve it open.
				pw.writeError(w, r, fmt.Errorf("no access rule for route %s %s", r.Method, pattern))
				return
			}
			ctx := r.Context()
			p, err := authn.Authenticate(r.Header)
			if err != nil {
				pw.logger.InfoContext(ctx, "authentication failed", "reason", err, "request_id", requestID(ctx))
				challenge(w.Header(), authn, r.Header)
				pw.writeError(w, r, unauthorizedProblem(err))
				return
			}
			if slot, ok := ctx.Value(principalSlotKey{}).(*principalSlot); ok {
				slot.name = p.Name
			}
			if !p.Allows(access.scope) {
				pw.writeError(w, r, forbiddenProblem(access.scope, "this operation needs it"))
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.NewContext(ctx, p)))
		})
	}
}

// routePath is the path chi routes r by.
func routePath(r *http.Request) string {
	switch {
	case r.URL.RawPath != "":
		return r.URL.RawPath
	case r.URL.Path != "":
		return r.URL.Path
	}
	return "/"
}

// challenge tells the client which credentials the gateway accepts (RFC 9110 11.6.1). A refused
// bearer token is flagged as RFC 6750 3.1 asks, so that a client knows to fetch a new one, and so
// is a request that sent a token beside a key.
func challenge(h http.Header, authn *auth.Authenticator, req http.Header) {
	if authn.AcceptsBearer() {
		c := `Bearer realm="` + authRealm + `"`
		scheme, _, _ := strings.Cut(req.Get("Authorization"), " ")
		switch {
		case !strings.EqualFold(scheme, "Bearer"):
		case req.Get(auth.APIKeyHeader) != "":
			c += `, error="invalid_request"`
		default:
			c += `, error="invalid_token"`
		}
		h.Add("WWW-Authenticate", c)
	}
	if authn.AcceptsAPIKeys() {
		h.Add("WWW-Authenticate", `ApiKey realm="`+authRealm+`", header="`+auth.APIKeyHeader+`"`)
	}
}

// unauthorizedProblem says that credentials are missing or not valid, never why they are not:
// the reason (expired, wrong audience, unknown key) is in the log.
func unauthorizedProblem(err error) *problemError {
	detail := "This operation needs credentials: an API key in X-API-Key or a JWT in Authorization: Bearer."
	if !errors.Is(err, auth.ErrNoCredentials) {
		detail = "The credentials are not valid. Send one API key in X-API-Key or one JWT in Authorization: Bearer."
	}
	return newProblem(http.StatusUnauthorized, problemUnauthorized, "Unauthorized", detail)
}

// principalSlot carries the authenticated principal's name out to the access log, which runs
// before the route is known and so before authentication.
type principalSlot struct{ name string }

type principalSlotKey struct{}

// withPrincipalSlot gives each request a slot for its principal's name.
func withPrincipalSlot(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalSlotKey{}, &principalSlot{})))
	})
}

// principalName is the name of the request's authenticated principal, or "".
func principalName(ctx context.Context) string {
	if slot, ok := ctx.Value(principalSlotKey{}).(*principalSlot); ok {
		return slot.name
	}
	return ""
}

func forbiddenProblem(scope auth.Scope, why string) *problemError {
	return newProblem(http.StatusForbidden, problemForbidden, "Forbidden",
		fmt.Sprintf("The credentials do not grant scope %q; %s.", scope, why))
}
