package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgaccounts/orgaccounts/activities"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// NotifyOwnershipChange emails the former and the new owner of an account
// after a transfer (lifecycle.NoticeEngine), each through a
// SendEmailWorkflow keyed by the transfer, so a retry sends nothing twice.
func (c Client) NotifyOwnershipChange(ctx context.Context, t domain.TransferredOwnership, actor domain.Actor) error {
	acct := t.Account
	var errs []error
	for _, to := range []struct {
		user   domain.User
		former bool
	}{{t.FormerOwner, true}, {t.NewOwner, false}} {
		in := activities.EmailInput{
			Key:             fmt.Sprintf("ownership/%s/v%d/%s", acct.Sid, acct.Version, to.user.Sid),
			OrganizationSid: acct.OrganizationSid, To: to.user.UserName, Template: email.TemplateOwnershipChanged, RelatedSid: acct.Sid,
			Data: map[string]any{"AccountName": acct.FriendlyName, "AccountSid": acct.Sid,
				"FormerOwner": t.FormerOwner.UserName, "NewOwner": t.NewOwner.UserName, "ForFormerOwner": to.former},
		}
		if err := c.StartEmail(ctx, acct.OrganizationSid, acct.Sid, actor.RequestID, in); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// NotifySignUpAttempt emails the user who has an address that someone
// tried to sign up with it, once per request (its request id keys it).
func (c Client) NotifySignUpAttempt(ctx context.Context, emailAddr, friendlyName string, actor domain.Actor) error {
	key := "signup-existing/" + actor.RequestID
	return c.StartEmail(ctx, "", "", actor.RequestID, activities.EmailInput{
		Key: key, To: emailAddr, Template: email.TemplateSignUpExisting,
		Data: map[string]any{"FriendlyName": friendlyName},
	})
}

// SendPasswordLink emails a user a single-use link to set their password
// (lifecycle.PasswordLinkEngine) through a SendEmailWorkflow keyed by key:
// the activity makes the token, so the workflow's history never holds it.
func (c Client) SendPasswordLink(ctx context.Context, u domain.User, purpose, key string, expires time.Time, actor domain.Actor) error {
	return c.StartEmail(ctx, u.OrganizationSid, "", actor.RequestID, activities.EmailInput{
		Key: key, OrganizationSid: u.OrganizationSid, To: u.UserName, Template: email.TemplatePasswordLink, RelatedSid: u.Sid,
		PasswordLink: &activities.PasswordLink{UserSid: u.Sid, Purpose: purpose, ExpiresAt: expires},
	})
}
