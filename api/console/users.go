package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// An account's Users tab (its users with their roles and two-factor state,
// the "Select account roles" filter, Invite User, changing roles, removing)
// and Pending Users tab (invitations: resend, revoke).

func (h *Handlers) registerUsers(g gin.IRoutes) {
	g.GET("/accounts/:account/users", h.users)
	g.POST("/accounts/:account/users/:user/roles", h.setRoles)
	g.POST("/accounts/:account/users/:user/remove", h.removeUser)
	g.GET("/accounts/:account/invite", h.inviteForm)
	g.POST("/accounts/:account/invite", h.invite)
	g.GET("/accounts/:account/pending-users", h.pendingUsers)
	g.POST("/accounts/:account/invitations/:invitation/resend", h.resend)
	g.POST("/accounts/:account/invitations/:invitation/revoke", h.revoke)
}

// allRoles are the roles the filter offers, Owner included.
var allRoles = []string{domain.RoleOwner, domain.RoleAdministrator, domain.RoleDeveloper, domain.RoleBillingManager, domain.RoleSupport}

// usersTab is the Users tab.
type usersTab struct {
	Users      []domain.AccountUser
	Role       string
	Roles      []string
	Grantable  []string
	Next, Prev string
}

func (h *Handlers) users(c *gin.Context) {
	av, ok := h.accountView(c)
	if !ok {
		return
	}
	tab := usersTab{Role: c.Query("role"), Roles: allRoles, Grantable: grantableRoles}
	v := view{Title: accountTitle(av.Account) + " · Users", Section: "accounts", Notice: userNotices[c.Query("done")]}
	req, err := pageRequest(c, domain.PrefixUser)
	if err == nil {
		var out domain.Page[domain.AccountUser]
		out, err = h.services.People.Users(c.Request.Context(), edge.Principal(c), av.Account.Sid, domain.AccountUserFilter{Role: tab.Role, Page: req})
		tab.Users = out.Items
		tab.Next, tab.Prev = pageLinks(c, out, func(u domain.AccountUser) string { return u.User.Sid })
	}
	v.D = accountPage{AccountView: av, Tab: "users", Data: tab}
	if err != nil {
		h.badFilter(c, err, "account-users", "role", v)
		return
	}
	h.render(c, http.StatusOK, "account-users", v)
}

// userNotices are what the Users and Pending Users tabs say after an
// action led back to them.
var userNotices = map[string]string{
	"roles":   "Roles saved.",
	"removed": "User removed from the account.",
	"granted": "The managed user has the roles now.",
	"invited": "Invitation sent.",
	"resent":  "Invitation sent again with a new link; the old link no longer works.",
	"revoked": "Invitation revoked.",
}

// setRoles replaces a user's roles on the account with the boxes ticked.
func (h *Handlers) setRoles(c *gin.Context) {
	sid := c.Param("account")
	_, err := h.services.People.SetRoles(c.Request.Context(), edge.Principal(c), lifecycle.SetRoles{
		AccountSid: sid, UserSid: c.Param("user"), Roles: c.PostFormArray("roles"),
	})
	if err != nil {
		h.problem(c, err, Prefix+"/accounts/"+sid+"/users")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/users?done=roles")
}

// removeUser removes every role of a user on the account.
func (h *Handlers) removeUser(c *gin.Context) {
	sid := c.Param("account")
	if err := h.services.People.Remove(c.Request.Context(), edge.Principal(c), sid, c.Param("user")); err != nil {
		h.problem(c, err, Prefix+"/accounts/"+sid+"/users")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/users?done=removed")
}

// invitePage is the Invite User form.
type invitePage struct {
	AccountSid string
	Roles      []string
}

func (h *Handlers) inviteForm(c *gin.Context) {
	av, ok := h.accountView(c)
	if !ok {
		return
	}
	if !av.May.ManageUsers {
		h.problem(c, errNotYours("invite users to this account"), Prefix+"/accounts/"+av.Account.Sid+"/users")
		return
	}
	h.render(c, http.StatusOK, "account-invite", view{Title: "Invite User", Section: "accounts",
		D: invitePage{AccountSid: av.Account.Sid, Roles: grantableRoles}})
}

// invite gives a managed user the roles at once, or emails an invitation.
func (h *Handlers) invite(c *gin.Context) {
	sid := c.Param("account")
	out, err := h.services.Invitations.Invite(c.Request.Context(), edge.Principal(c), sid, lifecycle.Invite{
		Email: strings.TrimSpace(c.PostForm("email")), Roles: c.PostFormArray("roles"),
	})
	if err != nil {
		field := "email"
		if domain.ErrorCode(err) == domain.CodeInvalidRole || strings.Contains(domain.ErrorMessage(err), "role") {
			field = "roles"
		}
		h.failed(c, err, "account-invite", field, view{Title: "Invite User", Section: "accounts", D: invitePage{AccountSid: sid, Roles: grantableRoles}})
		return
	}
	if out.Granted != nil {
		see(c, Prefix+"/accounts/"+sid+"/users?done=granted")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/pending-users?done=invited")
}

// pendingInvitation is an invitation as the Pending Users tab shows it.
type pendingInvitation struct {
	domain.Invitation
	// NextResend is when the next resend is allowed; ResendNow, whether
	// that time has come; ResendsLeft, how many remain.
	NextResend  time.Time
	ResendNow   bool
	ResendsLeft int
}

// pendingUsersTab is the Pending Users tab.
type pendingUsersTab struct {
	Invitations []pendingInvitation
	Next, Prev  string
}

func (h *Handlers) pendingUsers(c *gin.Context) {
	av, ok := h.accountView(c)
	if !ok {
		return
	}
	v := view{Title: accountTitle(av.Account) + " · Pending Users", Section: "accounts", Notice: userNotices[c.Query("done")]}
	tab := pendingUsersTab{}
	req, err := pageRequest(c, domain.PrefixInvitation)
	if err == nil {
		var out domain.Page[domain.Invitation]
		out, err = h.services.Invitations.List(c.Request.Context(), edge.Principal(c), av.Account.Sid, domain.InvitationFilter{Page: req})
		now := time.Now()
		for _, inv := range out.Items {
			pi := pendingInvitation{Invitation: inv, ResendsLeft: max(0, domain.MaxResends-(inv.SentCount-1))}
			if inv.LastSentAt != nil {
				pi.NextResend = inv.LastSentAt.Add(h.opt.ResendInterval)
			}
			pi.ResendNow = pi.ResendsLeft > 0 && !pi.NextResend.After(now)
			tab.Invitations = append(tab.Invitations, pi)
		}
		tab.Next, tab.Prev = pageLinks(c, out, func(i domain.Invitation) string { return i.Sid })
	}
	v.D = accountPage{AccountView: av, Tab: "pending-users", Data: tab}
	if err != nil {
		h.problem(c, err, Prefix+"/accounts/"+av.Account.Sid)
		return
	}
	h.render(c, http.StatusOK, "account-pending-users", v)
}

// resend emails an invitation again (refused before the resend interval
// or past the limit: the page says when).
func (h *Handlers) resend(c *gin.Context) {
	sid := c.Param("account")
	if _, err := h.services.Invitations.Resend(c.Request.Context(), edge.Principal(c), sid, c.Param("invitation")); err != nil {
		h.problem(c, err, Prefix+"/accounts/"+sid+"/pending-users")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/pending-users?done=resent")
}

// revoke withdraws an invitation.
func (h *Handlers) revoke(c *gin.Context) {
	sid := c.Param("account")
	if err := h.services.Invitations.Revoke(c.Request.Context(), edge.Principal(c), sid, c.Param("invitation")); err != nil {
		h.problem(c, err, Prefix+"/accounts/"+sid+"/pending-users")
		return
	}
	see(c, Prefix+"/accounts/"+sid+"/pending-users?done=revoked")
}
