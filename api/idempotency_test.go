package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// claimStore keeps idempotency claims; its answers are never stored, as
// when the process dies before it can store one.
type claimStore struct {
	domain.Store
	mu   sync.Mutex
	recs map[string]domain.IdempotencyRecord
	now  func() time.Time
}

func (s *claimStore) BeginIdempotent(_ context.Context, rec domain.IdempotencyRecord) (domain.IdempotencyRecord, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.recs[rec.OrganizationSid+"/"+rec.Key]; ok {
		return old, false, nil
	}
	rec.DateCreated = s.now()
	s.recs[rec.OrganizationSid+"/"+rec.Key] = rec
	return rec, true, nil
}

func (s *claimStore) CompleteIdempotent(context.Context, string, string, int, []byte, map[string]string) error {
	return nil
}

func (s *claimStore) ReleaseIdempotent(context.Context, string, string) error { return nil }

type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

// TestIdempotencySIDSeed: a keyed request retried after its first attempt
// died mints the same SIDs in the use cases (which read the request
// context), so it makes the same resource rather than a twin; another key,
// or no key, mints others.
func TestIdempotencySIDSeed(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	st := &claimStore{recs: map[string]domain.IdempotencyRecord{}, now: clock.Now}
	s := &server{store: st, clock: clock, log: slog.New(slog.DiscardHandler)}
	r := gin.New()
	r.Use(func(c *gin.Context) {
		edge.SetPrincipal(c, domain.Principal{OrganizationSid: "OR00000000000000000000000000000001"})
	}, s.idempotency)
	r.POST("/Users", func(c *gin.Context) {
		// What a service does: lifecycle's newSID on the request context.
		c.String(http.StatusCreated, lifecycle.NewSID(c.Request.Context(), domain.SystemClock{}, domain.PrefixUser))
	})
	post := func(key string) string {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, "/Users", strings.NewReader(""))
		if key != "" {
			req.Header.Set(IdempotencyHeader, key)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			t.Fatalf("POST with key %q: %d %s", key, w.Code, w.Body)
		}
		return w.Body.String()
	}

	first := post("k1")
	clock.t = clock.t.Add(staleClaim + time.Second) // the first attempt never answered
	if retry := post("k1"); retry != first {
		t.Fatalf("the retry minted %s, the first attempt %s: a twin", retry, first)
	}
	if other := post("k2"); other == first {
		t.Fatalf("another key minted the same SID %s", other)
	}
	if a, b := post(""), post(""); a == b || a == first {
		t.Fatalf("requests without a key minted %s and %s", a, b)
	}
}

// Every keyed command's route says what it asks of its caller, so a
// replay is authorized as the command itself would be.
func TestEveryPOSTRouteHasAReplayPermission(t *testing.T) {
	engine, ok := NewHandler(Config{Logger: slog.New(slog.DiscardHandler)}).(interface{ Routes() gin.RoutesInfo })
	if !ok {
		t.Fatal("NewHandler's handler does not list its routes")
	}
	n := 0
	for _, r := range engine.Routes() {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/Organizations/:org/") {
			continue
		}
		n++
		if _, ok := replayPermissions[r.Path]; !ok {
			t.Errorf("POST %s has no entry in replayPermissions", r.Path)
		}
	}
	if n == 0 {
		t.Fatal("no POST routes under an organization")
	}
}
