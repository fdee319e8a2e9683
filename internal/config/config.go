// Package config reads orgaccounts' configuration from the environment.
// Every variable has a default that makes `make run` work on one machine.
package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration.
type Config struct {
	DatabaseURL         string        // DATABASE_URL: postgres://…; empty for the embedded SQLite file
	DataDir             string        // DATA_DIR: where the SQLite file lives
	TemporalAddress     string        // TEMPORAL_ADDRESS
	TemporalNamespace   string        // TEMPORAL_NAMESPACE
	TemporalUIURL       string        // TEMPORAL_UI_URL: the Temporal Web UI the console links workflows to
	TaskQueue           string        // TASK_QUEUE
	HTTPAddr            string        // HTTP_ADDR
	PublicBaseURL       string        // PUBLIC_BASE_URL: used in links the service hands out
	TokenTTL            time.Duration // TOKEN_TTL
	SessionIdleTimeout  time.Duration // SESSION_IDLE_TIMEOUT
	SessionLifetime     time.Duration // SESSION_LIFETIME
	SignInFailures      int           // SIGN_IN_FAILURES
	SignInLockout       time.Duration // SIGN_IN_LOCKOUT
	MaxBodyBytes        int64         // MAX_BODY_BYTES
	ShutdownTimeout     time.Duration // SHUTDOWN_TIMEOUT
	ShutdownDrain       time.Duration // SHUTDOWN_DRAIN: /readyz fails this long before the listener closes
	LogLevel            slog.Level    // LOG_LEVEL: debug, info, warn, error
	LogFormat           string        // LOG_FORMAT: json or text
	BootstrapOrgName    string        // BOOTSTRAP_ORG_NAME
	BootstrapOwnerEmail string        // BOOTSTRAP_OWNER_EMAIL
	SMTPURL             string        // SMTP_URL: empty keeps email in the outbox
	MailFrom            string        // MAIL_FROM
	InvitationTTL       time.Duration // INVITATION_TTL
	ResendInterval      time.Duration // INVITATION_RESEND_INTERVAL
	RequestTTL          time.Duration // ACCOUNT_REQUEST_TTL
	SignUpsPerHour      int           // SIGNUP_RATE_PER_HOUR
	ClosureRetention    time.Duration // CLOSURE_RETENTION: how long a closed account is kept before its purge
	ReleasePacing       time.Duration // CLOSURE_RELEASE_PACING: wait before each release (tests)
	DNSResolver         string        // DNS_RESOLVER: host:port; empty for /etc/resolv.conf
	DomainCheck         time.Duration // DOMAIN_CHECK_INTERVAL
	DomainWindow        time.Duration // DOMAIN_VERIFICATION_WINDOW
	DomainRecheck       time.Duration // DOMAIN_RECHECK_INTERVAL
	DomainGrace         time.Duration // DOMAIN_GRACE_PERIOD
	OTLPEndpoint        string        // OTEL_EXPORTER_OTLP_ENDPOINT: tracing is off when empty
	ServiceName         string        // OTEL_SERVICE_NAME
	StickyCacheSize     int           // WORKER_STICKY_CACHE_SIZE: workflows a worker keeps in memory between tasks
	DebugAddr           string        // DEBUG_ADDR: net/http/pprof listener; off when empty
}

// Var documents one environment variable.
type Var struct{ Name, Default, Help string }

// Vars lists every variable with its default, in the order README shows.
var Vars = []Var{
	{"DATABASE_URL", "", "PostgreSQL URL (postgres://user@host:5432/db?sslmode=disable). Empty: an embedded SQLite file in DATA_DIR."},
	{"DATA_DIR", "./data", "Directory of the embedded SQLite file (orgaccounts.db)."},
	{"TEMPORAL_ADDRESS", "127.0.0.1:7233", "Temporal frontend host:port."},
	{"TEMPORAL_NAMESPACE", "default", "Temporal namespace."},
	{"TEMPORAL_UI_URL", "", "Temporal Web UI base URL the console links each workflow to. Empty: for a loopback TEMPORAL_ADDRESS, the dev server's UI (its port + 1000, so http://localhost:8233 by default); otherwise no links."},
	{"TASK_QUEUE", "orgaccounts", "Task queue the worker polls and the API starts workflows on."},
	{"HTTP_ADDR", ":8080", "Address the API listens on."},
	{"PUBLIC_BASE_URL", "http://localhost:8080", "Base URL used in links the API returns (page URLs, creation links); unset, http://localhost on HTTP_ADDR's port."},
	{"TOKEN_TTL", "1h", "Lifetime of bearer tokens issued by POST /v1/token."},
	{"SESSION_IDLE_TIMEOUT", "1h", "A console session unused this long ends."},
	{"SESSION_LIFETIME", "12h", "A console session ends this long after sign-in, used or not."},
	{"SIGN_IN_FAILURES", "10", "Failed sign-ins for one email within SIGN_IN_LOCKOUT before it is locked out (five times as many for one client address); asks for a reset link are limited the same way."},
	{"SIGN_IN_LOCKOUT", "15m", "The window failures are counted in. A lockout lasts the rest of it; each one that follows before the email or address has been quiet as long lasts twice as long as the one before, at most 16 windows."},
	{"MAX_BODY_BYTES", "65536", "Largest request body accepted."},
	{"SHUTDOWN_TIMEOUT", "20s", "How long SIGINT/SIGTERM waits for requests and activities in flight."},
	{"SHUTDOWN_DRAIN", "0s", "On SIGINT/SIGTERM, how long /readyz answers 503 (and requests are still served) before the listener closes, so a load balancer stops sending traffic first."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"LOG_FORMAT", "json", "json or text."},
	{"BOOTSTRAP_ORG_NAME", "Example Organization", "Name of the organization created on first start."},
	{"BOOTSTRAP_OWNER_EMAIL", "owner@example.com", "Email of its owner; its domain becomes the organization's first verified domain."},
	{"SMTP_URL", "", "SMTP server for email (smtp://user:pass@host:587, ?tls=none|starttls|opportunistic; smtps:// for TLS). Empty: email stays in the outbox table and each link is printed to the log."},
	{"MAIL_FROM", "orgaccounts <no-reply@localhost>", "From address of the emails."},
	{"INVITATION_TTL", "168h", "How long an emailed invitation link lives (a resend restarts it)."},
	{"INVITATION_RESEND_INTERVAL", "1m", "Least time between two sends of one invitation (at most 5 resends in all)."},
	{"ACCOUNT_REQUEST_TTL", "360h", "How long an account's owner has to answer an import or share request (a reminder is emailed half-way)."},
	{"SIGNUP_RATE_PER_HOUR", "20", "Sign-ups (POST /v1/Accounts) allowed per client IP per hour."},
	{"CLOSURE_RETENTION", "720h", "How long a closed account's data is kept, and the account may be reopened, before it is purged."},
	{"CLOSURE_RELEASE_PACING", "0s", "Pause (0s to 1s) before each number release or charge stop of a closure; 0 in production (tests slow closures down to watch them midway)."},
	{"DNS_RESOLVER", "", "DNS server (host:port) asked for domain verification records. Empty: the nameservers of /etc/resolv.conf."},
	{"DOMAIN_CHECK_INTERVAL", "5m", "How often a pending domain's TXT record is looked up."},
	{"DOMAIN_VERIFICATION_WINDOW", "72h", "How long a pending domain is checked before it fails."},
	{"DOMAIN_RECHECK_INTERVAL", "24h", "How often a verified domain's record is looked up again."},
	{"DOMAIN_GRACE_PERIOD", "720h", "How long a verified domain's record may stay missing before the domain is removed."},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP collector base URL (http://collector:4318). Empty: tracing off."},
	{"OTEL_SERVICE_NAME", "orgaccounts", "service.name on the spans."},
	{"WORKER_STICKY_CACHE_SIZE", "500", "Most workflows a worker process keeps in memory between their tasks; the others (waiting invitations, requests, retention timers) are replayed from their history when their next event comes."},
	{"DEBUG_ADDR", "", "host:port of a net/http/pprof listener for profiling (a bare :port listens on 127.0.0.1 only). Empty: off. Never expose it publicly."},
}

// FromEnv reads the configuration through getenv (os.Getenv in main).
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	c := Config{
		DatabaseURL:         get("DATABASE_URL"),
		DataDir:             get("DATA_DIR"),
		TemporalAddress:     get("TEMPORAL_ADDRESS"),
		TemporalNamespace:   get("TEMPORAL_NAMESPACE"),
		TemporalUIURL:       strings.TrimRight(get("TEMPORAL_UI_URL"), "/"),
		TaskQueue:           get("TASK_QUEUE"),
		HTTPAddr:            get("HTTP_ADDR"),
		PublicBaseURL:       strings.TrimRight(get("PUBLIC_BASE_URL"), "/"),
		LogFormat:           get("LOG_FORMAT"),
		BootstrapOrgName:    get("BOOTSTRAP_ORG_NAME"),
		BootstrapOwnerEmail: get("BOOTSTRAP_OWNER_EMAIL"),
		SMTPURL:             get("SMTP_URL"),
		DNSResolver:         get("DNS_RESOLVER"),
		MailFrom:            get("MAIL_FROM"),
		OTLPEndpoint:        strings.TrimRight(get("OTEL_EXPORTER_OTLP_ENDPOINT"), "/"),
		ServiceName:         get("OTEL_SERVICE_NAME"),
	}
	if strings.TrimSpace(getenv("PUBLIC_BASE_URL")) == "" {
		// Unset, the base URL follows the port the API listens on, so
		// the links and the printed curl reach it.
		if _, port, err := net.SplitHostPort(c.HTTPAddr); err == nil && port != "" && port != "0" {
			c.PublicBaseURL = "http://localhost:" + port
		}
	}
	if c.TemporalUIURL == "" {
		c.TemporalUIURL = devServerUI(c.TemporalAddress)
	}
	var errs []string
	dur := func(name string, dst *time.Duration) {
		d, err := time.ParseDuration(get(name))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Sprintf("%s must be a positive duration such as 30s", name))
		}
		*dst = d
	}
	dur("TOKEN_TTL", &c.TokenTTL)
	dur("SESSION_IDLE_TIMEOUT", &c.SessionIdleTimeout)
	dur("SESSION_LIFETIME", &c.SessionLifetime)
	dur("SIGN_IN_LOCKOUT", &c.SignInLockout)
	dur("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	if d, err := time.ParseDuration(get("SHUTDOWN_DRAIN")); err != nil || d < 0 {
		errs = append(errs, "SHUTDOWN_DRAIN must be a duration such as 5s (0s: none)")
	} else {
		c.ShutdownDrain = d
	}
	dur("INVITATION_TTL", &c.InvitationTTL)
	dur("INVITATION_RESEND_INTERVAL", &c.ResendInterval)
	dur("ACCOUNT_REQUEST_TTL", &c.RequestTTL)
	if v, err := strconv.Atoi(get("SIGN_IN_FAILURES")); err != nil || v < 1 {
		errs = append(errs, "SIGN_IN_FAILURES must be a positive integer")
	} else {
		c.SignInFailures = v
	}
	if v, err := strconv.Atoi(get("SIGNUP_RATE_PER_HOUR")); err != nil || v < 1 {
		errs = append(errs, "SIGNUP_RATE_PER_HOUR must be a positive integer")
	} else {
		c.SignUpsPerHour = v
	}
	dur("CLOSURE_RETENTION", &c.ClosureRetention)
	if d, err := time.ParseDuration(get("CLOSURE_RELEASE_PACING")); err != nil || d < 0 || d > time.Second {
		errs = append(errs, "CLOSURE_RELEASE_PACING must be a duration from 0s to 1s")
	} else {
		c.ReleasePacing = d
	}
	dur("DOMAIN_CHECK_INTERVAL", &c.DomainCheck)
	dur("DOMAIN_VERIFICATION_WINDOW", &c.DomainWindow)
	dur("DOMAIN_RECHECK_INTERVAL", &c.DomainRecheck)
	dur("DOMAIN_GRACE_PERIOD", &c.DomainGrace)
	if v, err := strconv.Atoi(get("WORKER_STICKY_CACHE_SIZE")); err != nil || v < 1 {
		errs = append(errs, "WORKER_STICKY_CACHE_SIZE must be a positive integer")
	} else {
		c.StickyCacheSize = v
	}
	if c.DebugAddr = get("DEBUG_ADDR"); c.DebugAddr != "" {
		host, port, err := net.SplitHostPort(c.DebugAddr)
		if err != nil || port == "" {
			errs = append(errs, "DEBUG_ADDR must be host:port, such as 127.0.0.1:6060 (or empty: off)")
		} else if host == "" {
			c.DebugAddr = net.JoinHostPort("127.0.0.1", port)
		}
	}
	if c.DNSResolver != "" {
		if host, port, err := net.SplitHostPort(c.DNSResolver); err != nil || host == "" || port == "" {
			errs = append(errs, "DNS_RESOLVER must be host:port, such as 127.0.0.1:53 (or empty for /etc/resolv.conf)")
		}
	}
	n, err := strconv.ParseInt(get("MAX_BODY_BYTES"), 10, 64)
	if err != nil || n < 1024 {
		errs = append(errs, "MAX_BODY_BYTES must be an integer of at least 1024")
	}
	c.MaxBodyBytes = n
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		errs = append(errs, "LOG_LEVEL must be debug, info, warn or error")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, "LOG_FORMAT must be json or text")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, "DATABASE_URL must start with postgres:// (or be empty for the embedded SQLite file)")
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, "PUBLIC_BASE_URL must be an http(s) URL")
	}
	if c.TemporalUIURL != "" {
		if u, err := url.Parse(c.TemporalUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, "TEMPORAL_UI_URL must be an http(s) URL")
		}
	}
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, "OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL")
		}
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// devServerUI is the Web UI of a Temporal dev server on a loopback
// address: its frontend port + 1000 (`temporal server start-dev`'s
// default). Any other address has no UI we can guess.
func devServerUI(address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return ""
	}
	n, err := strconv.Atoi(port)
	if err != nil || n+1000 > 65535 {
		return ""
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ""
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(n+1000))
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "orgaccounts.db") }
