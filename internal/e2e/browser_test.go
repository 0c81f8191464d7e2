package e2e

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A real browser is the only honest judge of CORS: it decides from the gateway's answers whether
// a page may see them, and no Go client applies those rules. These helpers serve a page from an
// origin of its own, open it in headless Chromium, and collect what the page's script reports.

// chromiumPath finds Chromium. Without it the browser tests are skipped on a developer's machine
// and fail in CI, which must have it (.ci/run installs it).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no Chromium on PATH: install it with `apt-get install -y chromium` (.ci/run does)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " - CI never skips the browser tests")
	}
	t.Skip(msg)
	return ""
}

// pageServer serves one HTML page at / from its own origin and receives the page's report, a
// JSON object the page POSTs to /report on that same origin.
type pageServer struct {
	*httptest.Server
	reports chan json.RawMessage

	mu   sync.Mutex
	data any // what the page is rendered with
}

// newPageServer starts an origin serving page, executed with data as an html/template (so a
// value written into the script is escaped as a JavaScript string).
func newPageServer(t *testing.T, page *template.Template) *pageServer {
	t.Helper()
	return newPageServerWith(t, page, nil)
}

// newRebindingServer starts an origin serving page, as newPageServer does, that answers every
// other path by passing the request on to the gateway at gatewayURL with the Host the browser
// sent. It stands for what a DNS-rebinding attacker achieves: once the attacker's name resolves
// to the gateway's address, the page's same-origin requests reach the gateway, naming the
// attacker's host in Host.
func newRebindingServer(t *testing.T, page *template.Template, gatewayURL string) *pageServer {
	t.Helper()
	target, err := url.Parse(gatewayURL)
	require.NoError(t, err)
	return newPageServerWith(t, page, &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}})
}

// newPageServerWith starts a page server whose paths besides the page's own go to other (404
// when nil).
func newPageServerWith(t *testing.T, page *template.Template, other http.Handler) *pageServer {
	t.Helper()
	s := &pageServer{reports: make(chan json.RawMessage, 1)}
	mux := http.NewServeMux()
	if other != nil {
		mux.Handle("/", other)
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, s.data); err != nil {
			t.Errorf("render page: %v", err)
		}
	})
	handleReports(t, mux, "page", s.reports)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// handleReports takes the one report a page POSTs to /report (JSON) into reports, and answers
// Chromium's request for an icon, which keeps its log quiet.
func handleReports(t *testing.T, mux *http.ServeMux, who string, reports chan<- json.RawMessage) {
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || !json.Valid(body) {
			t.Errorf("%s sent an unreadable report %q: %v", who, body, err)
			return
		}
		select {
		case reports <- body:
		default:
			t.Errorf("%s reported twice: %s", who, body)
		}
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

// report renders the page with data, opens it in a headless Chromium and decodes what the page
// reports into v.
func (s *pageServer) report(t *testing.T, data any, v any) {
	t.Helper()
	s.reportAt(t, s.URL+"/", data, v)
}

// reportAt is report with the page opened at pageURL, which reaches this server by another name
// through the Chromium flags args (--host-resolver-rules).
func (s *pageServer) reportAt(t *testing.T, pageURL string, data any, v any, args ...string) {
	t.Helper()
	s.mu.Lock()
	s.data = data
	s.mu.Unlock()
	stop := openInChromium(t, pageURL, args...)
	defer stop()
	select {
	case body := <-s.reports:
		t.Logf("page at %s reported: %s", pageURL, body)
		require.NoError(t, json.Unmarshal(body, v))
	case <-time.After(60 * time.Second):
		t.Fatalf("the page at %s reported nothing within 60s", pageURL)
	}
}

// openInChromium runs a headless Chromium on pageURL in a process group of its own, with a
// throwaway profile, everything that would reach beyond this machine turned off and the flags
// args added; stop kills the whole group (Chromium forks renderer and helper processes) and
// waits for it.
func openInChromium(t *testing.T, pageURL string, args ...string) (stop func()) {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir()
	cmd := exec.Command(path, append(append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-proxy-server", "--user-data-dir=" + profile}, args...), pageURL)...)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("chromium (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
			}
			if t.Failed() {
				t.Logf("chromium output:\n%s", out.String())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// lockedBuffer collects a process's output, written from the goroutines exec starts.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
