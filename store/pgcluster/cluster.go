// Package pgcluster starts a throwaway PostgreSQL cluster from the binaries on this machine.
// It is used by `portal dev` (when DATABASE_URL is unset) and by the test helper.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNoBinaries is returned when no initdb/pg_ctl can be found.
var ErrNoBinaries = errors.New("PostgreSQL is not installed: no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin. " +
	"Install it (Debian/Ubuntu: apt-get install -y postgresql) or set DATABASE_URL to a running server")

// runAsUser is the unprivileged account used when we run as root: PostgreSQL refuses to run as root.
const runAsUser = "postgres"

// Cluster is a local cluster living in Dir and listening on 127.0.0.1:Port.
type Cluster struct {
	Dir  string
	Port int
	bin  string
}

// URL is a connection string for database db as the superuser "postgres" (trust auth).
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// EnsureDatabase creates database name on the cluster unless it exists, and returns its URL.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) (string, error) {
	admin, err := sqlx.Open("postgres", c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close()
	var exists bool
	if err := admin.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		return "", fmt.Errorf("local PostgreSQL: %w", err)
	}
	if !exists {
		if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
			return "", fmt.Errorf("create database: %w", err)
		}
	}
	return c.URL(name), nil
}

// FindBinaries returns the folder holding initdb and pg_ctl: PATH first, then the newest
// /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Ensure creates the cluster in dir if needed and starts it if it is not running.
// The port is chosen once (preferring preferPort) and remembered in dir/port.
// A file lock serialises concurrent callers (parallel test packages).
func Ensure(dir string, preferPort int) (*Cluster, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	unlock, err := lockFile(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{Dir: dir, bin: bin}
	c.Port = readPort(filepath.Join(dir, "port"))
	if c.Port == 0 {
		c.Port = freePort(preferPort)
		if err := os.WriteFile(filepath.Join(dir, "port"), []byte(strconv.Itoa(c.Port)), 0o644); err != nil {
			return nil, fmt.Errorf("pgcluster: %w", err)
		}
	}
	pgdata := filepath.Join(dir, "pgdata")
	if !fileExists(filepath.Join(pgdata, "PG_VERSION")) {
		if err := c.initdb(pgdata); err != nil {
			return nil, err
		}
	}
	if c.answering() {
		return c, nil
	}
	return c, c.start(pgdata)
}

func (c *Cluster) initdb(pgdata string) error {
	_ = os.RemoveAll(pgdata)
	if err := os.MkdirAll(pgdata, 0o700); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	out, err := c.run("initdb", "-D", pgdata, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if err != nil {
		return fmt.Errorf("pgcluster: initdb failed: %v\n%s", err, out)
	}
	return nil
}

func (c *Cluster) start(pgdata string) error {
	if err := c.chown(c.Dir); err != nil {
		return err
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c max_connections=200 -c fsync=on",
		c.Port, pgdata)
	out, err := c.run("pg_ctl", "-D", pgdata, "-l", filepath.Join(c.Dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl start failed: %v\n%s\n(see %s)", err, out, filepath.Join(c.Dir, "postgres.log"))
	}
	for i := 0; i < 100 && !c.answering(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Stop stops the cluster (fast mode).
func (c *Cluster) Stop() error {
	out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "pgdata"), "-m", "fast", "-w", "stop")
	if err != nil {
		return fmt.Errorf("pgcluster: pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

func (c *Cluster) answering() bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), 300*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// run runs a PostgreSQL binary, as the unprivileged user when we are root.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", runAsUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.Dir
	return cmd.CombinedOutput()
}

// chown hands dir to the unprivileged user when we are root, creating that user if needed.
func (c *Cluster) chown(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(runAsUser)
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", runAsUser).CombinedOutput(); err != nil {
			return fmt.Errorf("pgcluster: cannot create user %s to run PostgreSQL (it refuses root): %v %s", runAsUser, err, out)
		}
		if u, err = user.Lookup(runAsUser); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// Every parent must be traversable by that user.
	for p := filepath.Dir(dir); p != "/"; p = filepath.Dir(p) {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(p, st.Mode().Perm()|0o011)
		}
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		return os.Lchown(p, uid, gid)
	})
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pgcluster: lock: %w", err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func readPort(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return p
}

func freePort(prefer int) int {
	for p := prefer; p < prefer+100; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return prefer
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
