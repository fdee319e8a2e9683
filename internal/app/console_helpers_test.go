package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// The console tests' helpers: a browser acting as a person, the page
// reads and clicks they share, the accessibility check and screenshots.

// console is a Chromium tab on the Admin Center of e.
type console struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

// consoleAs opens the console in a fresh browser, signed in as the user
// (given a password first, through a password link).
func consoleAs(t *testing.T, e *env, userSid string) *console {
	t.Helper()
	ctx := testenv.MustBrowser(t)
	e.SetPassword(userSid, testenv.TestPassword)
	u, err := e.App.Store.FindPerson(context.Background(), userSid)
	require.NoError(t, err)
	testenv.SignInBrowser(ctx, t, e.App.BaseURL, u.UserName, testenv.TestPassword)
	return &console{t: t, ctx: ctx, e: e}
}

// open loads path of the console and waits for selector.
func (b *console) open(path, selector string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.e.App.BaseURL+path), chromedp.WaitVisible(chromedp.CSS(selector)))
}

// run runs actions with a deadline.
func (b *console) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, actions...))
}

// fill types text into the field selector, replacing what it held.
func (b *console) fill(selector, text string) {
	b.t.Helper()
	require.True(b.t, evalOn[bool](b, fmt.Sprintf(`(el => !!el && (el.value = "", true))(document.querySelector(%q))`, selector)), "no field %s", selector)
	if text != "" {
		b.run(chromedp.SendKeys(chromedp.CSS(selector), text))
	}
}

// click clicks selector. A page that has just replaced the one before can
// still be settling in the browser's DOM tracking ("could not find node"):
// the click is tried again then, within the deadline.
func (b *console) click(selector string) {
	b.t.Helper()
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector)))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
		b.waitJS(`document.readyState === "complete"`, "the page never finished loading")
	}
	require.NoError(b.t, err, "click %s", selector)
}

// submit clicks a submit button and waits for the page it leads to to
// show selector.
func (b *console) submit(button, selector string) {
	b.t.Helper()
	b.click(button)
	b.waitFor(selector)
}

// waitFor waits for selector on the current page (after a navigation).
func (b *console) waitFor(selector string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`document.readyState === "complete" && !!document.querySelector(%q)`, selector), "%s never appeared", selector)
}

// waitText waits until selector's text contains want.
func (b *console) waitText(selector, want string) {
	b.t.Helper()
	waitText(b.ctx, b.t, selector, want)
}

// text reads selector's text.
func (b *console) text(selector string) string {
	b.t.Helper()
	return strings.TrimSpace(evalOn[string](b, fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, selector)))
}

// eval evaluates a script returning T on the page.
func evalOn[T any](b *console, script string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, opts...))
	require.NoError(b.t, err)
	return out
}

// waitJS polls a script until it is true.
func (b *console) waitJS(script string, msg string, args ...any) {
	b.t.Helper()
	require.EventuallyWithT(b.t, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		defer cancel()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](script))
		assert.NoError(c, err)
		assert.True(c, ok)
	}, 30*time.Second, 100*time.Millisecond, append([]any{msg}, args...)...)
}

// tabTo presses Tab from where the focus is until selector has it, as a
// person on a keyboard would, and checks the focus is visible there.
func (b *console) tabTo(selector string) {
	b.t.Helper()
	for range 80 {
		b.run(chromedp.KeyEvent(kb.Tab))
		if evalOn[bool](b, fmt.Sprintf(`document.activeElement === document.querySelector(%q)`, selector)) {
			outline := evalOn[string](b, `getComputedStyle(document.activeElement).outlineStyle`)
			require.NotEqual(b.t, "none", outline, "%s has the focus but shows no outline", selector)
			return
		}
	}
	b.t.Fatalf("%s is not reachable with Tab on %s", selector, b.url())
}

// press presses keys (kb's names for special keys) on the focused
// element.
func (b *console) press(keys string) {
	b.t.Helper()
	b.run(chromedp.KeyEvent(keys))
}

// url is the page the browser is on.
func (b *console) url() string {
	b.t.Helper()
	return evalOn[string](b, `location.href`)
}

// axeSource is axe-core's script (npm, installed by scripts/assets.sh).
func axeSource(t *testing.T) string {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "web", "node_modules", "axe-core", "axe.min.js"))
	require.NoError(t, err, "axe-core is installed by scripts/assets.sh (make test runs it)")
	return string(b)
}

// axeViolation is what axe-core reports of one rule.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the current page and fails on any serious or
// critical violation, at the desktop width and at 375 px, where the page
// must not scroll sideways either.
func (b *console) checkA11y() {
	b.t.Helper()
	src := axeSource(b.t)
	for _, width := range []int64{1280, 375} {
		b.run(chromedp.EmulateViewport(width, 800))
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](src+`;axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`,
			chromedp.EvalAwaitPromise))
		cancel()
		require.NoError(b.t, err)
		for _, v := range found {
			assert.NotContains(b.t, []string{"serious", "critical"}, v.Impact, "axe on %s at %dpx: %s (%s) on %v", b.url(), width, v.ID, v.Help, v.Nodes)
		}
		overflow := evalOn[bool](b, `document.documentElement.scrollWidth > window.innerWidth + 1`)
		assert.False(b.t, overflow, "%s scrolls sideways at %dpx", b.url(), width)
	}
	b.run(chromedp.ResetViewport())
}

// screenshot saves the current page as docs/screenshots/name.png.
func (b *console) screenshot(name string) {
	b.t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(b.t, err)
	b.run(chromedp.EmulateViewport(1280, 800))
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	b.run(chromedp.ResetViewport())
	require.Greater(b.t, len(png), 10_000, "the %s screenshot is (nearly) empty", name)
	if os.Getenv("UPDATE_SCREENSHOTS") == "" {
		return // README's pictures change only when asked: make screenshots
	}
	dir := filepath.Join(root, "docs", "screenshots")
	require.NoError(b.t, os.MkdirAll(dir, 0o755))
	require.NoError(b.t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}
