package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// requestJSON is an import or share request on the wire (the Pending
// accounts tab).
type requestJSON struct {
	Sid          string         `json:"sid"`
	Kind         string         `json:"kind"`
	AccountSid   string         `json:"account_sid"`
	AccountName  string         `json:"account_name"`
	Status       string         `json:"status"`
	RequestedBy  string         `json:"requested_by"`
	OwnerSid     string         `json:"owner_sid"`
	OwnerEmail   string         `json:"owner_email"`
	Grants       []domain.Grant `json:"grants"`
	SentCount    int            `json:"sent_count"`
	DateReminded *string        `json:"date_reminded"`
	DateCreated  string         `json:"date_created"`
	ExpiresAt    string         `json:"expires_at"`
	DateEnded    *string        `json:"date_ended"`
	WorkflowID   string         `json:"workflow_id"`
	URL          string         `json:"url"`
}

func (s *server) requestURL(r domain.AccountRequest) string {
	return s.baseURL + "/Organizations/" + r.OrganizationSid + "/PendingAccounts/" + r.Sid
}

func (s *server) renderRequest(r domain.AccountRequest) requestJSON {
	grants := r.Grants
	if grants == nil {
		grants = []domain.Grant{}
	}
	return requestJSON{
		Sid: r.Sid, Kind: r.Kind, AccountSid: r.AccountSid, AccountName: r.AccountName, Status: r.Status, RequestedBy: r.RequesterSid,
		OwnerSid: r.OwnerSid, OwnerEmail: r.OwnerEmail, Grants: grants, SentCount: r.SentCount, DateReminded: optTime(r.RemindedAt),
		DateCreated: rfc3339(r.DateCreated), ExpiresAt: rfc3339(r.ExpiresAt), DateEnded: optTime(r.DateEnded),
		WorkflowID: workflows.AccountRequestWorkflowID(r.Kind, r.Sid), URL: s.requestURL(r),
	}
}

type importRequest struct {
	AccountSid string `json:"account_sid"`
}

type shareRequest struct {
	AccountSid string         `json:"account_sid"`
	Grants     []domain.Grant `json:"grants"`
}

func (s *server) importAccount(c *gin.Context) {
	var req importRequest
	if err := principal(c).RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	s.requestAccount(c, domain.RequestImport, req.AccountSid, nil)
}

func (s *server) shareAccount(c *gin.Context) {
	var req shareRequest
	if err := principal(c).RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	if err := decodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	grants, err := domain.NormalizeGrants(req.Grants)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	p := principal(c)
	for _, g := range grants {
		u, err := s.store.FindUser(ctx, p.OrganizationSid, g.Identity)
		if err == nil && !u.IsManagedBy(p.OrganizationSid) {
			err = domain.Errorf(domain.EInvalid, domain.CodeIdentityNotManaged, "grants: %s is not an active managed user of the organization", g.Identity)
		}
		if err != nil {
			_ = c.Error(err)
			return
		}
	}
	s.requestAccount(c, domain.RequestShare, req.AccountSid, grants)
}

// requestAccount checks an import or share synchronously (every refusal is
// an answer to this request, never a failed workflow), records the pending
// request and starts its workflow.
func (s *server) requestAccount(c *gin.Context, kind, accountSid string, grants []domain.Grant) {
	ctx := c.Request.Context()
	p := principal(c)
	if err := domain.CheckSID("account_sid", domain.PrefixAccount, accountSid); err != nil {
		_ = c.Error(err)
		return
	}
	acct, owner, err := s.store.FindAnyAccount(ctx, accountSid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	verified, err := s.store.IsVerifiedDomain(ctx, p.OrganizationSid, domain.EmailDomain(owner.UserName))
	if err != nil {
		_ = c.Error(err)
		return
	}
	check := domain.CheckImport
	if kind == domain.RequestShare {
		check = domain.CheckShare
	}
	if err := check(acct, owner, verified); err != nil {
		_ = c.Error(err)
		return
	}
	r := domain.AccountRequest{
		Sid: s.newSID(c, domain.PrefixAccountRequest), OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, Kind: kind,
		RequesterSid: p.UserSid, OwnerSid: owner.Sid, OwnerEmail: owner.UserName, Grants: grants,
		ExpiresAt: s.clock.Now().Add(s.requestTTL).UTC().Truncate(time.Microsecond),
	}
	if err := s.store.CreateAccountRequest(ctx, r, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventRequestCreated, r.Sid,
		map[string]any{"kind": kind, "account_sid": acct.Sid, "owner_email": owner.UserName, "expires_at": rfc3339(r.ExpiresAt)})); err != nil {
		_ = c.Error(err)
		return
	}
	started, err := s.workflows.StartAccountRequest(ctx, kind, workflows.AccountRequestInput{
		OrganizationSid: p.OrganizationSid, AccountSid: acct.Sid, RequestSid: r.Sid, ExpiresAt: r.ExpiresAt, Actor: p.Actor(),
	})
	if err != nil {
		// Nothing was emailed: the request ends so the account is free.
		_, _ = s.store.FinishAccountRequest(ctx, r.Sid, domain.RequestCancelled, domain.NewAuditEvent(domain.SystemActor, p.OrganizationSid,
			"account_request."+domain.RequestCancelled, r.Sid, map[string]any{"reason": "the workflow could not start"}))
		_ = c.Error(err)
		return
	}
	if kind == domain.RequestShare {
		s.workflowStarted(c, "ShareAccountWorkflow", started)
	} else {
		s.workflowStarted(c, "ImportAccountWorkflow", started)
	}
	stored, err := s.store.FindAccountRequest(ctx, p.OrganizationSid, r.Sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	body := s.renderRequest(stored)
	c.Header("Location", body.URL)
	c.PureJSON(http.StatusCreated, body)
}

// pendingAccount loads the request in the path (of kind, when not empty).
func (s *server) pendingAccount(c *gin.Context, kind string) (domain.AccountRequest, error) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		return domain.AccountRequest{}, err
	}
	sid, err := sidParam(c, "request", domain.PrefixAccountRequest)
	if err != nil {
		return domain.AccountRequest{}, err
	}
	r, err := s.store.FindAccountRequest(c.Request.Context(), p.OrganizationSid, sid)
	if err == nil && kind != "" && r.Kind != kind {
		err = domain.Errorf(domain.ENotFound, 20404, "%s is a %s request, not an %s request", sid, r.Kind, kind)
	}
	return r, err
}

func (s *server) getPendingAccount(c *gin.Context) {
	r, err := s.pendingAccount(c, "")
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, s.renderRequest(r))
}

func (s *server) cancelRequest(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, err := s.pendingAccount(c, kind)
		if err != nil {
			_ = c.Error(err)
			return
		}
		if r.Ended() {
			_ = c.Error(domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the request is already %s", r.Status))
			return
		}
		if _, err := s.workflows.CancelAccountRequest(c.Request.Context(), r.Kind, r.Sid, principal(c).Actor()); err != nil {
			_ = c.Error(err)
			return
		}
		if r, err = s.store.FindAccountRequest(c.Request.Context(), r.OrganizationSid, r.Sid); err != nil {
			_ = c.Error(err)
			return
		}
		c.PureJSON(http.StatusOK, s.renderRequest(r))
	}
}

var requestStatuses = []string{domain.RequestPending, domain.RequestAccepted, domain.RequestDeclined, domain.RequestCancelled, domain.RequestExpired}

func (s *server) listPendingAccounts(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	page, err := pageRequest(c, domain.PrefixAccountRequest, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := domain.AccountRequestFilter{OrganizationSid: p.OrganizationSid, EndedAfter: s.clock.Now().Add(-domain.RequestListedFor), Page: page}
	if st, ok := c.GetQuery("Status"); ok {
		if !contains(requestStatuses, st) {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Status must be one of %s", strings.Join(requestStatuses, ", ")))
			return
		}
		f.Status = st
	}
	if k, ok := c.GetQuery("Kind"); ok {
		if k != domain.RequestImport && k != domain.RequestShare {
			_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "Kind must be import or share"))
			return
		}
		f.Kind = k
	}
	items, err := s.store.ListAccountRequests(c.Request.Context(), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, envelope(s, c, domain.PageFrom(page, items), func(r domain.AccountRequest) string { return r.Sid }, s.renderRequest))
}

// relinquish implements POST …/Accounts/{AC}/Relinquish: the organization's
// access to an independent account ends at once; the owner is told.
func (s *server) relinquish(c *gin.Context) {
	p := principal(c)
	if err := p.RequireOrgAdmin(); err != nil {
		_ = c.Error(err)
		return
	}
	sid, err := sidParam(c, "account", domain.PrefixAccount)
	if err != nil {
		_ = c.Error(err)
		return
	}
	ctx := c.Request.Context()
	before, err := s.store.FindAccount(ctx, p.OrganizationSid, sid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	// Checked before pending invitations are revoked, and again under the
	// store's lock.
	if err := domain.CheckRelinquish(before); err != nil {
		_ = c.Error(err)
		return
	}
	// Pending invitations to the account end first: nobody may join it
	// through the organization once it has gone.
	invs, err := s.store.ListInvitations(ctx, domain.InvitationFilter{AccountSid: sid, Status: domain.InvitationPending, Page: domain.PageRequest{Size: domain.MaxPageSize}})
	if err != nil {
		_ = c.Error(err)
		return
	}
	for _, inv := range invs {
		if _, err := s.workflows.RevokeInvitation(ctx, inv.Sid, p.Actor()); err != nil && domain.ErrorKind(err) != domain.EConflict {
			_ = c.Error(err)
			return
		}
	}
	a, err := s.store.Relinquish(ctx, p.OrganizationSid, sid, domain.NewAuditEvent(p.Actor(), p.OrganizationSid, domain.EventAccountRelinquished, sid, nil))
	if err != nil {
		_ = c.Error(err)
		return
	}
	org, err := s.store.FindOrganization(ctx, p.OrganizationSid)
	if err != nil {
		_ = c.Error(err)
		return
	}
	_, owner, err := s.store.FindAnyAccount(ctx, sid)
	if err == nil {
		err = s.workflows.StartEmail(ctx, p.OrganizationSid, sid, requestID(c), activities.EmailInput{
			Key: "relinquish/" + sid + "/v" + strconv.Itoa(a.Version), OrganizationSid: p.OrganizationSid, To: owner.UserName,
			Template: email.TemplateRelinquished, RelatedSid: sid,
			Data: map[string]any{"OrganizationName": org.FriendlyName, "AccountName": a.FriendlyName, "AccountSid": sid},
		})
	}
	if err != nil {
		// The access is gone already; the notice is best effort.
		s.log.WarnContext(ctx, "relinquish notice not sent", "request_id", requestID(c), "AccountSid", sid, "error", err)
	}
	c.PureJSON(http.StatusOK, gin.H{
		"account_sid": sid, "organization_sid": p.OrganizationSid, "status": "relinquished",
		"date_relinquished": rfc3339(a.DateUpdated), "owner_sid": a.OwnerSid,
	})
}
