package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// rateLimiter is a token bucket per key (a client IP): n tokens, refilled
// evenly over per. It lives in memory, per API process.
type rateLimiter struct {
	mu      sync.Mutex
	n       float64
	per     time.Duration
	clock   domain.Clock
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(n int, per time.Duration, clock domain.Clock) *rateLimiter {
	return &rateLimiter{n: float64(n), per: per, clock: clock, buckets: map[string]*bucket{}}
}

// allow takes a token for key; when there is none it says how long until
// the next one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	rate := l.n / l.per.Seconds() // tokens per second
	if len(l.buckets) > 100_000 {
		// Forget the clients whose buckets have refilled: they are back
		// where a new client starts.
		for k, b := range l.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*rate >= l.n {
				delete(l.buckets, k)
			}
		}
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.n, at: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.n, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

type signUpRequest struct {
	Email        string `json:"email"`
	FriendlyName string `json:"friendly_name"`
}

// signUpJSON is the answer to a sign-up.
type signUpJSON struct {
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
	Kind         string `json:"kind"`
	OwnerSid     string `json:"owner_sid"`
	Email        string `json:"email"`
	DateCreated  string `json:"date_created"`
	// AuthToken is the owner's credential for the account, shown once:
	// only its hash is kept.
	AuthToken string `json:"auth_token"`
}

// signUp implements POST /v1/Accounts: anyone may create a standalone
// account and its owner, within a rate per client IP. No organization sees
// the account until it is imported or shared.
func (s *server) signUp(c *gin.Context) {
	if ok, wait := s.signUps.allow(c.ClientIP()); !ok {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		_ = c.Error(domain.Errorf(domain.ERateLimited, domain.CodeRateLimited, "too many sign-ups from this address; retry in %d s", int(math.Ceil(wait.Seconds()))))
		return
	}
	var req signUpRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	emailAddr, err := domain.NormalizeEmail("email", req.Email)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.ValidateFriendlyName("friendly_name", req.FriendlyName); err != nil {
		_ = c.Error(err)
		return
	}
	now := s.clock.Now()
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), UserName: emailAddr, Active: true}
	a := domain.Account{
		Sid: domain.NewSID(domain.PrefixAccount, now), FriendlyName: req.FriendlyName, Status: domain.AccountActive,
		Kind: domain.AccountStandalone, OwnerSid: owner.Sid, Require2FA: domain.NewAccountDefaults.Require2FA,
	}
	actor := domain.Actor{UserSid: owner.Sid, SourceIP: c.ClientIP(), RequestID: requestID(c)}
	authToken := domain.NewSecret(32)
	if err := s.store.SignUp(c.Request.Context(), a, owner, domain.HashSecret(authToken), domain.NewAuditEvent(actor, "", domain.EventAccountSignedUp, a.Sid,
		map[string]any{"email": emailAddr, "friendly_name": req.FriendlyName})); err != nil {
		_ = c.Error(err)
		return
	}
	stored, _, err := s.store.FindAnyAccount(c.Request.Context(), a.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store") // the answer holds a secret
	c.PureJSON(http.StatusCreated, signUpJSON{
		AccountSid: stored.Sid, FriendlyName: stored.FriendlyName, Status: stored.Status, Kind: stored.Kind,
		OwnerSid: owner.Sid, Email: emailAddr, DateCreated: rfc3339(stored.DateCreated), AuthToken: authToken,
	})
}
