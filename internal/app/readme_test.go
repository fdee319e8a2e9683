package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// readmeBlock is a shell block of README's walkthrough: the lines after
// a "<!-- walkthrough: name -->" marker, inside a ```sh fence.
type readmeBlock struct {
	Name  string
	Lines []string
}

var walkthroughMarker = regexp.MustCompile(`^<!-- walkthrough: ([a-z0-9-]+) -->$`)

// readmeBlocks reads README's marked shell blocks, in order.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	lines := strings.Split(string(raw), "\n")
	var out []readmeBlock
	for i := 0; i < len(lines); i++ {
		m := walkthroughMarker.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		require.Less(t, i+1, len(lines))
		require.Equal(t, "```sh", lines[i+1], "the walkthrough marker %q is not followed by a ```sh block", m[1])
		b := readmeBlock{Name: m[1]}
		for i += 2; i < len(lines) && lines[i] != "```"; i++ {
			b.Lines = append(b.Lines, lines[i])
		}
		out = append(out, b)
	}
	return out
}

// logicalCommand is the range of lines (0-based, inclusive) of the
// command at line i: lines joined by a trailing backslash.
func logicalCommand(lines []string, i int) (first, last int) {
	first, last = i, i
	for first > 0 && strings.HasSuffix(lines[first-1], `\`) {
		first--
	}
	for last < len(lines)-1 && strings.HasSuffix(lines[last], `\`) {
		last++
	}
	return first, last
}

var (
	statusWord    = regexp.MustCompile(`\b[1-5][0-9][0-9]\b`)
	leadingStatus = regexp.MustCompile(`^#\s*([1-5][0-9][0-9])\b`)
)

// comment is the part of a line after " #" (or the whole line when it is
// a comment), "" when it has none.
func comment(line string) string {
	trimmed := strings.TrimSpace(line)
	if strings.HasPrefix(trimmed, "#") {
		return trimmed
	}
	if i := strings.Index(line, " #"); i >= 0 {
		return strings.TrimSpace(line[i+1:])
	}
	return ""
}

// announced says what README announces for the command at line i: the
// statuses named in its comments (on its lines or in the comment lines
// right above it), and the status its own comment starts with, if any.
func announced(lines []string, i int) (statuses []int, says int) {
	first, last := logicalCommand(lines, i)
	var notes []string
	for j := first; j <= last; j++ {
		if c := comment(lines[j]); c != "" {
			notes = append(notes, c)
			if m := leadingStatus.FindStringSubmatch(c); m != nil && says == 0 {
				says, _ = strconv.Atoi(m[1])
			}
		}
	}
	for j := first - 1; j >= 0 && strings.HasPrefix(strings.TrimSpace(lines[j]), "#"); j-- {
		notes = append(notes, lines[j])
	}
	for _, n := range notes {
		for _, w := range statusWord.FindAllString(n, -1) {
			s, _ := strconv.Atoi(w)
			statuses = append(statuses, s)
		}
	}
	return statuses, says
}

// walkthroughShell is one bash process that runs README's blocks in
// order, as a reader pastes them into one shell. Its curl is the real one,
// also writing each answer's status and the line that asked to curl.log.
type walkthroughShell struct {
	t      *testing.T
	dir    string
	stdin  io.WriteCloser
	out    chan string
	exited chan error

	mu     sync.Mutex
	stderr bytes.Buffer
}

// curlProbe wraps curl so that each answer's status and the line that
// asked for it go to curl.log; the rest of curl's output is untouched.
const curlProbe = `curl() { command curl -w "%{stderr}@@curl %{http_code} ${BASH_SOURCE[1]##*/} ${BASH_LINENO[0]}\n" "$@" 2>>curl.log; }`

func startWalkthroughShell(t *testing.T) *walkthroughShell {
	t.Helper()
	sh := &walkthroughShell{t: t, dir: t.TempDir(), out: make(chan string, 1024), exited: make(chan error, 1)}
	cmd := exec.Command("bash", "--noprofile", "--norc")
	cmd.Dir = sh.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + sh.dir, "LC_ALL=C"}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return sh.stderr.Write(p)
	})
	require.NoError(t, cmd.Start())
	sh.stdin = stdin
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			sh.out <- sc.Text()
		}
		sh.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case err := <-sh.exited: // the shell ended when its input closed
			if err != nil {
				t.Logf("the walkthrough's shell exited: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	sh.send("set -euo pipefail\n" + curlProbe + "\n")
	return sh
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (sh *walkthroughShell) send(s string) {
	_, err := io.WriteString(sh.stdin, s)
	require.NoError(sh.t, err)
}

func (sh *walkthroughShell) stderrText() string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.stderr.String()
}

// curlAnswer is one curl the shell ran: its status and where.
type curlAnswer struct {
	Status int
	File   string
	Line   int
}

var curlRecord = regexp.MustCompile(`(?m)^@@curl (\d{3}) (\S+) (\d+)$`)

func (sh *walkthroughShell) answers(file string) []curlAnswer {
	log, err := os.ReadFile(filepath.Join(sh.dir, "curl.log"))
	require.NoError(sh.t, err)
	var out []curlAnswer
	for _, m := range curlRecord.FindAllStringSubmatch(string(log), -1) {
		if m[2] != file {
			continue
		}
		status, _ := strconv.Atoi(m[1])
		line, _ := strconv.Atoi(m[3])
		out = append(out, curlAnswer{Status: status, File: m[2], Line: line})
	}
	return out
}

// run sources one block in the shell and returns its standard output
// once it ends; a failed command ends the shell and the test.
func (sh *walkthroughShell) run(n int, b readmeBlock) string {
	sh.t.Helper()
	file := fmt.Sprintf("%02d-%s.sh", n, b.Name)
	require.NoError(sh.t, os.WriteFile(filepath.Join(sh.dir, file), []byte(strings.Join(b.Lines, "\n")+"\n"), 0o600))
	done := fmt.Sprintf("@@done %02d", n)
	sh.send(fmt.Sprintf("source ./%s; printf '\\n%s\\n'\n", file, done))
	var out []string
	deadline := time.After(3 * time.Minute)
	for {
		select {
		case line := <-sh.out:
			if line == done {
				return strings.Join(out, "\n")
			}
			out = append(out, line)
		case err := <-sh.exited:
			sh.t.Fatalf("README block %q failed (%v): a command ended the shell.\nstdout:\n%s\nstderr:\n%s", b.Name, err, strings.Join(out, "\n"), sh.stderrText())
		case <-deadline:
			sh.t.Fatalf("README block %q did not end within 3 minutes.\nstdout:\n%s\nstderr:\n%s", b.Name, strings.Join(out, "\n"), sh.stderrText())
		}
	}
}

// TestREADMEWalkthrough runs README's walkthrough, every marked shell block
// as written, in order, in one bash, against the service as `make run`
// starts it (SQLite, Mailpit catching the emails). It does what the prose
// between the blocks asks of a person (open the email, press Accept), and
// fails on any command that fails, any 5xx, any 4xx the README does not
// announce beside the command, and any answer other than the status a
// command's comment starts with.
func TestREADMEWalkthrough(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if testenv.InCI() {
				t.Fatalf("README's walkthrough needs %s: %v", tool, err)
			}
			t.Skipf("SKIPPED: README's walkthrough needs %s", tool)
		}
	}
	blocks := readmeBlocks(t)
	names := make([]string, len(blocks))
	for i, b := range blocks {
		names[i] = b.Name
	}
	mp := testenv.MustMailpit(t)
	e := newAppEnv(t, testenv.AppOptions{Env: map[string]string{
		"SMTP_URL": mp.SMTPURL(),
		// The one setting changed from make run's: the README waits for
		// the Retry-After of a resend, a minute by default.
		"INVITATION_RESEND_INTERVAL": "2s",
	}})
	base := e.App.BaseURL
	confirm := func(to, subject string, sends int, wantPage string) {
		t.Helper()
		var links []string
		require.Eventually(t, func() bool {
			n := 0
			for _, s := range mp.Messages(t) {
				if slices.ContainsFunc(s.Recipients(), func(r string) bool { return strings.EqualFold(r, to) }) && strings.Contains(s.Subject, subject) {
					n++
				}
			}
			return n >= sends
		}, 30*time.Second, 100*time.Millisecond, "%d emails to %s", sends, to)
		links = mp.WaitForMessage(t, to, subject, time.Second).Links(base + "/confirm/")
		require.Len(t, links, 1)
		b := newBrowser(t)
		code, page := b.get(links[0])
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, `id="accept"`)
		require.Contains(t, page, `id="decline"`)
		code, page = b.click(links[0], page, "accept")
		require.Equal(t, http.StatusOK, code, page)
		require.Contains(t, page, wantPage)
	}
	// What a person does after a block: open the email, press Accept.
	after := map[string]func(){
		"invite": func() { confirm("guest@partner.example", "invited you to", 2, "Welcome to Production US") },
		"import": func() { confirm("carol@example.com", "asks to import", 1, "Carol Labs") },
		"share":  func() { confirm("dana@outside.example", "", 1, "Dana Studio") },
	}
	require.Equal(t, []string{"start", "invite", "invited", "transfer", "close-prepare", "close", "reopen",
		"domains", "import", "imported", "share", "shared", "keys", "two-factor", "sso"}, names,
		"README's walkthrough blocks: a new one needs its step here")

	const credentials = "ID=SK…; SECRET=…; ORG=OR…"
	sh := startWalkthroughShell(t)
	for n, b := range blocks {
		for i, line := range b.Lines {
			// The values make run prints, and the address it listens on.
			if strings.HasPrefix(line, credentials) {
				line = e.App.Boot.ShellLine() + strings.TrimPrefix(line, credentials)
			}
			b.Lines[i] = strings.ReplaceAll(line, "http://localhost:8080", base)
		}
		if n == 0 {
			require.True(t, strings.HasPrefix(blocks[0].Lines[0], e.App.Boot.ShellLine()), "the walkthrough starts from the line make run prints: %q", credentials)
		}
		out := sh.run(n, b)
		file := fmt.Sprintf("%02d-%s.sh", n, b.Name)
		answers := sh.answers(file)
		require.NotEmpty(t, answers, "block %q ran no curl", b.Name)
		for _, a := range answers {
			line := b.Lines[a.Line-1]
			statuses, says := announced(b.Lines, a.Line-1)
			switch {
			case a.Status == 0 || a.Status >= 500:
				t.Fatalf("block %q line %d: answered %d: %s\nstdout:\n%s", b.Name, a.Line, a.Status, line, out)
			case a.Status >= 400 && !slices.Contains(statuses, a.Status):
				t.Fatalf("block %q line %d: an unannounced %d: %s\nstdout:\n%s", b.Name, a.Line, a.Status, line, out)
			case says != 0 && says != a.Status:
				t.Fatalf("block %q line %d: README says %d, the answer was %d: %s\nstdout:\n%s", b.Name, a.Line, says, a.Status, line, out)
			}
		}
		if f := after[b.Name]; f != nil {
			f()
		}
	}

	// Every SID the walkthrough captured is one.
	sh.send(`printf '@@vars AC=%s US=%s IN=%s SUB=%s ACID=%s DM=%s AC2=%s AR=%s AC3=%s SK=%s\n' "$AC" "$US" "$IN" "$SUB" "$ACID" "$DM" "$AC2" "$AR" "$AC3" "$SK"` + "\n")
	var vars string
	select {
	case vars = <-sh.out:
	case <-time.After(10 * time.Second):
		t.Fatal("the shell did not print its variables")
	}
	for _, kv := range strings.Fields(strings.TrimPrefix(vars, "@@vars ")) {
		name, value, _ := strings.Cut(kv, "=")
		prefix := map[string]string{"AC": "AC", "SUB": "AC", "AC2": "AC", "AC3": "AC", "US": "US", "IN": "IN", "ACID": "SK", "DM": "DM", "AR": "AR", "SK": "SK"}[name]
		require.Regexp(t, "^"+prefix+"[0-9a-f]{32}$", value, "$%s", name)
	}
}
