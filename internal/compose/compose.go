// Package compose reads docker-compose.yml as Compose would: its variables interpolated, then its
// services. The deployment checks (deploy/) read it to hold the file to what the docs say, and the
// local cluster (internal/cluster) reads the gateway's and worker's environment from it, so that
// the stack the tests run and the file users deploy cannot drift apart.
package compose

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Service is what the project's checks read of one Compose service.
type Service struct {
	Image         string
	Build         *struct{ Context, Target string }
	ContainerName string `yaml:"container_name"`
	Restart       string
	Entrypoint    []string
	Command       []string
	Environment   map[string]string
	Ports         []string
	Volumes       []string
	DependsOn     map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck   *struct{ Test []string }
}

// OneShot says whether the service is a job that runs to completion rather than a server.
func (s Service) OneShot() bool { return s.Restart == "" }

// Load reads the Compose file at path, interpolated with env, and returns its services by name.
func Load(path string, env map[string]string) (map[string]Service, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text, err := Interpolate(string(data), env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var file struct{ Services map[string]Service }
	if err := yaml.Unmarshal([]byte(text), &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(file.Services) == 0 {
		return nil, fmt.Errorf("%s: no services", path)
	}
	return file.Services, nil
}

// variable is one $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message},
// ${NAME?message}, ${NAME:+alternative} or ${NAME+alternative} in a Compose file, or an escaped $$.
var variable = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Interpolate substitutes variables as Compose does, from env. A missing required variable is a
// *MissingError naming it.
func Interpolate(s string, env map[string]string) (string, error) {
	var missing []string
	out := variable.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		g := variable.FindStringSubmatch(m)
		name, op, arg := g[1], g[2], g[3]
		if name == "" { // $NAME
			return env[g[4]]
		}
		v, set := env[name]
		// With a colon, an empty value counts as unset.
		present := set && (!strings.HasPrefix(op, ":") || v != "")
		switch {
		case strings.HasSuffix(op, "-") && !present:
			return arg
		case strings.HasSuffix(op, "?") && !present:
			missing = append(missing, name)
		case strings.HasSuffix(op, "+"):
			if present {
				return arg
			}
			return ""
		}
		return v
	})
	if len(missing) > 0 {
		return "", &MissingError{Names: missing}
	}
	return out, nil
}

// MissingError names the required variables that were not set.
type MissingError struct{ Names []string }

func (e *MissingError) Error() string { return "required: " + strings.Join(e.Names, ", ") }
