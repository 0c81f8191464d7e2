package config

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/temporalhttp/gateway/internal/auth"
)

// Auth says who may use the gateway: API keys, bearer tokens, or (on loopback) anyone.
type Auth struct {
	// APIKeys are the keys of GATEWAY_API_KEYS and GATEWAY_API_KEYS_FILE together.
	APIKeys []auth.APIKey
	// JWT says how bearer tokens are verified (GATEWAY_JWT_*); nil when none are accepted.
	JWT *auth.JWTConfig
	// AllowUnauthenticated lets a gateway without credentials listen beyond loopback
	// (GATEWAY_ALLOW_UNAUTHENTICATED), for deployments behind a proxy that authenticates.
	AllowUnauthenticated bool
}

// Enabled says whether any credential is configured. Without, the gateway runs open.
func (a Auth) Enabled() bool { return len(a.APIKeys) > 0 || a.JWT != nil }

// auth reads the credentials the gateway accepts. A gateway without any may listen on
// httpAddr only when that is a loopback address, or when the operator says so: an open gateway
// reachable from the network would let anyone start and terminate workflows.
func (r *reader) auth(httpAddr string) Auth {
	a := Auth{AllowUnauthenticated: r.boolean("GATEWAY_ALLOW_UNAUTHENTICATED", false)}
	keys := apiKeySet{r: r}
	for i, entry := range strings.Split(r.getenv("GATEWAY_API_KEYS"), ",") {
		if strings.TrimSpace(entry) != "" {
			keys.add("GATEWAY_API_KEYS", fmt.Sprintf("entry %d", i+1), entry)
		}
	}
	if path := r.str("GATEWAY_API_KEYS_FILE", ""); path != "" {
		r.apiKeysFile(path, &keys)
	}
	a.APIKeys = keys.keys
	a.JWT = r.jwt()

	if !a.Enabled() && !a.AllowUnauthenticated && !loopback(httpAddr) {
		r.fail("GATEWAY_HTTP_ADDR", fmt.Sprintf("%q is reachable from other machines, but no credentials are configured: "+
			"set GATEWAY_API_KEYS, GATEWAY_API_KEYS_FILE, GATEWAY_JWT_KEY_FILE or GATEWAY_JWT_JWKS_FILE, "+
			"listen on 127.0.0.1, or set GATEWAY_ALLOW_UNAUTHENTICATED=true to run open on purpose", httpAddr))
	}
	return a
}

// apiKeysFile reads key entries one per line; blank lines and lines starting with # are skipped.
func (r *reader) apiKeysFile(path string, keys *apiKeySet) {
	const name = "GATEWAY_API_KEYS_FILE"
	data, err := os.ReadFile(path)
	if err != nil {
		r.fail(name, fmt.Sprintf("cannot be read: %v", err))
		return
	}
	entries := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entries++
		keys.add(name, fmt.Sprintf("line %d", n), line)
	}
	if err := sc.Err(); err != nil {
		r.fail(name, fmt.Sprintf("cannot be read: %v", err))
		return
	}
	if entries == 0 {
		// An empty key file most likely means a deployment mistake, not a wish to run open.
		r.fail(name, fmt.Sprintf("%s holds no key entries", path))
	}
}

// apiKeySet collects key entries, refusing two keys of one name (the log could not tell them
// apart) and one key under two names (which principal would it be?).
type apiKeySet struct {
	r      *reader
	keys   []auth.APIKey
	names  map[string]string
	hashes map[[sha256.Size]byte]string
}

func (s *apiKeySet) add(variable, where, entry string) {
	k, err := auth.ParseAPIKeyEntry(entry)
	if err != nil {
		s.r.fail(variable, fmt.Sprintf("%s: %v", where, err))
		return
	}
	if s.names == nil {
		s.names, s.hashes = map[string]string{}, map[[sha256.Size]byte]string{}
	}
	here := variable + " " + where
	if prev, ok := s.names[k.Name]; ok {
		s.r.fail(variable, fmt.Sprintf("%s: key name %q is already used by %s", where, k.Name, prev))
		return
	}
	if prev, ok := s.hashes[k.Hash]; ok {
		s.r.fail(variable, fmt.Sprintf("%s: key %q has the same hash as %s; mint one key per client", where, k.Name, prev))
		return
	}
	s.names[k.Name], s.hashes[k.Hash] = here, here
	s.keys = append(s.keys, k)
}

// jwt reads how bearer tokens are verified; nil when no key file is configured.
func (r *reader) jwt() *auth.JWTConfig {
	keyFile, jwksFile := r.str("GATEWAY_JWT_KEY_FILE", ""), r.str("GATEWAY_JWT_JWKS_FILE", "")
	cfg := auth.JWTConfig{
		Audience:    r.str("GATEWAY_JWT_AUDIENCE", ""),
		Issuer:      r.str("GATEWAY_JWT_ISSUER", ""),
		ScopePrefix: r.str("GATEWAY_JWT_SCOPE_PREFIX", ""),
	}
	switch {
	case keyFile != "" && jwksFile != "":
		r.fail("GATEWAY_JWT_JWKS_FILE", "cannot be combined with GATEWAY_JWT_KEY_FILE: put every key in one of them")
		return nil
	case keyFile == "" && jwksFile == "":
		for _, v := range []struct{ name, value string }{
			{"GATEWAY_JWT_AUDIENCE", cfg.Audience}, {"GATEWAY_JWT_ISSUER", cfg.Issuer}, {"GATEWAY_JWT_SCOPE_PREFIX", cfg.ScopePrefix},
		} {
			if v.value != "" {
				r.fail(v.name, "is set, but neither GATEWAY_JWT_KEY_FILE nor GATEWAY_JWT_JWKS_FILE is, so no token could be verified")
			}
		}
		return nil
	}
	name, path, parse := "GATEWAY_JWT_KEY_FILE", keyFile, auth.ParsePEMKeys
	if jwksFile != "" {
		name, path, parse = "GATEWAY_JWT_JWKS_FILE", jwksFile, auth.ParseJWKS
	}
	if cfg.Audience == "" {
		r.fail("GATEWAY_JWT_AUDIENCE", "is required with "+name+": without it a token minted for any other service would be accepted")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.fail(name, fmt.Sprintf("cannot be read: %v", err))
		return nil
	}
	if cfg.Keys, err = parse(data); err != nil {
		r.fail(name, fmt.Sprintf("%s: %v", path, err))
		return nil
	}
	return &cfg
}

// loopback says whether addr listens on this machine only: a loopback IP or `localhost`. An
// empty host (":8080") listens on every interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true // the address is refused on its own
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
