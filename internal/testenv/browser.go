package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium (`apt-get install chromium`), or the
// chromium on PATH; "" when there is none. Nothing here ever downloads a
// browser.
func ChromiumPath() string {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// BrowserFlags are the Chromium switches MustBrowser adds to chromedp's
// defaults (which already include headless, no-first-run,
// disable-background-networking and disable-sync). Only loopback names
// resolve, so the browser reaches nothing but the test's own servers: use
// 127.0.0.1 or localhost URLs (httptest.NewServer's are).
var BrowserFlags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox, // we run as root, where Chromium's sandbox cannot start
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-domain-reliability", true),
	chromedp.Flag("no-pings", true),
	chromedp.Flag("dns-prefetch-disable", true),
	chromedp.Flag("no-proxy-server", true),
	chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
	chromedp.WindowSize(1280, 800),
}

// MustBrowser starts a headless Chromium for the test and returns a chromedp
// context for one tab in it; the browser is closed and its fresh profile
// (in tb.TempDir()) removed when the test ends. The browser has already
// started, so a test may derive timeouts from the context:
//
//	ctx, cancel := context.WithTimeout(testenv.MustBrowser(t), 30*time.Second)
//	defer cancel()
//	err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.Click(chromedp.CSS("#confirm")))
//
// Under -short, and loudly without Chromium, the test is skipped (without
// Chromium under CI=true it fails). Set
// TEST_LOGS=1 to see the browser's own output.
func MustBrowser(tb testing.TB) context.Context {
	tb.Helper()
	SkipShort(tb, "Chromium")
	exe := ChromiumPath()
	if exe == "" {
		if InCI() {
			tb.Fatalf("Chromium is required under CI=true: no /usr/bin/chromium and no chromium on PATH (apt-get install chromium)")
		}
		tb.Skipf("SKIPPED: no Chromium (no /usr/bin/chromium, none on PATH); install it with `apt-get install chromium`")
	}
	profile := filepath.Join(tb.TempDir(), "chromium-profile")
	if err := os.Mkdir(profile, 0o700); err != nil {
		tb.Fatal(err)
	}
	out := io.Discard
	logf := func(string, ...any) {}
	if os.Getenv("TEST_LOGS") != "" {
		out = os.Stderr
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "chromedp: "+format+"\n", args...) }
	}
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), BrowserFlags...)
	opts = append(opts,
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	tb.Cleanup(func() {
		// Close the browser gracefully, then make sure its process is gone
		// before the profile directory is removed.
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(closeCtx)
		cancel()
		cancelCtx()
		cancelAlloc()
		removeAllRetry(profile, 5*time.Second)
	})
	// The first Do starts the browser; it must not carry a timeout, which
	// would stop the whole browser when it expired.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			tb.Fatalf("starting Chromium (%s): %v", exe, err)
		}
	case <-time.After(60 * time.Second):
		tb.Fatalf("Chromium (%s) did not start within 60s", exe)
	}
	return ctx
}

// removeAllRetry removes dir, retrying while Chromium's child processes may
// still be writing into it after the browser exited.
func removeAllRetry(dir string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for os.RemoveAll(dir) != nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}
