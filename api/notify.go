package api

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// notifyOwnershipChange emails the former and the new owner of an account
// after a transfer, through a workflow that retries until sent. A failure
// to start it is logged: the transfer itself has happened.
func (s *server) notifyOwnershipChange(c *gin.Context, acct domain.Account, formerOwner, newOwner domain.User) {
	ctx := c.Request.Context()
	org, err := s.store.FindOrganization(ctx, acct.OrganizationSid)
	if err != nil {
		s.log.ErrorContext(ctx, "ownership notice", "request_id", requestID(c), "error", err.Error())
		return
	}
	for _, to := range []struct {
		user   domain.User
		former bool
	}{{formerOwner, true}, {newOwner, false}} {
		in := activities.EmailInput{
			Key:             fmt.Sprintf("ownership/%s/v%d/%s", acct.Sid, acct.Version, to.user.Sid),
			OrganizationSid: acct.OrganizationSid, To: to.user.UserName, Template: email.TemplateOwnershipChanged, RelatedSid: acct.Sid,
			Data: map[string]any{"AccountName": acct.FriendlyName, "AccountSid": acct.Sid, "OrganizationName": org.FriendlyName,
				"FormerOwner": formerOwner.UserName, "NewOwner": newOwner.UserName, "ForFormerOwner": to.former},
		}
		if err := s.workflows.StartEmail(ctx, acct.OrganizationSid, acct.Sid, requestID(c), in); err != nil {
			s.log.ErrorContext(ctx, "ownership notice", "request_id", requestID(c), "to", to.user.UserName, "error", err.Error())
		}
	}
}
