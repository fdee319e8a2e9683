package console_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/console"
	"github.com/orgaccounts/orgaccounts/api/edge"
)

func TestAssetsAreServedFromTheBinary(t *testing.T) {
	h := console.New(nil, console.Options{})
	r := gin.New()
	r.Use(edge.ErrorWriter(slog.New(slog.DiscardHandler)))
	h.RegisterAssets(r)
	for path, want := range map[string]string{
		"/console/assets/console.css": "text/css",
		"/console/assets/console.js":  "javascript",
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), want) {
			t.Errorf("GET %s: %d %q, want 200 %s", path, w.Code, w.Header().Get("Content-Type"), want)
		}
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/console/assets/htmx.min.js", nil))
	if got, want := w.Code == http.StatusOK, h.HasHTMX(); got != want {
		t.Errorf("htmx served: %v, but the build has it: %v", got, want)
	}
	w = httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/console/assets/nothing.js", nil))
	if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Errorf("GET an unknown asset: %d %q, want a 404 page", w.Code, w.Header().Get("Content-Type"))
	}
}
