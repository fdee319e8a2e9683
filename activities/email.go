package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// EmailInput is one email to send once.
type EmailInput struct {
	Key             string // one email per key, however often the activity runs
	OrganizationSid string
	To              string
	Template        string
	Data            map[string]any
	RelatedSid      string
	// PasswordLink, when set, makes the email carry a fresh single-use
	// link to set the password of that user (see SendPasswordLink): the
	// token is made by the activity, never by the caller.
	PasswordLink *PasswordLink `json:",omitempty"`
}

// SendEmail renders and sends an email unless one with the same key was
// sent already, and records it. A crash between sending and recording may
// send it twice (at least once, never zero times).
func (a *Activities) SendEmail(ctx context.Context, in EmailInput) error {
	if in.PasswordLink != nil {
		return a.sendPasswordLink(ctx, in)
	}
	done, err := a.Store.EmailSent(ctx, in.Key)
	if err != nil || done {
		return wrap(err)
	}
	if _, named := in.Data["OrganizationName"]; !named && in.OrganizationSid != "" {
		// Notices name the organization as it is called when they go out.
		org, err := a.Store.FindOrganization(ctx, in.OrganizationSid)
		if err != nil {
			return wrap(err)
		}
		data := make(map[string]any, len(in.Data)+1)
		for k, v := range in.Data {
			data[k] = v
		}
		data["OrganizationName"] = org.FriendlyName
		in.Data = data
	}
	m, err := email.Render(in.Template, in.To, in.Data)
	if err != nil {
		return wrap(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%v", err))
	}
	if err := a.Mailer.Send(ctx, m); err != nil {
		return err // transient: retried
	}
	err = a.Store.RecordEmail(ctx, domain.SentEmail{
		Key: in.Key, OrganizationSid: in.OrganizationSid, To: in.To, Template: in.Template, Subject: m.Subject,
		BodyText: m.Text, Transport: a.Mailer.Transport(), WorkflowID: workflowID(ctx), RelatedSid: in.RelatedSid,
	})
	if err == nil && a.Mailer.Transport() != (email.Outbox{}).Transport() {
		// (The outbox logs what it keeps, links included: nothing was sent.)
		logger(ctx).Info("email sent", "to", in.To, "template", in.Template, "transport", a.Mailer.Transport())
	}
	return wrap(err)
}

// workflowID is the ID of the workflow running the activity (empty when
// called outside one), recorded with each email sent.
func workflowID(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.ID
	}
	return ""
}

// roleNames renders role SIDs for people.
func roleNames(roles []string) string {
	out := ""
	for i, r := range roles {
		if i > 0 {
			out += " and "
		}
		out += domain.RoleName(r)
	}
	return out
}
