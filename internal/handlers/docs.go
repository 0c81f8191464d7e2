package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"sync"

	"github.com/temporalhttp/gateway/api"
	"github.com/temporalhttp/gateway/internal/gen"
)

// docsAssetFiles maps the names under /docs/ to the files of api.Docs: the page's initializer and
// Swagger UI's files, whose licence texts get names that say whose they are.
var docsAssetFiles = map[string]string{
	"docs.js":                          "docs/docs.js",
	"swagger-ui-bundle.js":             "docs/swagger-ui/swagger-ui-bundle.js",
	"swagger-ui.css":                   "docs/swagger-ui/swagger-ui.css",
	"swagger-ui-bundle.js.LICENSE.txt": "docs/swagger-ui/swagger-ui-bundle.js.LICENSE.txt",
	"swagger-ui-LICENSE":               "docs/swagger-ui/LICENSE",
	"swagger-ui-NOTICE":                "docs/swagger-ui/NOTICE",
}

// docsPageFile is the page itself. It is not among the assets: served from another URL, its
// relative links would point elsewhere, and without the page's policy its scripts would not run.
const docsPageFile = "docs/index.html"

// docsFile is an embedded file as it is answered.
type docsFile struct {
	body        []byte
	contentType string
	etag        string
}

type docsFiles struct {
	page   docsFile
	assets map[string]docsFile
}

// loadDocs reads and tags the embedded files once, when the page is first asked for: the bundle
// is large, and most gateways never serve it.
var loadDocs = sync.OnceValues(func() (docsFiles, error) {
	page, err := readDocsFile(docsPageFile)
	if err != nil {
		return docsFiles{}, err
	}
	files := docsFiles{page: page, assets: make(map[string]docsFile, len(docsAssetFiles))}
	for name, file := range docsAssetFiles {
		if files.assets[name], err = readDocsFile(file); err != nil {
			return docsFiles{}, err
		}
	}
	return files, nil
})

func readDocsFile(name string) (docsFile, error) {
	body, err := api.Docs.ReadFile(name)
	if err != nil {
		return docsFile{}, fmt.Errorf("read embedded docs file: %w", err)
	}
	sum := sha256.Sum256(body)
	return docsFile{body: body, contentType: docsContentType(name), etag: `"` + hex.EncodeToString(sum[:16]) + `"`}, nil
}

// docsContentType names the type of each kind of file the page has; every one is UTF-8 text.
func docsContentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

// GetDocs serves the API reference page, under a policy of its own.
func (s *Server) GetDocs(_ context.Context, req gen.GetDocsRequestObject) (gen.GetDocsResponseObject, error) {
	files, err := loadDocs()
	if err != nil {
		return nil, err
	}
	return newDocsAnswer(files.page, req.Params.IfNoneMatch, docsPagePolicy), nil
}

// GetDocsAsset serves a script, the style sheet or a licence text of the API reference page.
func (s *Server) GetDocsAsset(_ context.Context, req gen.GetDocsAssetRequestObject) (gen.GetDocsAssetResponseObject, error) {
	files, err := loadDocs()
	if err != nil {
		return nil, err
	}
	f, ok := files.assets[req.Asset]
	if !ok {
		return nil, newProblem(http.StatusNotFound, problemNotFound, "Not found", "The API reference page has no file of this name.")
	}
	// An asset keeps the API's policy: a policy governs what a page may load, and these are not pages.
	return newDocsAnswer(f, req.Params.IfNoneMatch, ""), nil
}

// docsAnswer answers with an embedded file, or with 304 when the client holds it already. The
// files change only with the gateway's version, so a browser may keep them but must revalidate
// (no-cache), which costs a 304; their URLs carry no version that would let it skip that.
type docsAnswer struct {
	file        docsFile
	notModified bool
	policy      string // the Content-Security-Policy to answer with; empty keeps the API's
}

var (
	_ gen.GetDocsResponseObject      = docsAnswer{}
	_ gen.GetDocsAssetResponseObject = docsAnswer{}
)

func newDocsAnswer(f docsFile, ifNoneMatch *string, policy string) docsAnswer {
	return docsAnswer{file: f, notModified: ifNoneMatch != nil && etagMatches(*ifNoneMatch, f.etag), policy: policy}
}

func (a docsAnswer) VisitGetDocsResponse(w http.ResponseWriter) error      { return a.write(w) }
func (a docsAnswer) VisitGetDocsAssetResponse(w http.ResponseWriter) error { return a.write(w) }

func (a docsAnswer) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", a.file.etag)
	h.Set("Cache-Control", "no-cache")
	if a.policy != "" {
		h.Set("Content-Security-Policy", a.policy)
	}
	if a.notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", a.file.contentType)
	h.Set("Content-Length", strconv.Itoa(len(a.file.body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(a.file.body)
	return err
}
