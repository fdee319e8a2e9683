package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// An account's details: the General tab (settings, owner), closing it with
// its four acknowledgements, the closure's progress, and reopening.

func (h *Handlers) registerAccount(g gin.IRoutes) {
	g.GET("/accounts/:account", h.general)
	g.POST("/accounts/:account/settings", h.updateSettings)
	g.GET("/accounts/:account/owner", h.ownerForm)
	g.POST("/accounts/:account/owner", h.changeOwner)
	g.GET("/accounts/:account/close", h.closeForm)
	g.POST("/accounts/:account/close", h.closeAccount)
	g.GET("/accounts/:account/closure", h.closure)
	g.POST("/accounts/:account/reopen", h.reopen)
}

// accountPage is an account's page: the account, what the caller may do
// on it, which tab shows, and the tab's own data.
type accountPage struct {
	lifecycle.AccountView
	Tab  string
	Data any
}

// Closing tells whether the account is closing or closed.
func (p accountPage) Closing() bool {
	return p.Account.Status == domain.AccountPendingClosure || p.Account.Status == domain.AccountClosed
}

// Independent tells an account its outside owner shared.
func (p accountPage) Independent() bool { return p.Account.Kind == domain.AccountIndependent }

// accountView loads the account the page is about, answering the request
// itself when it may not be shown.
func (h *Handlers) accountView(c *gin.Context) (lifecycle.AccountView, bool) {
	av, err := h.services.Accounts.View(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return av, false
	}
	return av, true
}

func accountTitle(a domain.Account) string {
	if a.FriendlyName != "" {
		return a.FriendlyName
	}
	return a.Sid
}

func (h *Handlers) general(c *gin.Context) {
	av, ok := h.accountView(c)
	if !ok {
		return
	}
	h.render(c, http.StatusOK, "account-general", view{Title: accountTitle(av.Account), Section: "accounts",
		Notice: savedNotices[c.Query("saved")], D: accountPage{AccountView: av, Tab: "general"}})
}

// savedNotices are what the General tab says after an action led back to
// it.
var savedNotices = map[string]string{
	"settings": "Settings saved.",
	"owner":    "Owner changed. Both owners were emailed; the former owner stays on as Administrator.",
	"reopened": "Account reopened: it is active again with its owner.",
}

// updateSettings saves the General tab's settings: the name and whether
// the account requires two-factor authentication.
func (h *Handlers) updateSettings(c *gin.Context) {
	name := strings.TrimSpace(c.PostForm("friendly_name"))
	require2FA := c.PostForm("require_2fa") == "on"
	_, err := h.services.Accounts.Update(c.Request.Context(), edge.Principal(c), c.Param("account"),
		domain.AccountUpdate{FriendlyName: &name, Require2FA: &require2FA})
	if err != nil {
		h.problem(c, err, Prefix+"/accounts/"+c.Param("account"))
		return
	}
	see(c, Prefix+"/accounts/"+c.Param("account")+"?saved=settings")
}

// ownerPage is the change-owner form with the managed users it offers.
type ownerPage struct {
	AccountSid string
	Candidates []domain.User
}

func (h *Handlers) ownerForm(c *gin.Context) {
	users, err := h.services.People.OwnerCandidates(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		h.problem(c, err, Prefix+"/accounts/"+c.Param("account"))
		return
	}
	h.render(c, http.StatusOK, "account-owner", view{Title: "Change owner", Section: "accounts",
		D: ownerPage{AccountSid: c.Param("account"), Candidates: users}})
}

// changeOwner moves the account to a managed user named by email or SID.
func (h *Handlers) changeOwner(c *gin.Context) {
	sid := c.Param("account")
	if _, err := h.services.People.TransferOwnership(c.Request.Context(), edge.Principal(c), sid, strings.TrimSpace(c.PostForm("owner"))); err != nil {
		h.failed(c, err, "account-owner", "owner", view{Title: "Change owner", Section: "accounts", D: ownerPage{AccountSid: sid}})
		return
	}
	see(c, Prefix+"/accounts/"+sid+"?saved=owner")
}

// acknowledgement is one statement the Close dialog asks to tick.
type acknowledgement struct{ Name, Label string }

// closeAcknowledgements are the Close dialog's four statements, in the
// order of the closure they describe.
var closeAcknowledgements = []acknowledgement{
	{"lose_access", "I understand that everyone loses access to this account and its subaccounts at once: its credentials stop working and every role on it is removed."},
	{"stop_charges", "I understand that every recurring charge of the account stops."},
	{"release_resources", "I understand that the account's phone numbers and short codes are released, and a reopen does not bring them back."},
	{"schedule_deletion", "I understand that the account's data is deleted after the retention period, and the account can be reopened only until then."},
}

// closePage is the Close dialog.
type closePage struct {
	accountPage
	Acks []acknowledgement
}

func (h *Handlers) closeForm(c *gin.Context) {
	av, ok := h.accountView(c)
	if !ok {
		return
	}
	if !av.May.Close {
		h.problem(c, errNotYours("close this account"), Prefix+"/accounts/"+av.Account.Sid)
		return
	}
	h.render(c, http.StatusOK, "account-close", view{Title: "Close " + accountTitle(av.Account), Section: "accounts",
		D: closePage{accountPage: accountPage{AccountView: av, Tab: "general"}, Acks: closeAcknowledgements}})
}

// closeAccount starts the closure once all four boxes were ticked (the
// service refuses it otherwise, naming what is missing).
func (h *Handlers) closeAccount(c *gin.Context) {
	sid := c.Param("account")
	ticked := func(name string) *bool { v := c.PostForm(name) == "on"; return &v }
	_, err := h.services.Closure.Close(c.Request.Context(), edge.Principal(c), sid, domain.CloseAcknowledgements{
		LoseAccess: ticked("lose_access"), StopCharges: ticked("stop_charges"),
		ReleaseResources: ticked("release_resources"), ScheduleDeletion: ticked("schedule_deletion"),
	})
	if err != nil {
		h.failed(c, err, "account-close", "acknowledgements", view{Title: "Close account", Section: "accounts", D: closePage{
			accountPage: accountPage{AccountView: lifecycle.AccountView{Account: domain.Account{Sid: sid}}}, Acks: closeAcknowledgements,
		}})
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/closure")
}

// closurePage is an account's closure as it runs.
type closurePage struct {
	Sid      string
	View     lifecycle.ClosureView
	Running  bool
	Workflow string
	// Reopenable: an organization admin may still reopen the account.
	Reopenable bool
}

func (h *Handlers) closure(c *gin.Context) {
	p := edge.Principal(c)
	out, err := h.services.Closure.Progress(c.Request.Context(), p, c.Param("account"))
	if err != nil {
		h.problem(c, err, Prefix+"/accounts/"+c.Param("account"))
		return
	}
	reopenable := p.IsOrgAdmin() && out.Account != nil && domain.CheckReopenable(*out.Account) == nil
	h.render(c, http.StatusOK, "closure", view{Title: "Closing " + out.AccountSid, Section: "accounts", D: closurePage{
		Sid: out.AccountSid, View: out, Running: out.Progress.Status == domain.StepRunning, Workflow: h.workflowLink(out.Run),
		Reopenable: reopenable,
	}})
}

// reopen makes a closing or closed account active again.
func (h *Handlers) reopen(c *gin.Context) {
	sid := c.Param("account")
	if _, err := h.services.Closure.Reopen(c.Request.Context(), edge.Principal(c), sid); err != nil {
		h.problem(c, err, Prefix+"/accounts/"+sid+"/closure")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"?saved=reopened")
}
