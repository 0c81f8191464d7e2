package config

import (
	"net"
	"path/filepath"
	"strconv"
)

// Dev is the configuration of the local launcher (cmd/dev), which runs a Temporal dev server, the
// worker and the gateway in one process. The gateway and the worker read the same variables as
// when deployed, with readable logs by default (LOG_FORMAT text).
type Dev struct {
	Gateway Gateway
	// Worker's BankFile defaults to bank.json in DataDir, so that a transfer which survives a
	// restart of the launcher (its history is in the dev server's database) finds the withdrawal
	// it made.
	Worker Worker
	// CLI says where the Temporal CLI that runs the dev server is.
	CLI TemporalCLI
	// DataDir holds the dev server's database and log (DEV_DATA_DIR).
	DataDir string
	// UIPort is the Temporal Web UI's port (DEV_UI_PORT).
	UIPort int
	// TemporalHost and TemporalPort are where the dev server listens: TEMPORAL_ADDRESS, which the
	// gateway and the worker dial.
	TemporalHost string
	TemporalPort int
}

// Defaults of the launcher.
const (
	DefaultDevDataDir = ".dev"
	DefaultDevUIPort  = 8233
)

// LoadDev reads the launcher's configuration.
func LoadDev(getenv func(string) string) (Dev, error) {
	r := reader{getenv: func(name string) string {
		if v := getenv(name); v != "" || name != "LOG_FORMAT" {
			return v
		}
		return "text"
	}}
	cfg := Dev{
		Gateway: r.gateway(),
		Worker:  r.worker(),
		CLI:     r.temporalCLI(),
		DataDir: r.str("DEV_DATA_DIR", DefaultDevDataDir),
		UIPort:  r.port("DEV_UI_PORT", DefaultDevUIPort),
	}
	if cfg.Worker.BankFile == "" {
		cfg.Worker.BankFile = filepath.Join(cfg.DataDir, "bank.json")
	}
	// The gateway's reading has already refused an address that is not host:port.
	if host, port, err := net.SplitHostPort(cfg.Gateway.Temporal.Address); err == nil {
		cfg.TemporalHost = host
		if cfg.TemporalPort, err = strconv.Atoi(port); err != nil || !validPort(cfg.TemporalPort) {
			r.fail("TEMPORAL_ADDRESS", "must end in a port number from 1 to 65535: the launcher starts the dev server on it")
		}
	}
	return cfg, r.err()
}

func (r *reader) port(name string, def int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || !validPort(n) {
		r.fail(name, "must be a port number from 1 to 65535")
		return def
	}
	return n
}

func validPort(n int) bool { return n >= 1 && n <= 65535 }
