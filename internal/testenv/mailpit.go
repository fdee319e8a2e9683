package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// MailpitVersion is the Mailpit that ./bin/mailpit is built from (see
// scripts/mailpit.sh). It is a tool, never a module requirement.
const MailpitVersion = "v1.33.1"

var (
	mailpitBuild    sync.Mutex
	mailpitBuildErr error // a failed build is not retried by every test
)

// MailpitBin returns ./bin/mailpit, building it from the Go module proxy when
// missing (a few minutes the first time).
func MailpitBin() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "mailpit")
	mailpitBuild.Lock()
	defer mailpitBuild.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if mailpitBuildErr != nil {
		return "", mailpitBuildErr
	}
	fmt.Fprintf(os.Stderr, "testenv: building Mailpit %s into ./bin (a few minutes, first time only)\n", MailpitVersion)
	cmd := exec.Command("go", "install", "github.com/axllent/mailpit@"+MailpitVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+filepath.Join(root, "bin"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		mailpitBuildErr = fmt.Errorf("building Mailpit %s: %w", MailpitVersion, err)
		return "", mailpitBuildErr
	}
	return bin, nil
}

// Mailpit is a real SMTP server whose mailbox a test reads over Mailpit's
// REST API. Every MustMailpit gets its own server and its own empty mailbox.
type Mailpit struct {
	// SMTPAddr and HTTPAddr are host:port on loopback.
	SMTPAddr string
	HTTPAddr string
	// APIURL is the base of the web UI and REST API, e.g. http://127.0.0.1:PORT.
	APIURL string

	client *http.Client
}

// MailSummary is one message in the mailbox listing.
type MailSummary struct {
	ID   string
	From string
	// Bare addresses of the To and Cc headers; Bcc also holds the envelope
	// recipients that no header names (Mailpit adds them there).
	To, Cc, Bcc []string
	Subject     string
	Created     time.Time // when Mailpit received it
}

// Recipients are To, Cc and Bcc together: everyone the message went to.
func (s MailSummary) Recipients() []string { return slices.Concat(s.To, s.Cc, s.Bcc) }

// Message is one message with its bodies, as Mailpit parsed it.
type Message struct {
	ID          string
	From        string
	To, Cc, Bcc []string // bare addresses, as in MailSummary
	Subject     string
	Text        string // the text/plain body, decoded
	HTML        string // the text/html body, decoded
}

// MustMailpit starts ./bin/mailpit (building it when missing) on free
// loopback ports for SMTP and HTTP, with its database in tb.TempDir(), waits
// until its API answers and its SMTP port accepts, and stops it when the test
// ends. SMTP takes mail with or without AUTH (any user and password, PLAIN and
// LOGIN allowed without TLS), as the product's mailer may use either. When
// Mailpit cannot be built the test is skipped loudly, or fails under CI=true;
// under -short it is skipped before anything is built.
func MustMailpit(tb testing.TB) *Mailpit {
	tb.Helper()
	SkipShort(tb, "Mailpit")
	bin, err := MailpitBin()
	if err != nil {
		if InCI() {
			tb.Fatalf("Mailpit is required under CI=true: %v", err)
		}
		tb.Skipf("SKIPPED: no Mailpit (%v); run scripts/mailpit.sh", err)
	}
	dir := tb.TempDir()
	var lastErr error
	// Free ports are picked then released, so another process may take one
	// before Mailpit binds it: try a few times.
	for attempt := 0; attempt < 3; attempt++ {
		m, err := startMailpit(tb, bin, dir, attempt)
		if err == nil {
			return m
		}
		lastErr = err
	}
	tb.Fatalf("starting Mailpit: %v", lastErr)
	return nil
}

func startMailpit(tb testing.TB, bin, dir string, attempt int) (*Mailpit, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	m := &Mailpit{
		SMTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[0]),
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", ports[1]),
		client:   &http.Client{Timeout: 10 * time.Second},
	}
	m.APIURL = "http://" + m.HTTPAddr
	cmd := exec.Command(bin,
		"--smtp", m.SMTPAddr,
		"--listen", m.HTTPAddr,
		"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
		"--smtp-auth-accept-any",
		"--smtp-auth-allow-insecure",
		"--smtp-disable-rdns",
		"--disable-version-check",
	)
	// Mailpit reads MP_* variables as flags: keep the caller's out.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logs := &LockedBuffer{}
	var out io.Writer = logs
	if os.Getenv("TEST_LOGS") != "" {
		out = io.MultiWriter(logs, os.Stderr)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("mailpit exited before it was ready (%s); its output:\n%s", cmd.ProcessState, logs.String())
		default:
		}
		if m.ready() {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("mailpit not ready on smtp %s / http %s within 60s; its output:\n%s", m.SMTPAddr, m.HTTPAddr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Cleanup(func() {
		select {
		case <-exited:
			tb.Errorf("mailpit exited during the test (%s); its output:\n%s", cmd.ProcessState, logs.String())
		default:
			stop()
		}
	})
	return m, nil
}

// ready reports whether the API answers and the SMTP port accepts.
func (m *Mailpit) ready() bool {
	resp, err := m.client.Get(m.APIURL + "/api/v1/messages?limit=1")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	c, err := net.DialTimeout("tcp", m.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// SMTPURL is the server as smtp://127.0.0.1:PORT.
func (m *Mailpit) SMTPURL() string { return "smtp://" + m.SMTPAddr }

// SMTPHost and SMTPPort are the parts of SMTPAddr, for mailers configured by
// host and port.
func (m *Mailpit) SMTPHost() string {
	h, _, _ := net.SplitHostPort(m.SMTPAddr)
	return h
}

// SMTPPort is the port of SMTPAddr.
func (m *Mailpit) SMTPPort() int {
	_, p, _ := net.SplitHostPort(m.SMTPAddr)
	n, _ := strconv.Atoi(p)
	return n
}

// The wire format of Mailpit's REST API (GET /api/v1/messages,
// GET /api/v1/message/{ID}).
type mpAddress struct {
	Name    string
	Address string
}

type mpSummary struct {
	ID          string
	From        *mpAddress
	To, Cc, Bcc []mpAddress
	Subject     string
	Created     time.Time
}

type mpMessages struct {
	Total         int         `json:"total"`
	MessagesCount int         `json:"messages_count"`
	Start         int         `json:"start"`
	Messages      []mpSummary `json:"messages"`
}

type mpMessage struct {
	ID          string
	From        *mpAddress
	To, Cc, Bcc []mpAddress
	Subject     string
	Text        string
	HTML        string
}

func addresses(as []mpAddress) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.Address)
	}
	return out
}

func address(a *mpAddress) string {
	if a == nil {
		return ""
	}
	return a.Address
}

func (m *Mailpit) getJSON(path string, v any) error {
	resp, err := m.client.Get(m.APIURL + path)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: decoding: %w", path, err)
	}
	return nil
}

func (m *Mailpit) messages() ([]MailSummary, error) {
	const page = 250
	var out []MailSummary
	for start := 0; ; start += page {
		var res mpMessages
		if err := m.getJSON(fmt.Sprintf("/api/v1/messages?start=%d&limit=%d", start, page), &res); err != nil {
			return nil, err
		}
		for _, s := range res.Messages {
			out = append(out, MailSummary{ID: s.ID, From: address(s.From), To: addresses(s.To), Cc: addresses(s.Cc), Bcc: addresses(s.Bcc), Subject: s.Subject, Created: s.Created})
		}
		if len(res.Messages) < page || len(out) >= res.MessagesCount {
			return out, nil
		}
	}
}

// Messages lists the mailbox, newest first.
func (m *Mailpit) Messages(tb testing.TB) []MailSummary {
	tb.Helper()
	out, err := m.messages()
	if err != nil {
		tb.Fatalf("mailpit: listing messages: %v", err)
	}
	return out
}

func (m *Mailpit) message(id string) (Message, error) {
	var res mpMessage
	if err := m.getJSON("/api/v1/message/"+url.PathEscape(id), &res); err != nil {
		return Message{}, err
	}
	return Message{ID: res.ID, From: address(res.From), To: addresses(res.To), Cc: addresses(res.Cc), Bcc: addresses(res.Bcc), Subject: res.Subject, Text: res.Text, HTML: res.HTML}, nil
}

// Message fetches one message, with its bodies, by its Mailpit ID.
func (m *Mailpit) Message(tb testing.TB, id string) Message {
	tb.Helper()
	msg, err := m.message(id)
	if err != nil {
		tb.Fatalf("mailpit: fetching message %s: %v", id, err)
	}
	return msg
}

// WaitForMessage polls the mailbox until a message to the address `to` (any
// of its recipients, case-insensitive; empty matches any) whose subject contains
// subjectContains arrives, and returns the newest such message. It fails the
// test after timeout, listing what the mailbox holds.
func (m *Mailpit) WaitForMessage(tb testing.TB, to, subjectContains string, timeout time.Duration) Message {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var (
		seen    []MailSummary
		lastErr error
	)
	for {
		seen, lastErr = m.messages()
		if lastErr == nil {
			for _, s := range seen {
				if matches(s, to, subjectContains) {
					msg, err := m.message(s.ID)
					if err != nil {
						tb.Fatalf("mailpit: fetching message %s: %v", s.ID, err)
					}
					return msg
				}
			}
		}
		if !time.Now().Before(deadline) {
			break
		}
		time.Sleep(min(100*time.Millisecond, time.Until(deadline)))
	}
	var held []string
	for _, s := range seen {
		held = append(held, fmt.Sprintf("  to %s: %q", strings.Join(s.Recipients(), ", "), s.Subject))
	}
	if lastErr != nil {
		held = append(held, "  (last API error: "+lastErr.Error()+")")
	}
	tb.Fatalf("mailpit: no message to %q with a subject containing %q within %s; the mailbox holds %d:\n%s",
		to, subjectContains, timeout, len(seen), strings.Join(held, "\n"))
	return Message{}
}

func matches(s MailSummary, to, subjectContains string) bool {
	if !strings.Contains(s.Subject, subjectContains) {
		return false
	}
	if to == "" {
		return true
	}
	for _, a := range s.Recipients() {
		if strings.EqualFold(a, to) {
			return true
		}
	}
	return false
}

var urlPattern = regexp.MustCompile(`https?://[^\s<>"'` + "`" + `]+`)

// Links returns the URLs in the text body that start with prefix (empty: all),
// in order of appearance and without repeats. Trailing punctuation that ends
// a sentence or closes a bracket is not part of a URL.
func (msg Message) Links(prefix string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range urlPattern.FindAllString(msg.Text, -1) {
		u = trimURL(u)
		if strings.HasPrefix(u, prefix) && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

func trimURL(u string) string {
	for len(u) > 0 {
		last := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?", last) >= 0:
		case last == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case last == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// freePorts returns n distinct free loopback ports, holding them all open
// until each is picked so none repeats.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// LockedBuffer is a bytes.Buffer safe for a writer (a process's output,
// an app's log) and a reader at once.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
