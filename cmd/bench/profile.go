package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/temporalhttp/gateway/internal/devserver"
)

// pprofSource is added to the gateway's main package, for a profiled run only, through a build
// overlay: the checkout stays as it is, and the gateway the benchmark measures otherwise is the
// one that ships. It serves net/http/pprof on its own loopback listener, never on the API's. The
// listener's address (a %q verb) is written into the source, so that the gateway reads no
// setting that only the benchmark knows.
const pprofSource = `package main

import (
	"net/http"
	_ "net/http/pprof"
)

func init() {
	go func() { _ = http.ListenAndServe(%q, nil) }()
}
`

// buildOverlay writes the `go build -overlay` file of the run into dir and returns its path:
// the replacements of the user's overlay file (-overlay, to measure a change to the gateway
// without editing the checkout), plus pprofSource in cmd/server, serving on pprofAddr, when that
// is set. It returns "" when there is nothing to overlay.
func buildOverlay(dir, userOverlay, pprofAddr string) (string, error) {
	var overlay struct{ Replace map[string]string }
	if userOverlay != "" {
		data, err := os.ReadFile(userOverlay)
		if err != nil {
			return "", err
		}
		if err := json.Unmarshal(data, &overlay); err != nil {
			return "", fmt.Errorf("-overlay %s: %w", userOverlay, err)
		}
	}
	if overlay.Replace == nil {
		overlay.Replace = map[string]string{}
	}
	if pprofAddr != "" {
		root, err := devserver.RepoRoot()
		if err != nil {
			return "", err
		}
		src := filepath.Join(dir, "bench_pprof.go")
		if err := os.WriteFile(src, fmt.Appendf(nil, pprofSource, pprofAddr), 0o644); err != nil {
			return "", err
		}
		overlay.Replace[filepath.Join(root, "cmd", "server", "zz_bench_pprof.go")] = src
	}
	if len(overlay.Replace) == 0 {
		return "", nil
	}
	data, err := json.Marshal(overlay)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "overlay.json")
	return path, os.WriteFile(path, data, 0o644)
}

// captureProfile fetches a CPU profile of the gateway over d into file; wait returns once it is
// written.
func captureProfile(ctx context.Context, addr string, d time.Duration, file string) (wait func() error) {
	done := make(chan error, 1)
	go func() {
		seconds := int(math.Max(1, math.Floor(d.Seconds())))
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("GET %s: %s", url, resp.Status)
			return
		}
		f, err := os.Create(file)
		if err != nil {
			done <- err
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			done <- err
			return
		}
		done <- f.Close()
	}()
	return func() error { return <-done }
}

// fetchProfile saves one of the gateway's pprof profiles (heap, goroutine) as it is now.
func fetchProfile(ctx context.Context, addr, name, file string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/%s", addr, name), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
