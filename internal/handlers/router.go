package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/temporalhttp/gateway/internal/gen"
	"github.com/temporalhttp/gateway/internal/telemetry"
)

// NewRouter returns the gateway's HTTP handler: every route of api/openapi.yaml, each request
// validated against it before its handler runs, and every error answered as problem+json.
func NewRouter(opts Options) (http.Handler, error) {
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded OpenAPI spec: %w", err)
	}
	// Every line a request logs carries its request id, its workflow id and its trace id.
	opts.Logger = slog.New(telemetry.NewLogHandler(opts.Logger.Handler()))
	pw := newProblemWriter(opts)
	access, err := routeAccessRules(spec)
	if err != nil {
		return nil, err
	}

	validator, err := validateRequests(spec, pw)
	if err != nil {
		return nil, err
	}

	r := chi.NewRouter()
	// A request addressed to a host the gateway does not serve is refused first. CORS answers
	// preflights before routing and authentication, and the rate limit counts a request before
	// any work is done for it. These come after the request id, the client address and the access
	// log, so that what they refuse is logged. Authentication comes last, yet before the generated
	// router binds parameters and validates: a 401 reveals nothing about the request.
	r.Use(withRequestID, withClientIP(opts.TrustedProxies), withPrincipalSlot, accessLog(opts.Logger), withSecurityHeaders(opts.HSTS),
		recoverPanics(pw), guardHosts(pw, opts.RestrictHosts, opts.AllowedHosts, access, r),
		allowCORS(opts.CORSAllowedOrigins, opts.CORSMaxAge),
		limitRate(pw, opts.RateLimit, opts.RateLimitWindow), limitBody(pw, opts.MaxBodyBytes),
		authenticate(pw, opts.Auth, access, r), joinPrefer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		pw.writeError(w, r, newProblem(http.StatusNotFound, problemNotFound, "Not found", "No resource has this path."))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Allow", strings.Join(allowedMethods(r, req.URL.Path), ", "))
		pw.writeError(w, req, newProblem(http.StatusMethodNotAllowed, problemMethodNotAllowed, "Method not allowed",
			"This resource does not support "+req.Method+"; the Allow header lists what it does."))
	})

	server := NewServer(opts)
	strict := gen.NewStrictHandlerWithOptions(server, nil, gen.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			var maxBytes *http.MaxBytesError
			if !errors.As(err, &maxBytes) {
				err = malformedJSON()
			}
			pw.writeError(w, r, err)
		},
		ResponseErrorHandlerFunc: pw.writeError,
	})
	handler := gen.HandlerWithOptions(strict, gen.ChiServerOptions{
		BaseRouter: r,
		// Listed innermost first: the UTF-8 check of the path and query runs first, then the media
		// type of a POST, then the JSON of the body, then the validator, which checks the path
		// parameters as the UTF-8 check decoded them. A path that matches no route is answered 404
		// or 405, whatever its media type.
		Middlewares: []gen.MiddlewareFunc{validator, strictJSON(pw), requireJSON(pw), validUTF8(pw)},
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			pw.writeError(w, r, paramProblem(r, err))
		},
	})
	if opts.Instrument != nil {
		handler = opts.Instrument(handler)
	}
	return handler, nil
}

// paramProblem names the parameter that the generated router could not bind.
func paramProblem(r *http.Request, err error) error {
	var (
		name string
		in   = gen.FieldErrorInQuery
	)
	var format *gen.InvalidParamFormatError
	var required *gen.RequiredParamError
	switch {
	case errors.As(err, &format):
		name = format.ParamName
		if chi.URLParam(r, name) != "" {
			in = gen.FieldErrorInPath
		}
	case errors.As(err, &required):
		name = required.ParamName
	}
	return validationProblem(gen.FieldError{In: in, Field: name, Message: "is not valid"})
}

// allowedMethods lists the methods that routes answer for path, for the Allow header of a 405.
func allowedMethods(routes chi.Routes, path string) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if routes.Match(chi.NewRouteContext(), m, path) {
			allowed = append(allowed, m)
		}
	}
	return allowed
}
