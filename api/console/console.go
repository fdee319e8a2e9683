// Package console is the Admin Center: the pages a signed-in person uses
// to run the organization's accounts, server-rendered with html/template
// and embedded in the binary. Every page acts as the signed-in person
// (edge.Principal) through the lifecycle services, so a page offers only
// what the person's roles allow and the services refuse the rest anyway.
//
// Each handler decodes the form, calls one service method and renders
// (or redirects, so a reload never posts twice). htmx, when the build has
// it, only adds live updates: every page works as plain links and forms.
package console

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

//go:embed templates/*.html
var templateFiles embed.FS

// assetFiles are the stylesheet, the script and, when scripts/assets.sh
// copied it from npm, htmx.
//
//go:embed assets
var assetFiles embed.FS

// Prefix is where the console lives.
const Prefix = "/console"

// Options configure the console.
type Options struct {
	// BaseURL is the service's public base URL.
	BaseURL string
	// TemporalUI is the Temporal Web UI's base URL; empty: no workflow
	// links.
	TemporalUI string
	// Namespace is the Temporal namespace the workflows run in.
	Namespace string
	// ResendInterval is the least time between two sends of one
	// invitation, to say when the next resend is allowed.
	ResendInterval time.Duration
	Logger         *slog.Logger
}

// Handlers serve the console.
type Handlers struct {
	services *lifecycle.Services
	opt      Options
	pages    map[string]*template.Template
	assets   fs.FS
	htmx     bool
}

// New returns the console's handlers.
func New(services *lifecycle.Services, opt Options) *Handlers {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Namespace == "" {
		opt.Namespace = "default"
	}
	if opt.ResendInterval <= 0 {
		opt.ResendInterval = domain.DefaultResendInterval
	}
	assets, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		panic(err)
	}
	_, err = fs.Stat(assets, "htmx.min.js")
	return &Handlers{services: services, opt: opt, pages: parsePages(), assets: assets, htmx: err == nil}
}

// HasHTMX reports whether this build serves htmx (built after
// scripts/assets.sh).
func (h *Handlers) HasHTMX() bool { return h.htmx }

// RegisterAssets serves the console's stylesheet and scripts at
// /console/assets/, without a session (the sign-in pages use them too).
func (h *Handlers) RegisterAssets(r gin.IRoutes) {
	files := http.FileServer(http.FS(h.assets))
	serve := func(c *gin.Context) {
		name := c.Param("file")
		if st, err := fs.Stat(h.assets, name); !fs.ValidPath(name) || err != nil || st.IsDir() {
			_ = c.Error(domain.Errorf(domain.ENotFound, 20404, "there is no console asset %q", name))
			return
		}
		c.Header("Cache-Control", "public, max-age=300")
		c.Header("X-Content-Type-Options", "nosniff")
		req := c.Request.Clone(c.Request.Context())
		req.URL.Path = "/" + c.Param("file")
		files.ServeHTTP(c.Writer, req)
	}
	r.GET(Prefix+"/assets/:file", serve)
}

// Register adds the console's pages to group: /console, behind the
// browser-page headers and a signed-in session.
func (h *Handlers) Register(g gin.IRoutes) {
	g.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, Prefix+"/accounts") })
	h.registerAccounts(g)
	h.registerAccount(g)
	h.registerUsers(g)
	h.registerOrganization(g)
}

// parsePages parses every page with the layout: one template set per page,
// each defining "content" (and any fragment it polls).
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/_*.html"))
	names, err := fs.Glob(templateFiles, "templates/[a-z]*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFiles, n))
		out[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return out
}

var funcs = template.FuncMap{
	"roleName": domain.RoleName,
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2 Jan 2006 15:04 UTC")
		}
		return ""
	},
	"stepName": func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"statusName": func(s string) string {
		return strings.ReplaceAll(s, "_", " ")
	},
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

// view is what every page renders: the layout's data and the page's own.
type view struct {
	Title   string
	Section string // accounts | organization
	Me      domain.Principal
	Admin   bool
	HTMX    bool
	Notice  string
	// Errors are messages by field, shown next to it.
	Errors map[string]string
	// Form holds what was typed, to show it again after a refusal.
	Form url.Values
	D    any
}

// Field is the first value typed in a field.
func (v view) Field(name string) string { return v.Form.Get(name) }

// Checked reports whether a checkbox was ticked (or a multi-value field
// holds value).
func (v view) Checked(name, value string) bool {
	for _, x := range v.Form[name] {
		if x == value {
			return true
		}
	}
	return false
}

// render writes page with status; an htmx request for a fragment gets just
// that fragment.
func (h *Handlers) render(c *gin.Context, status int, page string, v view) {
	p := edge.Principal(c)
	v.Me, v.Admin, v.HTMX = p, p.IsOrgAdmin(), h.htmx
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	t, ok := h.pages[page]
	if !ok {
		panic("console: no page " + page)
	}
	name := "layout"
	if frag := c.GetHeader("HX-Target"); c.GetHeader("HX-Request") == "true" && frag != "" && t.Lookup(frag) != nil {
		name = frag
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		h.opt.Logger.ErrorContext(c.Request.Context(), "console page failed", "request_id", edge.RequestID(c), "page", page, "error", err.Error())
		_ = c.Error(err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// refused tells whether err is a refusal a person can act on (shown next
// to the form), rather than a failure (left to the error writer).
func refused(err error) bool {
	return edge.StatusOf(domain.ErrorKind(err)) < http.StatusInternalServerError
}

// failed answers a refused action with its page (status of the refusal,
// the message next to field); anything else goes to the error writer.
func (h *Handlers) failed(c *gin.Context, err error, page, field string, v view) {
	if !refused(err) {
		_ = c.Error(err)
		return
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	v.Errors[field] = edge.Sentence(domain.ErrorMessage(err))
	if v.Form == nil {
		_ = c.Request.ParseForm()
		v.Form = c.Request.PostForm
	}
	h.render(c, edge.StatusOf(domain.ErrorKind(err)), page, v)
}

// badFilter answers a list whose filters were refused next to the
// filters (page, field); any other refusal is a problem.
func (h *Handlers) badFilter(c *gin.Context, err error, page, field string, v view) {
	if domain.ErrorKind(err) != domain.EInvalid {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.failed(c, err, page, field, v)
}

// problem shows a refusal that has no form to go back to: what happened,
// and a way back.
func (h *Handlers) problem(c *gin.Context, err error, back string) {
	if !refused(err) {
		_ = c.Error(err)
		return
	}
	h.render(c, edge.StatusOf(domain.ErrorKind(err)), "problem", view{Title: "That did not work", D: struct{ Message, Back string }{edge.Sentence(domain.ErrorMessage(err)), back}})
}

// errNotYours refuses a form the person's roles do not let them send, so
// it does not open for nothing (the service refuses the POST anyway).
func errNotYours(what string) error {
	return domain.Errorf(domain.EForbidden, domain.CodeForbidden, "your roles do not allow you to %s", what)
}

// workflowLink is the Temporal Web UI page of a workflow ("" without a
// UI or a workflow).
func (h *Handlers) workflowLink(r domain.Run) string {
	if h.opt.TemporalUI == "" || r.WorkflowID == "" {
		return ""
	}
	u := h.opt.TemporalUI + "/namespaces/" + url.PathEscape(h.opt.Namespace) + "/workflows/" + url.PathEscape(r.WorkflowID)
	if r.RunID != "" {
		u += "/" + url.PathEscape(r.RunID)
	}
	return u
}

// see redirects after a POST to the page showing its outcome.
func see(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
}
