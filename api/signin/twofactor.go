package signin

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// Two-factor authentication in the console: the second step of sign-in
// (/console/sign-in/second-factor: a code from an authenticator app, a
// recovery code, or a passkey) and the Security page where a person adds
// and removes factors (/console/security). The rules are
// lifecycle.TwoFactor's.

// Session keys of the passkey ceremonies under way (their server half).
const (
	keyPasskeyRegistration = "passkey_registration"
	keyPasskeyLogin        = "passkey_login"
)

// registerTwoFactor adds the second step of sign-in (public: the person
// is not signed in yet) and the Security page (signedIn).
func (h *Handlers) registerTwoFactor(public, signedIn gin.IRoutes) {
	public.GET("/sign-in/second-factor", h.showSecondFactor)
	public.POST("/sign-in/second-factor", h.secondFactorCode)
	public.POST("/sign-in/second-factor/passkey/begin", h.beginPasskeySignIn)
	public.POST("/sign-in/second-factor/passkey", h.secondFactorPasskey)
	signedIn.GET("/security", h.showSecurity)
	signedIn.POST("/security/totp", h.beginTOTP)
	signedIn.POST("/security/totp/confirm", h.confirmTOTP)
	signedIn.POST("/security/recovery-codes", h.regenerateRecoveryCodes)
	signedIn.POST("/security/passkeys/begin", h.beginPasskey)
	signedIn.POST("/security/passkeys", h.finishPasskey)
	signedIn.POST("/security/factors/:factor/remove", h.removeFactor)
}

// secondFactorPage is what the second step of sign-in shows.
type secondFactorPage struct {
	Title, Notice, Problem string
	Next                   string
	HasTOTP, HasPasskey    bool
	RecoveryCodesLeft      int
}

// pending returns the user whose second factor is awaited, or sends the
// browser back to the first step.
func (h *Handlers) pending(c *gin.Context) (string, bool) {
	sid, ok := h.PendingUser(c)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/console/sign-in?ended=1&next="+url.QueryEscape(safeNext(nextOf(c))))
		return "", false
	}
	return sid, true
}

func nextOf(c *gin.Context) string {
	if n := c.PostForm("next"); n != "" {
		return n
	}
	return c.Query("next")
}

func (h *Handlers) secondFactorPage(c *gin.Context, userSid string) (secondFactorPage, error) {
	st, err := h.services.TwoFactor.SecondFactors(c.Request.Context(), userSid)
	if err != nil {
		return secondFactorPage{}, err
	}
	return secondFactorPage{
		Title: "Two-factor authentication", Next: safeNext(nextOf(c)),
		HasTOTP: st.Has(domain.FactorTOTP), HasPasskey: st.Has(domain.FactorPasskey), RecoveryCodesLeft: st.RecoveryCodesLeft,
	}, nil
}

func (h *Handlers) showSecondFactor(c *gin.Context) {
	userSid, ok := h.pending(c)
	if !ok {
		return
	}
	p, err := h.secondFactorPage(c, userSid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	renderTwoFactor(c, http.StatusOK, "twofactor_signin.html", p)
}

// secondFactorRefused shows the second step again with why it failed.
func (h *Handlers) secondFactorRefused(c *gin.Context, userSid string, err error) {
	status, problem, _ := problemOf(c, err)
	if status == http.StatusInternalServerError {
		return
	}
	p, perr := h.secondFactorPage(c, userSid)
	if perr != nil {
		_ = c.Error(perr)
		return
	}
	p.Problem = problem
	renderTwoFactor(c, status, "twofactor_signin.html", p)
}

func (h *Handlers) secondFactorCode(c *gin.Context) {
	userSid, ok := h.pending(c)
	if !ok {
		return
	}
	u, method, err := h.services.TwoFactor.VerifyCode(c.Request.Context(), userSid, c.PostForm("code"), source(c))
	if err != nil {
		h.secondFactorRefused(c, userSid, err)
		return
	}
	if err := h.Establish(c, u, method); err != nil {
		_ = c.Error(err)
	}
}

// beginPasskeySignIn answers the options of a passkey assertion (JSON,
// for the page's script) and keeps its challenge in the session.
func (h *Handlers) beginPasskeySignIn(c *gin.Context) {
	userSid, ok := h.PendingUser(c)
	if !ok {
		_ = c.Error(lifecycle.ErrSignInFailed)
		return
	}
	cer, err := h.services.TwoFactor.BeginPasskeyLogin(c.Request.Context(), userSid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.sessions.Put(c.Request.Context(), keyPasskeyLogin, base64.StdEncoding.EncodeToString(cer.State))
	c.Data(http.StatusOK, "application/json", cer.Options)
}

func (h *Handlers) secondFactorPasskey(c *gin.Context) {
	userSid, ok := h.pending(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	state, _ := base64.StdEncoding.DecodeString(h.sessions.PopString(ctx, keyPasskeyLogin))
	u, err := h.services.TwoFactor.FinishPasskeyLogin(ctx, userSid, state, []byte(c.PostForm("credential")))
	if err != nil {
		h.secondFactorRefused(c, userSid, err)
		return
	}
	if err := h.Establish(c, u, lifecycle.MethodPasskey); err != nil {
		_ = c.Error(err)
	}
}

// securityPage is what the Security page shows.
type securityPage struct {
	Title, Notice, Problem string
	Status                 domain.TwoFactorStatus
	Factors                []factorView
	// TOTP is an authenticator app being added: its secret, and its QR
	// code as a data: URL.
	TOTP *totpView
	// RecoveryCodes are shown once, right after they are made.
	RecoveryCodes []string
}

type factorView struct {
	Sid, Kind, Name, Added, LastUsed string
}

type totpView struct {
	Secret, URL string
	// QRCode is a data: URL of a PNG we made (html/template would refuse
	// a data: URL given as a string).
	QRCode template.URL
}

func renderTwoFactor(c *gin.Context, status int, name string, p any) {
	c.Header("Cache-Control", "no-store")
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, name, p); err != nil {
		_ = c.Error(err)
	}
}

// security renders the Security page as the caller's factors now are.
func (h *Handlers) security(c *gin.Context, status int, p securityPage) {
	st, err := h.services.TwoFactor.Status(c.Request.Context(), edge.Principal(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	p.Title, p.Status = "Security", st
	for _, f := range st.Factors {
		v := factorView{Sid: f.Sid, Kind: f.Kind, Name: f.FriendlyName, Added: f.DateCreated.Format("2 Jan 2006 15:04 MST"), LastUsed: "never"}
		if f.DateLastUsed != nil {
			v.LastUsed = f.DateLastUsed.Format("2 Jan 2006 15:04 MST")
		}
		p.Factors = append(p.Factors, v)
	}
	renderTwoFactor(c, status, "twofactor_security.html", p)
}

// refused shows the Security page with why an action failed.
func (h *Handlers) refused(c *gin.Context, err error, p securityPage) {
	status, problem, _ := problemOf(c, err)
	if status == http.StatusInternalServerError {
		return
	}
	p.Problem = problem
	h.security(c, status, p)
}

func totpViewOf(e lifecycle.TOTPEnrolment) *totpView {
	return &totpView{Secret: e.Secret, URL: e.URL, QRCode: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCodePNG))}
}

func (h *Handlers) showSecurity(c *gin.Context) {
	p := securityPage{}
	switch {
	case c.Query("removed") != "":
		p.Notice = "The factor is removed."
	case c.Query("added") != "":
		p.Notice = "Your passkey is added."
	}
	h.security(c, http.StatusOK, p)
}

func (h *Handlers) beginTOTP(c *gin.Context) {
	e, err := h.services.TwoFactor.BeginTOTP(c.Request.Context(), edge.Principal(c))
	if err != nil {
		h.refused(c, err, securityPage{})
		return
	}
	h.security(c, http.StatusOK, securityPage{TOTP: totpViewOf(e),
		Notice: "Scan the QR code with your authenticator app (or type the secret into it), then enter the six-digit code it shows."})
}

func (h *Handlers) confirmTOTP(c *gin.Context) {
	ctx := c.Request.Context()
	p := edge.Principal(c)
	got, err := h.services.TwoFactor.ConfirmTOTP(ctx, p, c.PostForm("code"))
	if err != nil {
		page := securityPage{}
		if e, perr := h.services.TwoFactor.PendingTOTP(ctx, p); perr == nil {
			page.TOTP = totpViewOf(e)
		}
		h.refused(c, err, page)
		return
	}
	if err := h.Renew(c); err != nil {
		_ = c.Error(err)
		return
	}
	h.security(c, http.StatusOK, securityPage{RecoveryCodes: got.RecoveryCodes,
		Notice: "Your authenticator app is added: from now on, signing in asks for a code from it."})
}

func (h *Handlers) regenerateRecoveryCodes(c *gin.Context) {
	codes, err := h.services.TwoFactor.RegenerateRecoveryCodes(c.Request.Context(), edge.Principal(c))
	if err != nil {
		h.refused(c, err, securityPage{})
		return
	}
	h.security(c, http.StatusOK, securityPage{RecoveryCodes: codes, Notice: "Your new recovery codes replace the old ones."})
}

// beginPasskey answers the options of a passkey registration (JSON, for
// the page's script) and keeps its challenge in the session.
func (h *Handlers) beginPasskey(c *gin.Context) {
	cer, err := h.services.TwoFactor.BeginPasskey(c.Request.Context(), edge.Principal(c))
	if err != nil {
		_ = c.Error(err)
		return
	}
	h.sessions.Put(c.Request.Context(), keyPasskeyRegistration, base64.StdEncoding.EncodeToString(cer.State))
	c.Data(http.StatusOK, "application/json", cer.Options)
}

func (h *Handlers) finishPasskey(c *gin.Context) {
	ctx := c.Request.Context()
	state, _ := base64.StdEncoding.DecodeString(h.sessions.PopString(ctx, keyPasskeyRegistration))
	got, err := h.services.TwoFactor.FinishPasskey(ctx, edge.Principal(c), state, []byte(c.PostForm("credential")), c.PostForm("name"))
	if err != nil {
		h.refused(c, err, securityPage{})
		return
	}
	if err := h.Renew(c); err != nil {
		_ = c.Error(err)
		return
	}
	if len(got.RecoveryCodes) == 0 {
		c.Redirect(http.StatusSeeOther, "/console/security?added=passkey")
		return
	}
	h.security(c, http.StatusOK, securityPage{RecoveryCodes: got.RecoveryCodes, Notice: "Your passkey is added."})
}

func (h *Handlers) removeFactor(c *gin.Context) {
	if err := h.services.TwoFactor.RemoveFactor(c.Request.Context(), edge.Principal(c), c.Param("factor")); err != nil {
		h.refused(c, err, securityPage{})
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/security?removed=1")
}
