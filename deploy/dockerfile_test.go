package deploy_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type instruction struct{ cmd, args string }

type stage struct {
	name, from string
	ins        []instruction
}

// readDockerfile splits ../Dockerfile into its stages, with continuation lines joined and
// comments dropped.
func readDockerfile(t *testing.T) []stage {
	t.Helper()
	f, err := os.Open(repoFile(t, "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	var stages []stage
	var line strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(text, "#") || (text == "" && line.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(text, `\`); ok {
			line.WriteString(cont + " ")
			continue
		}
		line.WriteString(text)
		cmd, args, _ := strings.Cut(line.String(), " ")
		line.Reset()
		ins := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if ins.cmd == "FROM" {
			from, name, _ := strings.Cut(ins.args, " AS ")
			stages = append(stages, stage{name: strings.TrimSpace(name), from: strings.TrimSpace(from)})
			continue
		}
		require.NotEmpty(t, stages, "%s before the first FROM", ins.cmd)
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, ins)
	}
	require.NoError(t, sc.Err())
	return stages
}

func stageNamed(t *testing.T, stages []stage, name string) stage {
	t.Helper()
	for _, s := range stages {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("the Dockerfile has no stage %q", name)
	return stage{}
}

// chain is the stage and the stages it is built FROM, nearest first.
func chain(t *testing.T, stages []stage, name string) []stage {
	t.Helper()
	var out []stage
	for s := stageNamed(t, stages, name); ; s = stageNamed(t, stages, s.from) {
		out = append(out, s)
		if !isStage(stages, s.from) {
			return out
		}
	}
}

func isStage(stages []stage, name string) bool {
	for _, s := range stages {
		if s.name == name {
			return true
		}
	}
	return false
}

// last is the args of the last instruction cmd in the chain, as a build would apply it.
func last(chain []stage, cmd string) string {
	for _, s := range chain {
		for i := len(s.ins) - 1; i >= 0; i-- {
			if s.ins[i].cmd == cmd {
				return s.ins[i].args
			}
		}
	}
	return ""
}

// env is the ENV the chain sets, outermost stage first so that nearer stages win.
func env(chain []stage) map[string]string {
	out := map[string]string{}
	for i := len(chain) - 1; i >= 0; i-- {
		for _, in := range chain[i].ins {
			if in.cmd == "ENV" {
				k, v, _ := strings.Cut(in.args, "=")
				out[k] = v
			}
		}
	}
	return out
}

// execForm parses a JSON-array (exec form) instruction argument; a shell-form one fails.
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var argv []string
	require.NoError(t, json.Unmarshal([]byte(args), &argv), "%s must be in exec form (a JSON array): the images have no shell", what)
	return argv
}

// pinned is an image reference with an exact version tag, such as golang:1.26.8-bookworm, and no
// registry host (the repository names none).
var pinned = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)?:(\d+\.\d+(?:\.\d+)?)(?:-[a-z0-9.]+)*$`)

func TestDockerfileStagesArePinned(t *testing.T) {
	stages := readDockerfile(t)
	for _, target := range []string{"gateway", "worker"} {
		stageNamed(t, stages, target)
	}
	for _, s := range stages {
		if s.from == "scratch" || isStage(stages, s.from) {
			continue
		}
		assert.Regexp(t, pinned, s.from, "stage %s: FROM an exact version tag, never latest, no registry host", s.name)
	}

	// The build image's Go is the one go.mod asks for.
	data, err := os.ReadFile(repoFile(t, "go.mod"))
	require.NoError(t, err)
	goDirective := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(data)
	require.NotNil(t, goDirective, "go.mod has a go directive")
	build := stageNamed(t, stages, "build")
	require.True(t, strings.HasPrefix(build.from, "golang:"), build.from)
	m := pinned.FindStringSubmatch(build.from)
	require.NotNil(t, m, build.from)
	assert.True(t, strings.HasPrefix(m[1], string(goDirective[1])+"."), "golang image %s, go.mod go %s", m[1], goDirective[1])
}

func TestDockerfileBuildStage(t *testing.T) {
	build := stageNamed(t, readDockerfile(t), "build")
	var order []string
	args := map[string]bool{}
	for _, in := range build.ins {
		switch in.cmd {
		case "COPY", "RUN":
			order = append(order, in.cmd+" "+in.args)
		case "ARG":
			assert.NotContains(t, in.args, "=", "ARG %s: no default, so that no proxy host is baked in", in.args)
			args[in.args] = true
		}
	}
	for _, name := range []string{"GOPROXY", "GONOSUMDB", "GOFLAGS"} {
		assert.True(t, args[name], "builders pass %s with --build-arg", name)
	}
	require.GreaterOrEqual(t, len(order), 4)
	assert.Equal(t, []string{"COPY go.mod go.sum ./", "RUN go mod download", "COPY . ."}, order[:3],
		"the module download is a layer of its own, cached until go.mod or go.sum change")

	assert.Equal(t, "0", env([]stage{build})["CGO_ENABLED"])
	goBuild := buildLine(t, build)
	for _, flag := range []string{"-trimpath", "-tags timetzdata", `-ldflags="-s -w"`, "./cmd/server", "./cmd/worker"} {
		assert.Contains(t, goBuild, flag)
	}
}

// buildLine is the RUN instruction of the build stage that runs `go build`.
func buildLine(t *testing.T, build stage) string {
	t.Helper()
	for _, in := range build.ins {
		if in.cmd == "RUN" && strings.HasPrefix(in.args, "go build ") {
			return in.args
		}
	}
	t.Fatal("the build stage has no RUN go build")
	return ""
}

// secretName matches variables that hold secrets; none may have a value in an image.
var secretName = regexp.MustCompile(`(?i)SECRET|PASSWORD|PWD|TOKEN|API_KEY|KEY_DATA|KEYS|HEADERS`)

func TestDockerfileRuntimeImages(t *testing.T) {
	stages := readDockerfile(t)
	for _, s := range stages {
		for _, in := range s.ins {
			if in.cmd == "ENV" || in.cmd == "ARG" {
				name, _, _ := strings.Cut(in.args, "=")
				assert.NotRegexp(t, secretName, name, "stage %s: no secret in an image", s.name)
			}
		}
	}
	for _, tc := range []struct{ target, binary, addrVar string }{
		{"gateway", "server", "GATEWAY_HTTP_ADDR"},
		{"worker", "worker", "WORKER_METRICS_ADDR"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			c := chain(t, stages, tc.target)
			assert.Equal(t, "scratch", c[len(c)-1].from, "nothing but the binary and the CA bundle")
			assert.Regexp(t, `^[1-9][0-9]*:[1-9][0-9]*$`, last(c, "USER"), "a numeric non-root user and group")

			var copies []string
			for _, s := range c {
				for _, in := range s.ins {
					if in.cmd == "COPY" {
						copies = append(copies, in.args)
					}
				}
			}
			assert.Contains(t, copies, "--from=build /out/"+tc.binary+" /"+tc.binary)
			assert.Contains(t, copies, "--from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt",
				"TLS to Temporal Cloud verifies the server against this bundle")

			assert.Equal(t, []string{"/" + tc.binary}, execForm(t, "ENTRYPOINT", last(c, "ENTRYPOINT")))
			health := last(c, "HEALTHCHECK")
			_, probe, ok := strings.Cut(health, "CMD ")
			require.True(t, ok, "HEALTHCHECK %q", health)
			assert.Equal(t, []string{"/" + tc.binary, "healthcheck"}, execForm(t, "HEALTHCHECK", probe))

			// The probe asks the port the process listens on, which the image exposes.
			addr := env(c)[tc.addrVar]
			_, port, err := net.SplitHostPort(addr)
			require.NoError(t, err, "%s=%q", tc.addrVar, addr)
			assert.Equal(t, port, last(c, "EXPOSE"))
		})
	}
}
