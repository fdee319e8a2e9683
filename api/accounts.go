package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// organizationJSON is an organization on the wire.
type organizationJSON struct {
	OrganizationSid string `json:"organization_sid"`
	FriendlyName    string `json:"friendly_name"`
	OwnerSid        string `json:"owner_sid"`
	DateCreated     string `json:"date_created"`
	URL             string `json:"url"`
}

func (s *server) getOrganization(c *gin.Context) {
	org, err := s.store.FindOrganization(c.Request.Context(), c.Param("org"))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, organizationJSON{
		OrganizationSid: org.Sid, FriendlyName: org.FriendlyName, OwnerSid: org.OwnerSid,
		DateCreated: rfc3339(org.DateCreated), URL: s.baseURL + "/Organizations/" + org.Sid,
	})
}

// accountJSON is an account on the wire: the contract's five fields first,
// then ours (clients ignore fields they do not know).
type accountJSON struct {
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
	OwnerSid     string `json:"owner_sid"`
	DateCreated  string `json:"date_created"`
	DateUpdated  string `json:"date_updated"`
	Kind         string `json:"kind"`
	Flex         bool   `json:"flex"`
	Require2FA   bool   `json:"require_2fa"`
	URL          string `json:"url"`
	// A subaccount's parent; a closure's dates while it closes.
	ParentSid            string  `json:"parent_sid,omitempty"`
	DateClosureRequested *string `json:"date_closure_requested,omitempty"`
	DateClosed           *string `json:"date_closed,omitempty"`
	PurgeAfter           *string `json:"purge_after,omitempty"`
}

func (s *server) accountURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Accounts/" + sid
}

func (s *server) renderAccount(a domain.Account) accountJSON {
	return accountJSON{
		AccountSid: a.Sid, FriendlyName: a.FriendlyName, Status: a.Status, OwnerSid: a.OwnerSid,
		DateCreated: rfc3339(a.DateCreated), DateUpdated: rfc3339(a.DateUpdated), Kind: a.Kind,
		Flex: a.Flex, Require2FA: a.Require2FA, URL: s.accountURL(a.OrganizationSid, a.Sid), ParentSid: a.ParentSid,
		DateClosureRequested: optTime(a.DateClosureRequested), DateClosed: optTime(a.DateClosed), PurgeAfter: optTime(a.PurgeAfter),
	}
}

func (s *server) listAccounts(c *gin.Context) {
	page, err := pageRequest(c, domain.PrefixAccount, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	f := domain.AccountFilter{OrganizationSid: p.OrganizationSid, Page: page}
	if !p.IsOrgAdmin() {
		f.VisibleTo = p.UserSid
	}
	items, err := s.store.ListAccounts(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(a domain.Account) string { return a.Sid }, s.renderAccount))
}

// account loads the account in the path and checks the caller may perform
// action on it. Accounts still being provisioned do not exist yet.
func (s *server) account(c *gin.Context, action domain.AccountAction) (domain.Account, error) {
	sid, err := sidParam(c, "account", domain.PrefixAccount)
	if err != nil {
		return domain.Account{}, err
	}
	p := principal(c)
	a, err := s.store.FindAccount(c.Request.Context(), p.OrganizationSid, sid)
	if err == nil && a.Status == domain.AccountProvisioning {
		err = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")
	}
	if err != nil {
		return a, err
	}
	if p.AccountSid != "" {
		// A credential scoped to this account (accountCredentialScope
		// checked the path) acts for it on its own resources.
		if p.AccountSid != sid {
			return a, domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")
		}
		return a, nil
	}
	var roles []string
	if !p.IsOrgAdmin() {
		if roles, err = s.store.RolesOn(c.Request.Context(), sid, p.UserSid); err != nil {
			return a, err
		}
	}
	return a, p.AuthorizeAccount(action, roles)
}

func (s *server) getAccount(c *gin.Context) {
	a, err := s.account(c, domain.ActionReadAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(a))
}

type createAccountRequest struct {
	FriendlyName string `json:"friendly_name"`
	// Owner is a User SID or the email of a managed user; empty means the
	// organization owner.
	Owner string `json:"owner"`
	Flex  bool   `json:"flex"`
	// ParentSid makes the new account a subaccount of an active top-level
	// account the caller may manage.
	ParentSid string `json:"parent_sid"`
}

// creationJSON answers POST …/Accounts and GET …/Accounts/{AC}/Creation.
type creationJSON struct {
	AccountSid string             `json:"account_sid"`
	Status     string             `json:"status"` // running | completed | failed
	Steps      []workflows.Step   `json:"steps,omitempty"`
	Error      *workflows.Failure `json:"error,omitempty"`
	WorkflowID string             `json:"workflow_id"`
	RunID      string             `json:"run_id"`
	Account    *accountJSON       `json:"account,omitempty"`
	Links      map[string]string  `json:"links"`
}

func (s *server) createAccount(c *gin.Context) {
	p := principal(c)
	if err := p.CanCreateAccounts(); err != nil {
		_ = c.Error(err)
		return
	}
	var req createAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	if err := domain.ValidateFriendlyName("friendly_name", req.FriendlyName); err != nil {
		_ = c.Error(err)
		return
	}
	owner, err := s.resolveOwner(c, req.Owner)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if req.ParentSid != "" {
		if err := s.checkParent(c, req.ParentSid); err != nil {
			_ = c.Error(err)
			return
		}
	}
	sid := s.newSID(c, domain.PrefixAccount)
	now := s.clock.Now().Truncate(time.Second)
	// A Standard user who creates an account for someone else becomes its
	// Administrator, to reach it; organization admins reach it anyway.
	creator := p.UserSid
	if p.IsOrgAdmin() {
		creator = ""
	}
	started, err := s.workflows.StartCreateAccount(c.Request.Context(), workflows.CreateAccountInput{
		OrganizationSid: p.OrganizationSid, AccountSid: sid, FriendlyName: req.FriendlyName,
		OwnerSid: owner.Sid, Flex: req.Flex, CreatorSid: creator, RequestedAt: now, Actor: p.Actor(), ParentSid: req.ParentSid,
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.workflowStarted(c, "CreateAccountWorkflow", started)
	acct := s.renderAccount(domain.Account{
		Sid: sid, OrganizationSid: p.OrganizationSid, FriendlyName: req.FriendlyName, Status: domain.AccountProvisioning,
		Kind: domain.AccountManaged, OwnerSid: owner.Sid, Flex: req.Flex, Require2FA: domain.NewAccountDefaults.Require2FA,
		DateCreated: now, DateUpdated: now, ParentSid: req.ParentSid,
	})
	creation := s.accountURL(p.OrganizationSid, sid) + "/Creation"
	c.Header("Location", creation)
	c.PureJSON(http.StatusAccepted, creationJSON{
		AccountSid: sid, Status: workflows.StepRunning, WorkflowID: started.WorkflowID, RunID: started.RunID,
		Account: &acct, Links: map[string]string{"creation": creation, "account": acct.URL},
	})
}

// workflowStarted counts a start and logs it, so an operator can go from
// this request's log line to the workflow in the Web UI.
func (s *server) workflowStarted(c *gin.Context, typ string, w workflows.Started) {
	if s.metrics != nil {
		s.metrics.WorkflowStarts.WithLabelValues(typ).Inc()
	}
	s.log.InfoContext(c.Request.Context(), "workflow started", "request_id", requestID(c), "workflow_type", typ,
		"workflow_id", w.WorkflowID, "run_id", w.RunID)
}

// resolveOwner finds the owner named by SID or email (the organization
// owner when empty) and applies the managed-owner rule.
func (s *server) resolveOwner(c *gin.Context, owner string) (domain.User, error) {
	ctx := c.Request.Context()
	p := principal(c)
	var u domain.User
	var err error
	switch {
	case owner == "":
		org, oerr := s.store.FindOrganization(ctx, p.OrganizationSid)
		if oerr != nil {
			return u, oerr
		}
		u, err = s.store.FindUser(ctx, p.OrganizationSid, org.OwnerSid)
	case strings.HasPrefix(owner, domain.PrefixUser) && !strings.Contains(owner, "@"):
		if err := domain.CheckSID("owner", domain.PrefixUser, owner); err != nil {
			return u, err
		}
		u, err = s.store.FindUser(ctx, p.OrganizationSid, owner)
	default:
		email, eerr := domain.NormalizeEmail("owner", owner)
		if eerr != nil {
			return u, domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "owner must be a User SID (US…) or an email address")
		}
		u, err = s.store.FindUserByEmail(ctx, p.OrganizationSid, email)
	}
	if domain.ErrorCode(err) == domain.CodeUserNotFound {
		return u, domain.Errorf(domain.EInvalid, domain.CodeOwnerNotManaged, "the account owner %q is not a managed user of this organization", owner)
	}
	if err != nil {
		return u, err
	}
	return u, domain.CheckManagedOwner(p.OrganizationSid, u)
}

func (s *server) getCreation(c *gin.Context) {
	sid, err := sidParam(c, "account", domain.PrefixAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	progress, started, err := s.workflows.CreateAccountProgress(c.Request.Context(), sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if !p.IsOrgAdmin() && (progress.RequestedBy == "" || progress.RequestedBy != p.UserSid) {
		if _, err := s.account(c, domain.ActionReadAccount); err != nil {
			_ = c.Error(err)
			return
		}
	}
	if progress.OrganizationSid != p.OrganizationSid {
		_ = c.Error(domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization"))
		return
	}
	body := creationJSON{
		AccountSid: sid, Status: progress.Status, Steps: progress.Steps, Error: progress.Error,
		WorkflowID: started.WorkflowID, RunID: started.RunID,
		Links: map[string]string{"creation": s.accountURL(p.OrganizationSid, sid) + "/Creation", "account": s.accountURL(p.OrganizationSid, sid)},
	}
	if progress.Status == workflows.StepCompleted {
		if a, err := s.store.FindAccount(c.Request.Context(), p.OrganizationSid, sid); err == nil {
			aj := s.renderAccount(a)
			body.Account = &aj
		}
	}
	c.PureJSON(http.StatusOK, body)
}

type updateAccountRequest struct {
	FriendlyName *string `json:"friendly_name"`
	Require2FA   *bool   `json:"require_2fa"`
}

func (s *server) updateAccount(c *gin.Context) {
	a, err := s.account(c, domain.ActionUpdateSettings)
	if err != nil {
		_ = c.Error(err)
		return
	}
	var req updateAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	u := domain.AccountUpdate{FriendlyName: req.FriendlyName, Require2FA: req.Require2FA}
	if err := u.Validate(); err != nil {
		_ = c.Error(err)
		return
	}
	p := principal(c)
	out, err := s.store.UpdateAccount(c.Request.Context(), p.OrganizationSid, a.Sid, u,
		domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountUpdated, a.Sid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderAccount(out))
}

// checkParent applies the rules for a subaccount's parent: an active
// top-level account of the organization that the caller may manage
// (25101, 25105; 25019 when it is not active or is itself a subaccount).
func (s *server) checkParent(c *gin.Context, parentSid string) error {
	if err := domain.CheckSID("parent_sid", domain.PrefixAccount, parentSid); err != nil {
		return err
	}
	p := principal(c)
	ctx := c.Request.Context()
	parent, err := s.store.FindAccount(ctx, p.OrganizationSid, parentSid)
	if err == nil && parent.Status == domain.AccountProvisioning {
		err = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "account not found in this organization")
	}
	if err != nil {
		return err
	}
	if !p.IsOrgAdmin() {
		roles, err := s.store.RolesOn(ctx, parentSid, p.UserSid)
		if err != nil {
			return err
		}
		if err := p.AuthorizeAccount(domain.ActionUpdateSettings, roles); err != nil {
			return err
		}
	}
	return domain.CheckSubaccountParent(parent)
}
