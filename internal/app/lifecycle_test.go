package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestReadyzFollowsPostgres stops the database under a running service:
// /readyz says why it is not ready, /healthz stays up, and both recover
// when the database is back. Serial, like the other tests that stop
// something under a running service.
func TestReadyzFollowsPostgres(t *testing.T) {
	pg := testenv.MustCluster(t)
	e := newEnv(t, pg.URL)
	anon := e.Anonymous()
	r := anon.Get("/readyz")
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)

	pg.Stop()
	require.Eventually(t, func() bool {
		r = anon.Get("/readyz")
		return r.Status == http.StatusServiceUnavailable
	}, 20*time.Second, 100*time.Millisecond)
	m := r.JSON(t)
	require.Equal(t, "unavailable", m["status"])
	require.Contains(t, m["reason"], "database")
	require.Equal(t, http.StatusOK, anon.Get("/healthz").Status, "the process itself is alive")

	pg.Start()
	require.Eventually(t, func() bool { return anon.Get("/readyz").Status == http.StatusOK }, 30*time.Second, 100*time.Millisecond)
	require.Equal(t, http.StatusOK, e.Owner.Get(e.Path("/Accounts")).Status, "requests work again")
}

// TestShutdownDrainFailsReadinessFirst: with SHUTDOWN_DRAIN set, a shutdown
// first turns /readyz to 503 while requests are still answered, and only
// then closes the listener. Serial: it must get an answer within the 2s
// drain, which a loaded machine could miss.
func TestShutdownDrainFailsReadinessFirst(t *testing.T) {
	e := newAppEnv(t, testenv.AppOptions{Env: map[string]string{"SHUTDOWN_DRAIN": "2s"}})
	a := e.App
	anon := e.Anonymous()
	require.Equal(t, http.StatusOK, anon.Get("/readyz").Status)

	a.Stop()
	r := anon.Get("/readyz")
	require.Eventually(t, func() bool { r = anon.Get("/readyz"); return r.Status == http.StatusServiceUnavailable }, 5*time.Second, 20*time.Millisecond)
	require.Equal(t, "shutting down", r.JSON(t)["reason"])
	require.Equal(t, http.StatusOK, e.Owner.Get(e.Path("/Accounts")).Status, "requests are still served while draining")
	require.Eventually(t, func() bool {
		resp, err := http.Get(a.BaseURL + "/healthz")
		if err == nil {
			_ = resp.Body.Close()
		}
		return err != nil
	}, 10*time.Second, 50*time.Millisecond, "the listener closes once the drain ends")
}

// TestSIGTERMDrainsRequests runs the real binary under load and sends it
// SIGTERM: it exits 0 in time, and no request fails other than by finding
// the listener already closed. It runs with a drain, as production should:
// without one, a keep-alive connection the server closes as idle can meet
// a request the client is just sending on it, a race no HTTP server can
// rule out. Serial: it loads the binary from 8 goroutines, with deadlines
// of its own.
func TestSIGTERMDrainsRequests(t *testing.T) {
	temporal.Require(t)
	db := testenv.MustPostgres(t)
	bin, err := buildBinary()
	require.NoError(t, err)

	port, err := testenv.FreePort()
	require.NoError(t, err)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+db, "TEMPORAL_ADDRESS="+temporal.Address,
		"TASK_QUEUE="+testenv.RandomName("sigterm"), fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port),
		"PUBLIC_BASE_URL="+base, "SHUTDOWN_TIMEOUT=10s", "SHUTDOWN_DRAIN=1s", "LOG_LEVEL=warn")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The bootstrap banner gives the credentials.
	curl := regexp.MustCompile(`curl -s -u (SK[0-9a-f]{32}):([A-Za-z0-9]{32}) \S+/Organizations/(OR[0-9a-f]{32})/Accounts`)
	sc := bufio.NewScanner(stdout)
	var m []string
	for m == nil && sc.Scan() {
		m = curl.FindStringSubmatch(sc.Text())
	}
	require.NotNil(t, m, "no bootstrap banner")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	clientID, secret := m[1], m[2]
	require.Eventually(t, func() bool {
		r, err := http.Get(base + "/healthz")
		if err == nil {
			_ = r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond)

	var ok, refused, raced atomic.Int64
	var sigAt atomic.Int64 // unix nanos of the SIGTERM, 0 before
	var mu sync.Mutex
	var failures []string
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 15 * time.Second}
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodGet, base+"/Organizations/"+m[3]+"/Accounts", nil)
				req.SetBasicAuth(clientID, secret)
				started := time.Now().UnixNano()
				resp, err := hc.Do(req)
				switch {
				case err == nil:
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					} else {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("status %d", resp.StatusCode))
						mu.Unlock()
					}
				case errors.Is(err, syscall.ECONNREFUSED):
					refused.Add(1) // the listener is closed: expected after SIGTERM
					return
				case sigAt.Load() != 0 && started >= sigAt.Load():
					// Sent after SIGTERM, it raced the listener's close (a
					// connection still in the kernel's queue is dropped):
					// any server loses those. Requests sent before SIGTERM
					// must all be answered. The worker goes on until the
					// listener refuses it.
					raced.Add(1)
				default:
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					return
				}
			}
		}()
	}
	require.Eventually(t, func() bool { return ok.Load() > 200 }, 30*time.Second, 10*time.Millisecond, "no load")
	sigAt.Store(time.Now().UnixNano())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		require.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(20 * time.Second):
		t.Fatal("still running 20s after SIGTERM (SHUTDOWN_TIMEOUT is 10s)")
	}
	stop()
	wg.Wait()
	require.Empty(t, failures, "requests sent before SIGTERM failed, or failed other than at the listener's close: %s", strings.Join(failures, "; "))
	t.Logf("%d answered, %d refused after the close, %d raced the close", ok.Load(), refused.Load(), raced.Load())
	require.Greater(t, refused.Load(), int64(0), "the load ran until the listener closed")
}
