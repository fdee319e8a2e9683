package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"testing"
)

// Cluster is a private PostgreSQL server a test may stop and start.
type Cluster struct {
	tb    testing.TB
	bin   string
	dir   string
	port  int
	URL   string
	runAs string
}

func pgBinDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Dir(resolved), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(dirs)
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("no initdb on PATH or in /usr/lib/postgresql/*/bin")
}

// MustCluster initdb's and starts a private PostgreSQL cluster on a free
// port (as the postgres user when running as root), stopped and removed
// when the test ends. Under -short, or without the server binaries, the
// test is skipped (without them under CI=true it fails).
func MustCluster(tb testing.TB) *Cluster {
	tb.Helper()
	SkipShort(tb, "a private PostgreSQL cluster")
	bin, err := pgBinDir()
	if err == nil && os.Geteuid() == 0 {
		if _, uerr := user.Lookup("postgres"); uerr != nil {
			err = fmt.Errorf("running as root and there is no postgres user to run the server as")
		}
	}
	if err != nil {
		if InCI() {
			tb.Fatalf("a private PostgreSQL cluster is required under CI=true: %v", err)
		}
		tb.Skipf("SKIPPED: cannot start a private PostgreSQL cluster: %v", err)
	}
	dir, err := os.MkdirTemp("", "orgaccounts-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	port, err := FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{tb: tb, bin: bin, dir: dir, port: port, URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
		if out, err := exec.Command("chown", "postgres", dir).CombinedOutput(); err != nil {
			tb.Fatalf("chown: %v: %s", err, out)
		}
	}
	c.run("initdb", "-D", filepath.Join(dir, "data"), "-U", "postgres", "-A", "trust")
	tb.Cleanup(func() {
		_ = c.command("pg_ctl", "-D", filepath.Join(dir, "data"), "-m", "immediate", "stop").Run()
		_ = os.RemoveAll(dir)
	})
	c.Start()
	return c
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(c.bin, name)
	if c.runAs != "" {
		return exec.Command("runuser", append([]string{"-u", c.runAs, "--", prog}, args...)...)
	}
	return exec.Command(prog, args...)
}

func (c *Cluster) run(name string, args ...string) {
	c.tb.Helper()
	if out, err := c.command(name, args...).CombinedOutput(); err != nil {
		c.tb.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.tb.Helper()
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir), "start")
}

// Stop stops the server at once, dropping its connections.
func (c *Cluster) Stop() {
	c.tb.Helper()
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop")
}
