package activities

import (
	"context"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// PasswordLink asks for a link that sets a user's password: why it is sent
// (domain.PasswordFor… purposes) and its expiry. Version 0 (the usual)
// takes the user's next link version when issued, superseding the others.
type PasswordLink struct {
	UserSid   string
	Purpose   string
	Version   int
	ExpiresAt time.Time
}

// sendPasswordLink emails a single-use link to set the password of the
// user, once per key (see sendLinkOnce: the token exists only in the
// email). A user who is gone or deactivated meanwhile gets nothing.
func (a *Activities) sendPasswordLink(ctx context.Context, in EmailInput) error {
	pl := in.PasswordLink
	return a.sendLinkOnce(ctx, in.Key, func() (*linkEmail, error) {
		u, err := a.Store.FindPerson(ctx, pl.UserSid)
		if domain.ErrorKind(err) == domain.ENotFound || (err == nil && !u.Active) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		data := map[string]any{"Purpose": pl.Purpose, "Email": u.UserName, "Expires": pl.ExpiresAt.UTC().Format(linkExpiry)}
		for k, v := range in.Data {
			data[k] = v
		}
		return &linkEmail{
			Link:            domain.ConfirmationLink{Kind: domain.LinkPassword, SubjectSid: u.Sid, Version: pl.Version, ExpiresAt: pl.ExpiresAt},
			OrganizationSid: in.OrganizationSid, To: u.UserName, Template: email.TemplatePasswordLink, Data: data, Page: domain.PasswordPage,
		}, nil
	}, func() error { return nil })
}
