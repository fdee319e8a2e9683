package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// The Accounts section: the list with its filters, the Create New
// Account, Add Existing Account and Share panels, creation progress, and
// the pending imports and shares.

func (h *Handlers) registerAccounts(g gin.IRoutes) {
	g.GET("/accounts", h.listAccounts)
	g.GET("/accounts/new", h.newAccount)
	g.POST("/accounts", h.createAccount)
	g.GET("/accounts/:account/creation", h.creation)
	g.GET("/accounts/add", h.addExisting)
	g.POST("/accounts/add", h.importAccount)
	g.GET("/accounts/share", h.shareForm)
	g.POST("/accounts/share", h.shareAccount)
	g.GET("/pending", h.listPending)
	g.GET("/pending/:request", h.pending)
	g.POST("/pending/:request/cancel", h.cancelPending)
}

// accountsPage is the Accounts list.
type accountsPage struct {
	Accounts   []domain.Account
	Search     string
	Status     string
	Kind       string
	Statuses   []string
	Kinds      []string
	Next, Prev string
	Filtered   bool
}

// pageLinks are the links to the pages around page, keeping the filters.
func pageLinks[T any](c *gin.Context, page domain.Page[T], sidOf func(T) string) (next, prev string) {
	link := func(token string) string {
		q := url.Values{}
		for k, v := range c.Request.URL.Query() {
			if k != "page" {
				q[k] = v
			}
		}
		if token != "" {
			q.Set("page", token)
		}
		if len(q) == 0 {
			return c.Request.URL.Path
		}
		return c.Request.URL.Path + "?" + q.Encode()
	}
	if page.HasNext && len(page.Items) > 0 {
		next = link(domain.NextPageToken(page.Number, sidOf(page.Items[len(page.Items)-1])))
	}
	if page.HasPrev {
		prev = link("")
		if page.Number > 1 && len(page.Items) > 0 {
			prev = link(domain.PrevPageToken(page.Number, sidOf(page.Items[0])))
		}
	}
	return next, prev
}

// consolePageSize is how many rows a console list shows at a time.
const consolePageSize = 25

func pageRequest(c *gin.Context, prefix string) (domain.PageRequest, error) {
	return domain.ParsePageToken(c.Query("page"), prefix, consolePageSize)
}

func (h *Handlers) listAccounts(c *gin.Context) {
	f := domain.AccountFilter{Search: strings.TrimSpace(c.Query("q")), Status: c.Query("status"), Kind: c.Query("kind")}
	v := view{Title: "Accounts", Section: "accounts", Form: c.Request.URL.Query()}
	d := accountsPage{Search: f.Search, Status: f.Status, Kind: f.Kind, Filtered: f.Search != "" || f.Status != "" || f.Kind != "",
		Statuses: []string{domain.AccountActive, domain.AccountSuspended, domain.AccountPendingClosure, domain.AccountClosed},
		Kinds:    []string{domain.AccountManaged, domain.AccountIndependent}}
	var err error
	if f.Page, err = pageRequest(c, domain.PrefixAccount); err == nil {
		var out domain.Page[domain.Account]
		if out, err = h.services.Accounts.List(c.Request.Context(), edge.Principal(c), f); err == nil {
			d.Accounts = out.Items
			d.Next, d.Prev = pageLinks(c, out, func(a domain.Account) string { return a.Sid })
		}
	}
	v.D = d
	if err != nil {
		h.badFilter(c, err, "accounts", "filter", v)
		return
	}
	h.render(c, http.StatusOK, "accounts", v)
}

// flexSteps are what a Flex account's creation runs, in words.
var flexSteps = []string{"TaskRouter workspace", "Conversations service", "Studio flow", "Flex UI configuration"}

func (h *Handlers) newAccount(c *gin.Context) {
	h.render(c, http.StatusOK, "account-new", view{Title: "Create New Account", Section: "accounts", D: flexSteps})
}

// createAccount implements the Create New Account panel's POST.
func (h *Handlers) createAccount(c *gin.Context) {
	cmd := lifecycle.CreateAccount{
		FriendlyName: strings.TrimSpace(c.PostForm("friendly_name")), Owner: strings.TrimSpace(c.PostForm("owner")),
		Flex: c.PostForm("flex") == "on",
	}
	out, err := h.services.Accounts.Create(c.Request.Context(), edge.Principal(c), cmd)
	if err != nil {
		field := "friendly_name"
		if domain.ErrorCode(err) == domain.CodeOwnerNotManaged || strings.Contains(domain.ErrorMessage(err), "owner") {
			field = "owner"
		}
		h.failed(c, err, "account-new", field, view{Title: "Create New Account", Section: "accounts", D: flexSteps})
		return
	}
	see(c, Prefix+"/accounts/"+out.Account.Sid+"/creation")
}

// creationPage is an account's creation as it runs.
type creationPage struct {
	Sid      string
	Progress domain.Progress
	Account  *domain.Account
	Running  bool
	Workflow string
}

func (h *Handlers) creation(c *gin.Context) {
	out, err := h.services.Accounts.Progress(c.Request.Context(), edge.Principal(c), c.Param("account"))
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.render(c, http.StatusOK, "creation", view{Title: "Creating an account", Section: "accounts", D: creationPage{
		Sid: out.AccountSid, Progress: out.Progress, Account: out.Account, Running: out.Progress.Status == domain.StepRunning,
		Workflow: h.workflowLink(out.Run),
	}})
}

func (h *Handlers) addExisting(c *gin.Context) {
	if err := edge.Principal(c).RequireOrgAdmin(); err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.render(c, http.StatusOK, "account-add", view{Title: "Add Existing Account", Section: "accounts"})
}

// importAccount implements Add Existing Account: an import request the
// account's owner confirms by email.
func (h *Handlers) importAccount(c *gin.Context) {
	out, err := h.services.Requests.Import(c.Request.Context(), edge.Principal(c), lifecycle.ImportAccount{
		AccountSid: strings.TrimSpace(c.PostForm("account_sid")),
	})
	if domain.ErrorCode(err) == domain.CodeDomainNotVerified {
		err = domain.Errorf(domain.EInvalid, domain.CodeDomainNotVerified, "%s. Only an account whose owner's email is on one of the organization's "+
			"verified domains can be imported, because its owner becomes a managed user: share the account instead, or verify the owner's domain first",
			strings.TrimSuffix(domain.ErrorMessage(err), "."))
	}
	if err != nil {
		h.failed(c, err, "account-add", "account_sid", view{Title: "Add Existing Account", Section: "accounts"})
		return
	}
	see(c, Prefix+"/pending/"+out.Request.Sid)
}

// grantableRoles are the roles a form may grant, in the order shown.
var grantableRoles = []string{domain.RoleAdministrator, domain.RoleDeveloper, domain.RoleBillingManager, domain.RoleSupport}

func (h *Handlers) shareForm(c *gin.Context) {
	if err := edge.Principal(c).RequireOrgAdmin(); err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	h.render(c, http.StatusOK, "account-share", view{Title: "Share an independent account", Section: "accounts", D: grantableRoles})
}

// shareAccount implements the share panel: an independent account's owner
// is asked to let managed users in with roles.
func (h *Handlers) shareAccount(c *gin.Context) {
	var grants []domain.Grant
	if who := strings.TrimSpace(c.PostForm("identity")); who != "" {
		grants = append(grants, domain.Grant{Identity: who, Roles: c.PostFormArray("roles")})
	}
	out, err := h.services.Requests.Share(c.Request.Context(), edge.Principal(c), lifecycle.ShareAccount{
		AccountSid: strings.TrimSpace(c.PostForm("account_sid")), Grants: grants,
	})
	if err != nil {
		field := "account_sid"
		if msg := domain.ErrorMessage(err); strings.Contains(msg, "grant") || strings.Contains(msg, "identity") || strings.Contains(msg, "role") {
			field = "identity"
		}
		h.failed(c, err, "account-share", field, view{Title: "Share an independent account", Section: "accounts", D: grantableRoles})
		return
	}
	see(c, Prefix+"/pending/"+out.Request.Sid)
}

// pendingList is the organization's pending accounts.
type pendingList struct {
	Requests   []lifecycle.PendingAccount
	Next, Prev string
}

func (h *Handlers) listPending(c *gin.Context) {
	v := view{Title: "Pending accounts", Section: "accounts"}
	req, err := pageRequest(c, domain.PrefixAccountRequest)
	if err != nil {
		h.problem(c, err, Prefix+"/pending")
		return
	}
	out, err := h.services.Requests.List(c.Request.Context(), edge.Principal(c), lifecycle.ListRequests{Page: req})
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	d := pendingList{Requests: out.Items}
	d.Next, d.Prev = pageLinks(c, out, func(r lifecycle.PendingAccount) string { return r.Request.Sid })
	v.D = d
	h.render(c, http.StatusOK, "pending-list", v)
}

// pendingPage is one import or share request as it waits for its owner.
type pendingPage struct {
	Request  domain.AccountRequest
	Waiting  bool
	Workflow string
}

func (h *Handlers) pending(c *gin.Context) {
	out, err := h.services.Requests.Get(c.Request.Context(), edge.Principal(c), c.Param("request"))
	if err != nil {
		h.problem(c, err, Prefix+"/pending")
		return
	}
	h.render(c, http.StatusOK, "pending", view{Title: "Pending account " + out.Request.AccountSid, Section: "accounts", D: pendingPage{
		Request: out.Request, Waiting: !out.Request.Ended(), Workflow: h.workflowLink(out.Run),
	}})
}

// cancelPending withdraws an import or share request.
func (h *Handlers) cancelPending(c *gin.Context) {
	sid := c.Param("request")
	if _, err := h.services.Requests.Cancel(c.Request.Context(), edge.Principal(c), "", sid); err != nil {
		h.problem(c, err, Prefix+"/pending")
		return
	}
	see(c, Prefix+"/pending/"+sid)
}
