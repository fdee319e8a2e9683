package testenv_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestBrowserConfirmFlow is the pattern of the confirmation-link tests: a GET
// shows a page with a form, clicking Confirm POSTs it, and the server's answer
// is the next page.
func TestBrowserConfirmFlow(t *testing.T) {
	var (
		mu    sync.Mutex
		posts []string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /confirm/{token}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><title>Confirm</title>
<h1>Confirm your email address</h1>
<form method="post" action="/confirm/%[1]s">
  <input type="hidden" name="token" value="%[1]s">
  <button id="confirm" type="submit">Confirm</button>
</form>`, html.EscapeString(r.PathValue("token")))
	})
	mux.HandleFunc("POST /confirm/{token}", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		posts = append(posts, r.PostForm.Get("token"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, `<!doctype html><title>Done</title><p id="result">Confirmed %s</p>`, html.EscapeString(r.PostForm.Get("token")))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(testenv.MustBrowser(t), 60*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/confirm/tok_123"),
		chromedp.WaitVisible(chromedp.CSS("#confirm")),
	); err != nil {
		t.Fatalf("opening the confirm page: %v", err)
	}
	mu.Lock()
	n := len(posts)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("the GET alone posted %d times", n)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Confirm your email address" {
		t.Fatalf("heading = %q, %v", heading, err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#confirm")),
		chromedp.WaitVisible(chromedp.CSS("#result")),
	); err != nil {
		t.Fatalf("clicking Confirm: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#result")))
	if err != nil || result != "Confirmed tok_123" {
		t.Fatalf("result page text = %q, %v", result, err)
	}
	mu.Lock()
	got := append([]string(nil), posts...)
	mu.Unlock()
	if len(got) != 1 || got[0] != "tok_123" {
		t.Fatalf("the server received POSTs %q, want one with token tok_123", got)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	file := filepath.Join(t.TempDir(), "confirmed.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(shot, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s is not a PNG (%d bytes)", file, len(shot))
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decoding screenshot %s: %v", file, err)
	}
	if b := img.Bounds(); b.Dx() == 0 || b.Dy() == 0 {
		t.Fatalf("screenshot %s is empty: %v", file, b)
	}
}

// TestBrowserReachesLocalhost: the browser resolves only loopback names, and
// localhost is one of them.
func TestBrowserReachesLocalhost(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `<!doctype html><p id="host">`+html.EscapeString(r.Host)+`</p>`)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(testenv.MustBrowser(t), 60*time.Second)
	defer cancel()
	u := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#host"))); err != nil {
		t.Fatalf("opening %s: %v", u, err)
	}
	host, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#host")))
	if err != nil || !strings.HasPrefix(host, "localhost:") {
		t.Fatalf("the server saw Host %q, %v", host, err)
	}
}
