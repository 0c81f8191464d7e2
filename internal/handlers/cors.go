package handlers

import (
	"net/http"
	"time"

	"github.com/go-chi/cors"
)

// corsAllowedHeaders are the request headers a page may send: those the API reads. Content-Type
// is among them because application/json is not one of the types a browser sends without asking.
var corsAllowedHeaders = []string{
	"Content-Type", "Authorization", "X-API-Key", "Idempotency-Key", "If-None-Match", "If-Match", "X-Request-Id", "Last-Event-ID", "Prefer",
}

// corsExposedHeaders are the response headers a page may read besides those every page may
// (Content-Type, Cache-Control, ...): where a started execution is, its tag for revalidation,
// how long to back off, whether a start was replayed or answered without a body, and the id that
// locates a request in the log.
var corsExposedHeaders = []string{"Location", "ETag", "Retry-After", "Idempotent-Replayed", "Preference-Applied", "X-Request-Id", "WWW-Authenticate"}

// allowCORS lets pages of the allowed origins call the API from a browser: it answers their
// preflights itself, so that neither the router (405 for OPTIONS) nor authentication (401: a
// browser never sends credentials with a preflight) sees them, and marks the answers to their
// requests as readable by them. No origin means no CORS at all: go-chi/cors would read an empty
// list as "any origin".
//
// Credentials are not allowed: the API authenticates by header, never by cookie, so a page of
// another origin can only act with a key or token its user gave it.
func allowCORS(origins []string, maxAge time.Duration) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return cors.Handler(cors.Options{
		AllowedOrigins: origins,
		// PUT and DELETE: a schedule is replaced and deleted by them.
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: corsAllowedHeaders,
		ExposedHeaders: corsExposedHeaders,
		MaxAge:         int(maxAge / time.Second),
	})
}
