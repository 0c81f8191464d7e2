package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/temporalhttp/gateway/internal/auth"
)

const apiKeyUsage = "usage: server apikey <name> <scopes>, such as: server apikey ci read+start (scopes: read, start, schedule, admin)"

// runAPIKey mints an API key: `server apikey <name> <scopes>`. It prints the key, which only the
// client keeps, and the entry that configures the gateway, which holds only the key's hash. The
// key is shown this once; nothing stores it.
func runAPIKey(args []string, stdout io.Writer) error {
	if len(args) != 2 {
		return errors.New(apiKeyUsage)
	}
	scopes, err := auth.ParseScopes(args[1])
	if err != nil {
		return fmt.Errorf("%w\n%s", err, apiKeyUsage)
	}
	key, entry, err := auth.NewAPIKey(args[0], scopes)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, apiKeyUsage)
	}
	_, err = fmt.Fprintf(stdout, `key:   %s
entry: %s

Give the key to the client, which sends it in the X-API-Key header; it is not shown again.
Add the entry to GATEWAY_API_KEYS (comma-separated) or as a line of GATEWAY_API_KEYS_FILE.
`, key, entry.Entry())
	return err
}
