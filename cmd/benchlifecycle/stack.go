package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver "pgx"

	"github.com/orgaccounts/orgaccounts/workflows"
)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startDevServer starts a Temporal dev server (in memory) with the search
// attributes orgaccounts registers.
func startDevServer(ctx context.Context, bin string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	args := []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", strconv.Itoa(port), "--log-level", "error"}
	for _, k := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", k.GetName()+"=Keyword")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting the Temporal dev server (%s; `make temporal-cli` builds it): %w", bin, err)
	}
	return "127.0.0.1:" + strconv.Itoa(port), func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

// freshDatabase creates a database of its own on the PostgreSQL server of
// DATABASE_URL (or TEST_DATABASE_URL), dropped at the end.
func freshDatabase(ctx context.Context) (string, func(), error) {
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = os.Getenv("TEST_DATABASE_URL")
	}
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	name := "oa_bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("creating the benchmark's database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		_ = admin.Close()
	}, nil
}

// service is the `orgaccounts serve` process under test, and its
// organization's owner credential.
type service struct {
	cmd       *exec.Cmd
	base      string
	queue     string
	org       string
	id, token string
	hc        *http.Client
}

var (
	bootOrg    = regexp.MustCompile(`bootstrapped organization (OR[0-9a-f]{32})`)
	bootID     = regexp.MustCompile(`client id:\s+(\S+)`)
	bootSecret = regexp.MustCompile(`client secret:\s+(\S+)`)
)

// startService runs `orgaccounts serve` and waits for it to be ready.
func startService(ctx context.Context, bin, dbURL, temporalAddr string) (*service, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &service{base: "http://127.0.0.1:" + strconv.Itoa(port), queue: "bench-" + randomHex(4),
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 100}}}
	s.cmd = exec.CommandContext(ctx, bin, "serve")
	s.cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "TEMPORAL_ADDRESS="+temporalAddr, "TASK_QUEUE="+s.queue,
		"HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port), "PUBLIC_BASE_URL="+s.base, "LOG_LEVEL=error", "SMTP_URL=",
		"BOOTSTRAP_OWNER_EMAIL=owner@bench.example", "INVITATION_RESEND_INTERVAL=1s")
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s.cmd.Stderr = os.Stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (make build): %w", bin, err)
	}
	var mu sync.Mutex
	var printed bytes.Buffer
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			printed.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		mu.Lock()
		text := printed.String()
		mu.Unlock()
		if m, id, sec := bootOrg.FindStringSubmatch(text), bootID.FindStringSubmatch(text), bootSecret.FindStringSubmatch(text); m != nil && id != nil && sec != nil {
			s.org, s.id, s.token = m[1], id[1], sec[1]
			if resp, err := s.hc.Get(s.base + "/readyz"); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return s, nil
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("the service did not become ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *service) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// call sends one API request as the organization's owner and decodes the
// answer into out (when not nil).
func (s *service) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+"/Organizations/"+s.org+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth(s.id, s.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// waitFor polls the resource at path until its field has the value want.
func (s *service) waitFor(ctx context.Context, path, field string, want any) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var got map[string]any
		if err := s.call(ctx, http.MethodGet, path, nil, http.StatusOK, &got); err == nil && fmt.Sprint(got[field]) == fmt.Sprint(want) {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %s never became %v", path, field, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// usage is the process's resident memory and CPU time so far, from /proc.
func usage(pid int) (rssKiB int, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command's closing parenthesis: utime is the 12th,
	// stime the 13th, in clock ticks (100 per second on Linux).
	rest := string(stat)[strings.LastIndexByte(string(stat), ')')+2:]
	f := strings.Fields(rest)
	if len(f) < 13 {
		return rssKiB, 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return rssKiB, time.Duration(ut+st) * 10 * time.Millisecond, nil
}
