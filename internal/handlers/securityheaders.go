package handlers

import "net/http"

// securityHeaders are sent with every answer. The API serves JSON, YAML and event streams, never
// a page: nothing it answers may be sniffed into HTML, framed, run as a script or given a
// referrer. Its one page, /docs, replaces the Content-Security-Policy with docsPagePolicy.
var securityHeaders = map[string]string{
	"X-Content-Type-Options":     "nosniff",
	"X-Frame-Options":            "DENY",
	"Referrer-Policy":            "no-referrer",
	"Content-Security-Policy":    "default-src 'none'; frame-ancestors 'none'",
	"Cross-Origin-Opener-Policy": "same-origin",
}

// docsPagePolicy is the Content-Security-Policy of the API reference page (/docs), as tight as
// Swagger UI allows: its scripts, style sheet and the contract come from the gateway, nothing is
// inline but images (Swagger UI's icons are data: URIs in its style sheet), and "Try it out"
// calls only this gateway. The page cannot be framed, and it submits no form anywhere.
const docsPagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// hstsValue tells browsers to use HTTPS only, for a year. It leaves out includeSubDomains and
// preload: the gateway cannot know that every other host of its domain speaks HTTPS.
const hstsValue = "max-age=31536000"

// withSecurityHeaders sets securityHeaders on every response, and Strict-Transport-Security when
// hsts is set: only then, because a gateway reached over plain HTTP behind a TLS-terminating
// proxy cannot tell by itself whether its clients see HTTPS.
func withSecurityHeaders(hsts bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			for name, value := range securityHeaders {
				h.Set(name, value)
			}
			if hsts {
				h.Set("Strict-Transport-Security", hstsValue)
			}
			next.ServeHTTP(w, r)
		})
	}
}
