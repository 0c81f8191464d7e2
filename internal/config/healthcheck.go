package config

// Healthcheck is the configuration of a `healthcheck` subcommand (`server healthcheck`,
// `worker healthcheck`): where the process beside it listens. It is read as that process reads
// it, and nothing else is: the full configuration loads key and certificate files, which a probe
// run every few seconds has no use for.
type Healthcheck struct {
	// Addr is the listen address to probe; a wildcard host is probed on loopback.
	Addr string
}

// LoadGatewayHealthcheck reads where the gateway listens (GATEWAY_HTTP_ADDR, with its default).
func LoadGatewayHealthcheck(getenv func(string) string) (Healthcheck, error) {
	r := reader{getenv: getenv}
	cfg := Healthcheck{Addr: r.httpAddr()}
	return cfg, r.err()
}

// LoadWorkerHealthcheck reads where the worker serves its health (WORKER_METRICS_ADDR), which
// must be set: without it the worker serves no health endpoint to probe.
func LoadWorkerHealthcheck(getenv func(string) string) (Healthcheck, error) {
	r := reader{getenv: getenv}
	cfg := Healthcheck{Addr: r.metricsAddr()}
	if cfg.Addr == "" {
		r.fail("WORKER_METRICS_ADDR", "is not set, so the worker serves no health endpoint to probe")
	}
	return cfg, r.err()
}
