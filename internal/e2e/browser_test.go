package e2e

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
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
	s := &pageServer{reports: make(chan json.RawMessage, 1)}
	mux := http.NewServeMux()
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
	s.mu.Lock()
	s.data = data
	s.mu.Unlock()
	stop := openInChromium(t, s.URL+"/")
	defer stop()
	select {
	case body := <-s.reports:
		t.Logf("page at %s reported: %s", s.URL, body)
		require.NoError(t, json.Unmarshal(body, v))
	case <-time.After(60 * time.Second):
		t.Fatalf("the page at %s reported nothing within 60s", s.URL)
	}
}

// openInChromium runs a headless Chromium on url in a process group of its own, with a throwaway
// profile and everything that would reach beyond this machine turned off; stop kills the whole
// group (Chromium forks renderer and helper processes) and waits for it.
func openInChromium(t *testing.T, url string) (stop func()) {
	t.Helper()
	path := chromiumPath(t)
	profile := t.TempDir()
	cmd := exec.Command(path,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-proxy-server", "--user-data-dir="+profile, url)
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
