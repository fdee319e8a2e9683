// Package signin is how a person signs in to the console: email and
// password (set through an emailed single-use link), the server-side
// session that follows, and the middleware that turns that session into
// the caller of the lifecycle services. The rules live in
// lifecycle.SignIn; these handlers decode a form, call it, and render.
package signin

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

//go:embed *.html
var pageFiles embed.FS

var pages = template.Must(template.ParseFS(pageFiles, "*.html"))

// Session keys.
const (
	keyUser          = "user"           // the signed-in user's SID
	keyOrg           = "org"            // the organization they act in
	keyAuthTime      = "auth_time"      // when they proved who they are (Unix ns)
	keyMethod        = "method"         // how: password, totp, passkey, sso…
	keyPendingUser   = "pending_user"   // password right, second factor to come
	keyPendingAt     = "pending_at"     // when the password was right (Unix ns)
	keyPendingMethod = "pending_method" // how the first step was made
)

// pendingTTL is how long a correct password waits for its second factor.
const pendingTTL = 5 * time.Minute

// SessionConfig configures console sessions.
type SessionConfig struct {
	// Store keeps sessions server-side.
	Store scs.Store
	// IdleTimeout ends a session unused that long; Lifetime ends any
	// session that old.
	IdleTimeout, Lifetime time.Duration
	// Secure marks the cookie Secure (the public base URL is https).
	Secure bool
}

// CookieName is the console session cookie's name.
const CookieName = "orgaccounts_session"

// NewSessionManager returns the console's session manager: tokens stored
// hashed, the cookie HttpOnly, SameSite=Lax, Secure behind https.
func NewSessionManager(cfg SessionConfig) *scs.SessionManager {
	sm := scs.New()
	if cfg.Store != nil {
		sm.Store = cfg.Store // else scs's in-memory store (handler tests)
	}
	sm.IdleTimeout = cfg.IdleTimeout
	sm.Lifetime = cfg.Lifetime
	sm.HashTokenInStore = true
	sm.Cookie.Name = CookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.Secure
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false
	return sm
}

// Handlers serve the sign-in pages.
type Handlers struct {
	services *lifecycle.Services
	sessions *scs.SessionManager
	log      *slog.Logger
}

// New returns the sign-in handlers.
func New(services *lifecycle.Services, sessions *scs.SessionManager, log *slog.Logger) *Handlers {
	return &Handlers{services: services, sessions: sessions, log: log}
}

// Register adds the pages a person reaches before signing in (public) and
// those only a signed-in person reaches (signedIn, behind RequireSession).
func (h *Handlers) Register(public, signedIn gin.IRoutes) {
	public.GET("/sign-in", h.showSignIn)
	public.POST("/sign-in", h.signIn)
	public.GET("/password/forgot", h.showForgot)
	public.POST("/password/forgot", h.forgot)
	public.GET("/password/:token", h.showPassword)
	public.POST("/password/:token", h.setPassword)
	signedIn.GET("/me", h.showMe)
	signedIn.POST("/sign-out", h.signOut)
	signedIn.POST("/sign-out-everywhere", h.signOutEverywhere)
	h.registerTwoFactor(public, signedIn)
	h.registerSSO(public)
}

// page is what every sign-in page template reads.
type page struct {
	Title   string
	Notice  string // a message at the top (green)
	Problem string // what went wrong, next to the form (red)
	Field   string // the field the problem is about
	Email   string
	Next    string
	Token   string
	Me      *me
}

type me struct {
	Email, UserSid, OrganizationSid, Role, Method string
	Since                                         string
}

func render(c *gin.Context, status int, name string, p page) {
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, name, p); err != nil {
		_ = c.Error(err)
	}
}

// source is the caller of a page before it is signed in.
func source(c *gin.Context) domain.Actor {
	return domain.Actor{SourceIP: c.ClientIP(), RequestID: edge.RequestID(c), UserAgent: edge.UserAgent(c)}
}

// safeNext keeps a "next" address to the console: a path on this site
// under /console, never another site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/console") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(u.Path, "/console/sign-in") {
		return "/console"
	}
	return u.RequestURI()
}

// problemOf words a refusal for the page, naming the field it is about.
func problemOf(c *gin.Context, err error) (int, string, string) {
	var de *domain.Error
	if !errors.As(err, &de) || de.Kind == domain.EInternal {
		_ = c.Error(err)
		return http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment.", ""
	}
	status := edge.StatusOf(de.Kind)
	if de.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(de.RetryAfter))
	}
	field := ""
	switch de.Code {
	case domain.CodeInvalidEmail:
		field = "email"
	case domain.CodeWeakPassword, domain.CodeUnauthenticated:
		field = "password"
	}
	return status, de.Message, field
}

func (h *Handlers) showSignIn(c *gin.Context) {
	p := page{Title: "Sign in", Next: safeNext(c.Query("next"))}
	switch {
	case c.Query("signed_out") != "":
		p.Notice = "You are signed out."
	case c.Query("password_set") != "":
		p.Notice = "Your password is set. Sign in with it."
	case c.Query("ended") != "":
		p.Notice = "Your session has ended. Sign in again."
	}
	render(c, http.StatusOK, "sign_in.html", p)
}

func (h *Handlers) signIn(c *gin.Context) {
	ctx := c.Request.Context()
	p := page{Title: "Sign in", Email: c.PostForm("email"), Next: safeNext(c.PostForm("next"))}
	res, err := h.services.SignIn.Password(ctx, lifecycle.PasswordSignIn{Email: c.PostForm("email"), Password: c.PostForm("password")}, source(c))
	if err != nil {
		var status int
		status, p.Problem, p.Field = problemOf(c, err)
		if status == http.StatusInternalServerError {
			return
		}
		render(c, status, "sign_in.html", p)
		return
	}
	if res.NeedsSecondFactor {
		if err := h.sessions.RenewToken(ctx); err != nil {
			_ = c.Error(err)
			return
		}
		h.sessions.Put(ctx, keyPendingUser, res.User.Sid)
		h.sessions.Put(ctx, keyPendingAt, time.Now().UnixNano())
		h.sessions.Put(ctx, keyPendingMethod, "password")
		c.Redirect(http.StatusSeeOther, "/console/sign-in/second-factor?next="+url.QueryEscape(p.Next))
		return
	}
	if err := h.Establish(c, res.User, "password"); err != nil {
		_ = c.Error(err)
	}
}

// Establish completes the sign-in of a user whose identity is proven: a
// new session id (so that a token planted before sign-in is worth
// nothing), the user and the time, an audit event, and a redirect to the
// page they asked for.
func (h *Handlers) Establish(c *gin.Context, u domain.User, method string) error {
	next := c.PostForm("next")
	if next == "" {
		next = c.Query("next")
	}
	return h.establish(c, u, method, next)
}

// establish is Establish going to next afterwards.
func (h *Handlers) establish(c *gin.Context, u domain.User, method, next string) error {
	ctx := c.Request.Context()
	p, err := h.services.SignIn.Start(ctx, u, method, source(c))
	if err != nil {
		return err
	}
	if err := h.sessions.RenewToken(ctx); err != nil {
		return err
	}
	for _, k := range []string{keyPendingUser, keyPendingAt, keyPendingMethod} {
		h.sessions.Remove(ctx, k)
	}
	h.sessions.Put(ctx, keyUser, p.UserSid)
	h.sessions.Put(ctx, keyOrg, p.OrganizationSid)
	h.sessions.Put(ctx, keyAuthTime, time.Now().UnixNano())
	h.sessions.Put(ctx, keyMethod, method)
	c.Redirect(http.StatusSeeOther, safeNext(next))
	return nil
}

// Renew gives the signed-in session a new id, at a change of privilege
// (a factor added, say), keeping what it holds.
func (h *Handlers) Renew(c *gin.Context) error { return h.sessions.RenewToken(c.Request.Context()) }

// PendingUser returns the user whose password was right and who is yet to
// prove a second factor (for at most five minutes), and how the first
// step was made.
func (h *Handlers) PendingUser(c *gin.Context) (userSid string, ok bool) {
	ctx := c.Request.Context()
	sid := h.sessions.GetString(ctx, keyPendingUser)
	at := h.sessions.GetInt64(ctx, keyPendingAt)
	if sid == "" || time.Since(time.Unix(0, at)) > pendingTTL {
		return "", false
	}
	return sid, true
}

// Session returns the values the session holds for other sign-in steps
// (an SSO login's state, a passkey ceremony's challenge).
func (h *Handlers) Session() *scs.SessionManager { return h.sessions }

// RequireSession lets a signed-in person through as the caller
// (edge.Principal) and sends anyone else to the sign-in page (a GET) or
// answers 401 (anything else).
func (h *Handlers) RequireSession(c *gin.Context) {
	ctx := c.Request.Context()
	userSid := h.sessions.GetString(ctx, keyUser)
	var p domain.Principal
	var err error = lifecycle.ErrSignInFailed
	if userSid != "" {
		p, err = h.services.SignIn.Session(ctx, userSid, h.sessions.GetString(ctx, keyOrg), time.Unix(0, h.sessions.GetInt64(ctx, keyAuthTime)))
	}
	if err != nil {
		if domain.ErrorKind(err) != domain.EUnauthenticated {
			_ = c.Error(err)
			c.Abort()
			return
		}
		ended := ""
		if userSid != "" {
			_ = h.sessions.Destroy(ctx)
			ended = "&ended=1"
		}
		if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
			c.Redirect(http.StatusSeeOther, "/console/sign-in?next="+url.QueryEscape(c.Request.URL.RequestURI())+ended)
		} else {
			_ = c.Error(errors.Join(err))
		}
		c.Abort()
		return
	}
	p.SourceIP, p.RequestID, p.UserAgent = c.ClientIP(), edge.RequestID(c), edge.UserAgent(c)
	edge.SetPrincipal(c, p)
	c.Next()
}

func (h *Handlers) showMe(c *gin.Context) {
	ctx := c.Request.Context()
	p := edge.Principal(c)
	u, err := h.services.SignIn.Me(ctx, p)
	if err != nil {
		_ = c.Error(err)
		return
	}
	role := string(p.OrgRole)
	if role == "" {
		role = "outside user"
	}
	render(c, http.StatusOK, "me.html", page{Title: "Your sign-in", Me: &me{
		Email: u.UserName, UserSid: u.Sid, OrganizationSid: p.OrganizationSid, Role: role,
		Method: h.sessions.GetString(ctx, keyMethod),
		Since:  time.Unix(0, h.sessions.GetInt64(ctx, keyAuthTime)).UTC().Format("2 Jan 2006 15:04 MST"),
	}})
}

func (h *Handlers) signOut(c *gin.Context) {
	ctx := c.Request.Context()
	if err := h.services.SignIn.SignOut(ctx, edge.Principal(c)); err != nil {
		h.log.ErrorContext(ctx, "sign-out not recorded", "request_id", edge.RequestID(c), "error", err.Error())
	}
	if err := h.sessions.Destroy(ctx); err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/sign-in?signed_out=1")
}

func (h *Handlers) signOutEverywhere(c *gin.Context) {
	ctx := c.Request.Context()
	if err := h.services.SignIn.SignOutEverywhere(ctx, edge.Principal(c)); err != nil {
		_ = c.Error(err)
		return
	}
	if err := h.sessions.Destroy(ctx); err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/sign-in?signed_out=1")
}

func (h *Handlers) showForgot(c *gin.Context) {
	render(c, http.StatusOK, "forgot.html", page{Title: "Forgot your password?"})
}

func (h *Handlers) forgot(c *gin.Context) {
	p := page{Title: "Forgot your password?", Email: c.PostForm("email")}
	if err := h.services.SignIn.ForgotPassword(c.Request.Context(), c.PostForm("email"), source(c)); err != nil {
		var status int
		status, p.Problem, p.Field = problemOf(c, err)
		if status == http.StatusInternalServerError {
			return
		}
		render(c, status, "forgot.html", p)
		return
	}
	p.Notice = "If a user has this email, we have sent it a link to choose a new password. The link works once, for a day."
	render(c, http.StatusOK, "forgot.html", p)
}

// A password link's page: GET shows the form and changes nothing (a mail
// scanner may open it); POST sets the password and uses the link up.
func (h *Handlers) showPassword(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	u, err := h.services.SignIn.PasswordLink(c.Request.Context(), c.Param("token"))
	if err != nil {
		h.invalidLink(c, err)
		return
	}
	render(c, http.StatusOK, "password.html", page{Title: "Choose your password", Email: u.UserName, Token: c.Param("token")})
}

func (h *Handlers) setPassword(c *gin.Context) {
	c.Header("Referrer-Policy", "no-referrer")
	ctx := c.Request.Context()
	token := c.Param("token")
	p := page{Title: "Choose your password", Token: token}
	pw := c.PostForm("password")
	if pw != c.PostForm("confirm") {
		u, err := h.services.SignIn.PasswordLink(ctx, token)
		if err != nil {
			h.invalidLink(c, err)
			return
		}
		p.Email, p.Problem, p.Field = u.UserName, "The two passwords are not the same.", "confirm"
		render(c, http.StatusBadRequest, "password.html", p)
		return
	}
	u, err := h.services.SignIn.SetPassword(ctx, token, pw, source(c))
	if err != nil {
		if domain.ErrorKind(err) == domain.ENotFound {
			h.invalidLink(c, err)
			return
		}
		var status int
		status, p.Problem, p.Field = problemOf(c, err)
		if status == http.StatusInternalServerError {
			return
		}
		p.Email = u.UserName
		render(c, status, "password.html", p)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/sign-in?password_set=1")
}

func (h *Handlers) invalidLink(c *gin.Context, err error) {
	if domain.ErrorKind(err) != domain.ENotFound {
		_ = c.Error(err)
		return
	}
	render(c, http.StatusNotFound, "message.html", page{Title: "This link is not valid",
		Problem: "It was used already, a newer link replaced it, or it expired. Ask for a new one below. Nothing was changed."})
}

// ErrorFunc answers a session store failure as the house error.
func ErrorFunc(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		if !errors.Is(err, context.Canceled) {
			log.ErrorContext(r.Context(), "console session store failed", "error", err.Error())
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("The console cannot reach its session store. Try again in a moment.\n"))
	}
}
