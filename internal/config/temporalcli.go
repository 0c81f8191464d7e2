package config

import "os"

// TemporalCLI says where to find the Temporal CLI that runs the development server, for the
// launcher (cmd/dev), the benchmark (cmd/bench) and the end-to-end tests; no deployable reads it.
type TemporalCLI struct {
	// Path is a `temporal` binary to use instead of the pinned build (TEMPORAL_CLI); empty means
	// the pinned build in CacheDir, else `temporal` on PATH, else build the pinned version.
	Path string
	// CacheDir is where the pinned build is kept (TEMPORAL_HTTP_CACHE); empty means temporalhttp
	// in the user's cache directory, which is looked up only when the cache is needed.
	CacheDir string
}

// LoadTemporalCLI reads where the Temporal CLI is. A TEMPORAL_CLI that names no file stops the
// command at start rather than when the dev server would be started.
func LoadTemporalCLI(getenv func(string) string) (TemporalCLI, error) {
	r := reader{getenv: getenv}
	cfg := r.temporalCLI()
	return cfg, r.err()
}

func (r *reader) temporalCLI() TemporalCLI {
	cfg := TemporalCLI{
		Path:     r.str("TEMPORAL_CLI", ""),
		CacheDir: r.str("TEMPORAL_HTTP_CACHE", ""),
	}
	if cfg.Path != "" {
		if info, err := os.Stat(cfg.Path); err != nil {
			r.fail("TEMPORAL_CLI", "names no file: "+err.Error())
		} else if info.IsDir() {
			r.fail("TEMPORAL_CLI", "names a directory, not the temporal binary")
		}
	}
	return cfg
}
