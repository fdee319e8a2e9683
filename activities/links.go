package activities

import (
	"context"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/email"
)

// linkEmail is one email carrying a fresh confirmation link: what the
// subject's activity (SendInvitation, SendAccountRequest) decided to send.
type linkEmail struct {
	// Link is the version to issue: its Kind, SubjectSid, Version and
	// ExpiresAt. Its token is made here.
	Link            domain.ConfirmationLink
	OrganizationSid string
	To              string
	// Template renders the email, with Data and the link's address as
	// "Link"; Recorded is the template name the record keeps (Template
	// when empty).
	Template string
	Recorded string
	Data     map[string]any
	// Page is the path the link opens, before its token: domain.ConfirmPage
	// when empty.
	Page string
}

// sendLinkOnce is the one send of an emailed confirmation link, once per
// key however often its activity runs: unless the email with this key
// went out already, load says what to send (nil: nothing, the subject
// ended meanwhile), a fresh single-use link is issued (superseding the
// subject's older ones), the email is rendered with it, sent and recorded
// without the link, and sent notes the send on the subject. The token
// exists only in the email: the database keeps its hash and the workflow
// history never sees it. A crash between sending and recording may send
// it twice (at least once, never zero times); a retry issues a new token
// for the same version, so only the latest email's link works.
func (a *Activities) sendLinkOnce(ctx context.Context, key string, load func() (*linkEmail, error), sent func() error) error {
	if done, err := a.Store.EmailSent(ctx, key); err != nil || done {
		return wrap(err)
	}
	m, err := load()
	if err != nil || m == nil {
		return wrap(err)
	}
	token := domain.NewSecret(32)
	link := m.Link
	link.TokenHash = domain.HashSecret(token)
	if err := a.Store.IssueLink(ctx, link); err != nil {
		return wrap(err)
	}
	data := make(map[string]any, len(m.Data)+1)
	for k, v := range m.Data {
		data[k] = v
	}
	page := m.Page
	if page == "" {
		page = domain.ConfirmPage
	}
	data["Link"] = a.BaseURL + page + token
	msg, err := email.Render(m.Template, m.To, data)
	if err != nil {
		return wrap(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%v", err))
	}
	if err := a.Mailer.Send(ctx, msg); err != nil {
		return err // transient: retried
	}
	recorded := m.Recorded
	if recorded == "" {
		recorded = m.Template
	}
	if err := a.Store.RecordEmail(ctx, domain.SentEmail{
		Key: key, OrganizationSid: m.OrganizationSid, To: m.To, Template: recorded, Subject: msg.Subject,
		BodyText: "(link withheld)", Transport: a.Mailer.Transport(), WorkflowID: workflowID(ctx), RelatedSid: link.SubjectSid,
	}); err != nil {
		return wrap(err)
	}
	logger(ctx).Info("confirmation link sent", "kind", link.Kind, "subject", link.SubjectSid, "to", m.To, "version", link.Version)
	return wrap(sent())
}

// linkExpiry is how an emailed link states its expiry.
const linkExpiry = "2 Jan 2006 15:04 MST"
