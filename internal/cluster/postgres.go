//go:build linux

package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// debianPostgresBin is where Debian's postgresql-15 package puts initdb and postgres, which it
// leaves off PATH.
const debianPostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is where the cluster's databases live.
type Postgres struct {
	Host     string
	Port     int
	User     string
	Password string
	// proc is the throwaway server the launcher runs, dir its data; nil and "" for an existing
	// PostgreSQL.
	proc *process
	dir  string
}

// existingPostgres uses a PostgreSQL that someone else runs.
func existingPostgres(u *url.URL) (*Postgres, error) {
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return nil, fmt.Errorf("CLUSTER_POSTGRES_URL port: %w", err)
	}
	pw, _ := u.User.Password()
	return &Postgres{Host: u.Hostname(), Port: port, User: u.User.Username(), Password: pw}, nil
}

// postgresBin finds the directory of initdb, postgres and pg_isready.
func postgresBin(dir string) (string, error) {
	candidates := []string{dir}
	if dir == "" {
		candidates = []string{debianPostgresBin}
		if p, err := exec.LookPath("postgres"); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
	}
	for _, c := range candidates {
		ok := c != ""
		for _, b := range []string{"initdb", "postgres", "pg_isready"} {
			if _, err := os.Stat(filepath.Join(c, b)); err != nil {
				ok = false
			}
		}
		if ok {
			return c, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, postgres, pg_isready): install them " +
		"(Debian/Ubuntu: `apt-get install postgresql`), set CLUSTER_POSTGRES_BIN to their directory, " +
		"or set CLUSTER_POSTGRES_URL to use an existing PostgreSQL")
}

// unprivileged is the user PostgreSQL runs as when the launcher is root, which PostgreSQL refuses
// to run as: the postgres system user, else nobody. It is nil when the launcher is not root.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 == nil && err2 == nil {
			// Groups nil: the supplementary groups are cleared, root's among them.
			return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
		}
	}
	return nil, errors.New("running as root, and PostgreSQL refuses root: no postgres or nobody user to run it as")
}

// startPostgres initialises a throwaway data directory and runs PostgreSQL on
// 127.0.0.1:port with trust authentication for the user temporal; it returns once the server
// accepts connections.
func startPostgres(ctx context.Context, binDir string, port int, logPath string) (*Postgres, error) {
	bin, err := postgresBin(binDir)
	if err != nil {
		return nil, err
	}
	cred, err := unprivileged()
	if err != nil {
		return nil, err
	}
	// Its own directory, not under dir: the user PostgreSQL runs as must reach it, and a test's
	// temporary directory sits under one only its owner may enter.
	root, err := os.MkdirTemp("", "cluster-postgres-")
	if err != nil {
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	data := filepath.Join(root, "data")
	const user = "temporal"
	// A password of this run only: any local user may connect over TCP, and the superuser could
	// run commands as the server's user.
	password, err := randomPassword()
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	pwfile := filepath.Join(root, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	var initOut bytes.Buffer
	// In its own directory: PostgreSQL returns to its working directory, which the user it runs
	// as may not enter (a checkout under /root).
	initdb, err := start("initdb", &initOut, cred, root, nil, filepath.Join(bin, "initdb"),
		"-D", data, "-U", user, "--auth=scram-sha-256", "--pwfile", pwfile, "-E", "UTF8", "--no-locale", "--no-sync")
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	select {
	case <-initdb.done:
	case <-ctx.Done():
		initdb.stop(syscall.SIGKILL, time.Second)
		os.RemoveAll(root)
		return nil, fmt.Errorf("initdb: %w", ctx.Err())
	}
	_ = os.Remove(pwfile)
	if err := os.WriteFile(logPath, initOut.Bytes(), 0o644); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if initdb.err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("initdb: %w\n%s", initdb.err, initOut.Bytes())
	}
	// Four services with up to 22 connections each, plus the schema tool: more than the default 100.
	// A throwaway database: nothing is worth an fsync on a slow CI disk, since only a crash of the
	// machine loses what the kernel holds unwritten. Commits stay synchronous: the fault tests kill
	// PostgreSQL, and without them a commit it acknowledged from its WAL buffers dies with it (a
	// start Temporal answered, then lost: seen with synchronous_commit=off).
	proc, err := startLogged("postgres", logPath, cred, root, nil, filepath.Join(bin, "postgres"),
		"-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", data, "-c", "max_connections=200",
		"-c", "fsync=off", "-c", "full_page_writes=off")
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	pg := &Postgres{Host: "127.0.0.1", Port: port, User: user, Password: password, proc: proc, dir: root}
	proc.ready = func(ctx context.Context, p *process) error {
		deadline := time.Now().Add(60 * time.Second)
		for {
			check := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"), "-q", "-h", pg.Host, "-p", strconv.Itoa(port))
			if check.Run() == nil {
				return nil
			}
			if done, err := p.exited(); done {
				return fmt.Errorf("postgres exited at start (%v); see postgres.log", err)
			}
			if ctx.Err() != nil || time.Now().After(deadline) {
				return errors.Join(ctx.Err(), errors.New("postgres did not accept connections within 60s"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if err := proc.ready(ctx, proc); err != nil {
		pg.stop()
		return nil, err
	}
	return pg, nil
}

// stop shuts down the throwaway server (SIGINT is PostgreSQL's fast shutdown); an existing
// PostgreSQL is left alone.
func (pg *Postgres) stop() {
	if pg != nil && pg.proc != nil {
		pg.proc.stop(syscall.SIGINT, 20*time.Second)
		_ = os.RemoveAll(pg.dir)
	}
}

func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make a PostgreSQL password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
