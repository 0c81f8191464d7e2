package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/handlers"
)

// docsPolicy is what the page may do: load its scripts, style sheet and contract from the
// gateway, show inline images (Swagger UI's icons), call the gateway, and nothing else.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// apiPolicy is the policy of every other answer.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'"

func TestDocsPage(t *testing.T) {
	creds := newCredentials(t)
	for _, tc := range []struct {
		name string
		opts []func(*handlers.Options)
	}{
		{"open gateway", nil},
		// The page is public like the contract it shows: no credentials, no 401, and no 500 for a
		// route without an access rule.
		{"gateway with credentials", []func(*handlers.Options){withAuth(creds.auth)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRouter(t, &fakeTemporal{}, tc.opts...)

			page := serve(h, newRequest(http.MethodGet, "/docs", ""))
			require.Equal(t, http.StatusOK, page.Code, "body: %s", page.Body)
			assert.Equal(t, "text/html; charset=utf-8", page.Header().Get("Content-Type"))
			assert.Equal(t, docsPolicy, page.Header().Get("Content-Security-Policy"))
			assert.Equal(t, "nosniff", page.Header().Get("X-Content-Type-Options"), "the other security headers stay")
			assert.Equal(t, "DENY", page.Header().Get("X-Frame-Options"))
			assert.Equal(t, "no-cache", page.Header().Get("Cache-Control"))
			assert.Regexp(t, `^"[0-9a-f]{32}"$`, page.Header().Get("ETag"))
			html := page.Body.String()
			// Nothing inline that the policy would have to allow.
			scripts := regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(html, -1)
			require.Len(t, scripts, 2, "Swagger UI and its initializer")
			for _, s := range scripts {
				assert.Contains(t, s[1], ` src="`, "a script from a file")
				assert.Empty(t, strings.TrimSpace(s[2]), "no inline script")
			}
			assert.NotRegexp(t, `<style|\sstyle=|\son[a-z]+=`, html, "inline style or event handler")

			// Every file the page links to is there, resolved as the browser resolves it.
			links := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(html, -1)
			require.Len(t, links, 5, "icon, style sheet, two scripts and the contract: %q", links)
			pageURL, err := url.Parse("http://gateway.test/docs")
			require.NoError(t, err)
			wantTypes := map[string]string{
				"/docs/swagger-ui.css":       "text/css; charset=utf-8",
				"/docs/swagger-ui-bundle.js": "text/javascript; charset=utf-8",
				"/docs/docs.js":              "text/javascript; charset=utf-8",
				"/openapi.yaml":              "application/yaml",
			}
			for _, link := range links {
				ref, err := pageURL.Parse(link[1])
				require.NoError(t, err)
				if ref.Scheme == "data" {
					continue
				}
				rec := serve(h, newRequest(http.MethodGet, ref.Path, ""))
				assert.Equal(t, http.StatusOK, rec.Code, "%s: %s", ref.Path, rec.Body)
				assert.Equal(t, wantTypes[ref.Path], rec.Header().Get("Content-Type"), ref.Path)
				delete(wantTypes, ref.Path)
			}
			assert.Empty(t, wantTypes, "the page links to every file it needs")
		})
	}
}

func TestDocsAssets(t *testing.T) {
	creds := newCredentials(t)
	h := newRouter(t, &fakeTemporal{}, withAuth(creds.auth))
	for _, tc := range []struct {
		asset, file, contentType string
	}{
		{"docs.js", "docs/docs.js", "text/javascript; charset=utf-8"},
		{"swagger-ui-bundle.js", "docs/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"},
		{"swagger-ui.css", "docs/swagger-ui/swagger-ui.css", "text/css; charset=utf-8"},
		{"swagger-ui-bundle.js.LICENSE.txt", "docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt", "text/plain; charset=utf-8"},
		{"swagger-ui-LICENSE", "docs/swagger-ui/LICENSE", "text/plain; charset=utf-8"},
		{"swagger-ui-NOTICE", "docs/swagger-ui/NOTICE", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.asset, func(t *testing.T) {
			want, err := api.Docs.ReadFile(tc.file)
			require.NoError(t, err)

			rec := serve(h, newRequest(http.MethodGet, "/docs/"+tc.asset, ""))
			require.Equal(t, http.StatusOK, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, tc.contentType, rec.Header().Get("Content-Type"))
			assert.Equal(t, want, rec.Body.Bytes(), "the embedded file, unchanged")
			assert.Equal(t, apiPolicy, rec.Header().Get("Content-Security-Policy"), "only the page has a policy of its own")
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
			tag := rec.Header().Get("ETag")
			require.Regexp(t, `^"[0-9a-f]{32}"$`, tag)

			for _, ifNoneMatch := range []string{tag, `"other", W/` + tag, "*"} {
				again := newRequest(http.MethodGet, "/docs/"+tc.asset, "")
				again.Header.Set("If-None-Match", ifNoneMatch)
				rec := serve(h, again)
				assert.Equal(t, http.StatusNotModified, rec.Code, "If-None-Match: %s", ifNoneMatch)
				assert.Empty(t, rec.Body.Bytes())
				assert.Equal(t, tag, rec.Header().Get("ETag"))
			}
			stale := newRequest(http.MethodGet, "/docs/"+tc.asset, "")
			stale.Header.Set("If-None-Match", `"0123456789abcdef0123456789abcdef"`)
			assert.Equal(t, http.StatusOK, serve(h, stale).Code, "a stale tag gets the file")
		})
	}

	t.Run("page revalidates too", func(t *testing.T) {
		tag := serve(h, newRequest(http.MethodGet, "/docs", "")).Header().Get("ETag")
		req := newRequest(http.MethodGet, "/docs", "")
		req.Header.Set("If-None-Match", tag)
		rec := serve(h, req)
		assert.Equal(t, http.StatusNotModified, rec.Code)
		assert.Equal(t, docsPolicy, rec.Header().Get("Content-Security-Policy"))
	})

	for _, target := range []string{
		"/docs/nothing.js",
		"/docs/index.html", // the page is at /docs only: elsewhere its links would point elsewhere
		"/docs/LICENSE",    // Swagger UI's licence is served under a name that says whose it is
		"/docs/",
		"/docs/swagger-ui/swagger-ui.css",
	} {
		t.Run("no file "+target, func(t *testing.T) {
			rec := serve(h, newRequest(http.MethodGet, target, ""))
			assert.Equal(t, http.StatusNotFound, rec.Code, "body: %s", rec.Body)
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Body.String(), `"type":"urn:temporal-http:problem:not-found"`)
		})
	}

	t.Run("only GET", func(t *testing.T) {
		rec := serve(h, newRequest(http.MethodPost, "/docs/docs.js", "{}"))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, "GET", rec.Header().Get("Allow"))
	})
}
