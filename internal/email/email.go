// Package email renders orgaccounts' messages from templates (HTML and
// plain text) and delivers them: over SMTP when SMTP_URL is set, otherwise
// into the outbox (recorded, and logged without any live link) so the
// service runs without a mail server.
package email

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

//go:embed templates/*
var files embed.FS

// Templates.
const (
	TemplateInvitation         = "invitation"
	TemplateInvitationAccepted = "invitation_accepted"
	TemplateOwnershipChanged   = "ownership_changed"
	TemplateAccountRequest     = "account_request"
	TemplateRequestEnded       = "account_request_ended"
	TemplateRelinquished       = "account_relinquished"
	TemplateAccountClosed      = "account_closed"
	TemplateDomainVerified     = "domain_verified"
	TemplateDomainFailed       = "domain_failed"
	TemplateDomainLapsed       = "domain_lapsed"
	TemplateDomainRemoved      = "domain_removed"
	TemplateSignUpExisting     = "signup_existing"
	TemplatePasswordLink       = "password_link"
)

// Message is a rendered email.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// The templates refuse to render with a key missing from their data, so
// a caller that forgets one gets an error rather than an email saying
// "<no value>".
var (
	textTemplates = texttemplate.Must(texttemplate.New("").Option("missingkey=error").ParseFS(files, "templates/*.txt"))
	htmlTemplates = htmltemplate.Must(htmltemplate.New("").Option("missingkey=error").ParseFS(files, "templates/*.html"))
)

// Render renders template name for to with data. The subject is the first
// line of the text template, after "Subject: ".
func Render(name, to string, data any) (Message, error) {
	var text, html bytes.Buffer
	if err := textTemplates.ExecuteTemplate(&text, name+".txt", data); err != nil {
		return Message{}, fmt.Errorf("email: rendering %s.txt: %w", name, err)
	}
	if err := htmlTemplates.ExecuteTemplate(&html, name+".html", data); err != nil {
		return Message{}, fmt.Errorf("email: rendering %s.html: %w", name, err)
	}
	first, rest, _ := strings.Cut(text.String(), "\n")
	subject, ok := strings.CutPrefix(first, "Subject: ")
	if !ok {
		return Message{}, fmt.Errorf("email: %s.txt must start with a Subject: line", name)
	}
	return Message{To: to, Subject: strings.TrimSpace(subject), Text: strings.TrimLeft(rest, "\n"), HTML: html.String()}, nil
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
	// Transport names the delivery, recorded with each message.
	Transport() string
}

// New returns the SMTP sender for smtpURL, or the outbox when it is empty.
func New(smtpURL, from string, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return Outbox{Log: log}, nil
	}
	return NewSMTP(smtpURL, from)
}

// Outbox sends nothing: the caller records every message, and the outbox
// logs its recipient, subject and links, each link's token replaced by a
// short hash of it (a live token is never logged). To follow the links,
// give the service an SMTP server (`make run` starts Mailpit).
type Outbox struct{ Log *slog.Logger }

// Transport implements Sender.
func (Outbox) Transport() string { return "outbox" }

// Send implements Sender.
func (o Outbox) Send(ctx context.Context, m Message) error {
	links := Links(m.Text)
	for i, l := range links {
		links[i] = RedactLink(l)
	}
	o.Log.InfoContext(ctx, "email not sent: no SMTP_URL (kept in the outbox)", "to", m.To, "subject", m.Subject, "links", links)
	return nil
}

// secretLinkPaths are the paths whose last segment is a live token.
var secretLinkPaths = []string{domain.ConfirmPage, domain.PasswordPage}

// RedactLink replaces the token of a confirmation or password link with a
// short hash of it (domain.SecretRef); other links are returned as they are.
func RedactLink(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return "(a link that does not parse)"
	}
	for _, p := range secretLinkPaths {
		if i := strings.Index(u.Path, p); i >= 0 && len(u.Path) > i+len(p) {
			token := u.Path[i+len(p):]
			return strings.Replace(link, token, domain.SecretRef(token), 1)
		}
	}
	return link
}

// Links returns the http(s) URLs in a text body.
func Links(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") {
			out = append(out, strings.TrimRight(f, ".,)"))
		}
	}
	return out
}

// SMTP sends through an SMTP server.
type SMTP struct {
	from string
	host string
	opts []mail.Option
}

// NewSMTP reads smtp://[user:pass@]host:port[?tls=none|starttls|opportunistic]
// or smtps://… for implicit TLS.
func NewSMTP(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("email: SMTP_URL must look like smtp://user:pass@host:587 or smtps://host:465")
	}
	s := &SMTP{from: from, host: u.Hostname()}
	port := 25
	if u.Scheme == "smtps" {
		port = 465
		s.opts = append(s.opts, mail.WithSSL())
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("email: bad port in SMTP_URL")
		}
	}
	s.opts = append(s.opts, mail.WithPort(port), mail.WithTimeout(20*time.Second))
	switch u.Query().Get("tls") {
	case "", "opportunistic":
		s.opts = append(s.opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case "starttls":
		s.opts = append(s.opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case "none":
		s.opts = append(s.opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		return nil, fmt.Errorf("email: SMTP_URL tls must be none, starttls or opportunistic")
	}
	if u.User != nil {
		pass, _ := u.User.Password()
		s.opts = append(s.opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	return s, nil
}

// Transport implements Sender.
func (*SMTP) Transport() string { return "smtp" }

// Send implements Sender.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("email: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("email: to address: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("email: sending to %s: %w", m.To, err)
	}
	return nil
}
