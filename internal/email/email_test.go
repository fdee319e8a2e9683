package email

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// templateCases are the data each template's callers pass today (in
// activities and workflows; SendEmail adds OrganizationName when a notice
// has none), and words the rendered email must show.
var templateCases = []struct {
	name string
	data map[string]any
	// unused are keys callers pass that the template does not show.
	unused []string
	want   []string
}{
	{
		name: TemplateInvitation,
		data: map[string]any{
			"InviterName": "Ada (ada@example.com)", "AccountName": "Billing", "OrganizationName": "Acme",
			"RoleNames": "Administrator", "Link": "https://example.com/confirm/abc", "Expires": "2 Jan 2026 15:04 UTC",
		},
		want: []string{"Ada (ada@example.com)", "Billing", "Acme", "Administrator", "https://example.com/confirm/abc", "2 Jan 2026 15:04 UTC"},
	},
	{
		name:   TemplateInvitationAccepted,
		data:   map[string]any{"InviteeEmail": "bob@example.com", "AccountName": "Billing", "RoleNames": "Developer", "OrganizationName": "Acme"},
		unused: []string{"OrganizationName"},
		want:   []string{"bob@example.com", "Billing", "Developer"},
	},
	{
		name: TemplateOwnershipChanged,
		data: map[string]any{"AccountName": "Billing", "AccountSid": "ACaaaa", "FormerOwner": "ada@example.com",
			"NewOwner": "bob@example.com", "ForFormerOwner": true, "OrganizationName": "Acme"},
		want: []string{"Billing", "ACaaaa", "ada@example.com", "bob@example.com", "Acme", "as Administrator"},
	},
	{
		name: TemplateAccountRequest,
		data: map[string]any{
			"Import": false, "Reminder": true, "RequesterName": "Ada (ada@example.com)", "OrganizationName": "Acme",
			"AccountName": "Shop", "AccountSid": "ACbbbb", "Grants": "bob@example.com as Developer",
			"Link": "https://example.com/confirm/xyz", "Expires": "2 Jan 2026 15:04 UTC",
		},
		want: []string{"Reminder: Acme asks to share", "Ada (ada@example.com)", "Shop", "ACbbbb", "bob@example.com as Developer", "https://example.com/confirm/xyz", "2 Jan 2026 15:04 UTC"},
	},
	{
		name: TemplateRequestEnded,
		data: map[string]any{"Kind": "import", "Outcome": "expired", "OwnerEmail": "carol@example.com", "AccountName": "Shop",
			"AccountSid": "ACbbbb", "OrganizationName": "Acme"},
		want: []string{"import", "expired", "carol@example.com", "Shop", "ACbbbb", "Acme", "did not answer in time"},
	},
	{
		name: TemplatePasswordLink,
		data: map[string]any{"Purpose": "invitation", "Email": "carol@example.com", "Link": "https://example.test/console/password/x", "Expires": "2 Dec 2026 10:00 UTC"},
		want: []string{"Set your password", "carol@example.com", "https://example.test/console/password/x", "2 Dec 2026 10:00 UTC"},
	},
	{
		name: TemplatePasswordLink,
		data: map[string]any{"Purpose": "reset", "Email": "carol@example.com", "Link": "https://example.test/console/password/y", "Expires": "2 Dec 2026 10:00 UTC"},
		want: []string{"Reset your password", "your password stays as it is", "https://example.test/console/password/y"},
	},
	{
		name: TemplateSignUpExisting,
		data: map[string]any{"FriendlyName": "Carol Labs"},
		want: []string{"Carol Labs", "No account was created"},
	},
	{
		name: TemplateRelinquished,
		data: map[string]any{"OrganizationName": "Acme", "AccountName": "Shop", "AccountSid": "ACbbbb"},
		want: []string{"Acme", "Shop", "ACbbbb"},
	},
	{
		name: TemplateAccountClosed,
		data: map[string]any{"AccountName": "Billing", "AccountSid": "ACaaaa", "OrganizationName": "Acme",
			"Subaccounts": 2, "PurgeAfter": "2 Feb 2026 15:04 UTC"},
		want: []string{"Billing", "ACaaaa", "Acme", "2 subaccount(s)", "2 Feb 2026 15:04 UTC"},
	},
	{
		name: TemplateDomainVerified,
		data: map[string]any{"OrganizationName": "Acme", "DomainName": "example.com",
			"RecordName": "_orgaccounts.example.com", "RecordValue": "orgaccounts-verification=abc"},
		unused: []string{"RecordValue"},
		want:   []string{"example.com", "Acme", "_orgaccounts.example.com"},
	},
	{
		name: TemplateDomainFailed,
		data: map[string]any{"OrganizationName": "Acme", "DomainName": "example.com",
			"RecordName": "_orgaccounts.example.com", "RecordValue": "orgaccounts-verification=abc"},
		want: []string{"example.com", "Acme", "_orgaccounts.example.com", "orgaccounts-verification=abc"},
	},
	{
		name: TemplateDomainLapsed,
		data: map[string]any{"OrganizationName": "Acme", "DomainName": "example.com",
			"RecordName": "_orgaccounts.example.com", "RecordValue": "orgaccounts-verification=abc", "RemoveAfter": "9 Jan 2026 15:04 UTC"},
		want: []string{"example.com", "Acme", "_orgaccounts.example.com", "orgaccounts-verification=abc", "9 Jan 2026 15:04 UTC"},
	},
	{
		name: TemplateDomainRemoved,
		data: map[string]any{"OrganizationName": "Acme", "DomainName": "example.com",
			"RecordName": "_orgaccounts.example.com", "RecordValue": "orgaccounts-verification=abc"},
		unused: []string{"RecordName", "RecordValue"},
		want:   []string{"example.com", "Acme"},
	},
}

// TestTemplatesRender renders every template with the data its callers
// pass, and checks that each key a template shows is required: leaving
// it out fails the rendering instead of mailing "<no value>".
func TestTemplatesRender(t *testing.T) {
	for _, tc := range templateCases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Render(tc.name, "to@example.com", tc.data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if m.Subject == "" || m.To != "to@example.com" {
				t.Fatalf("subject %q, to %q", m.Subject, m.To)
			}
			for _, body := range []string{m.Subject + "\n" + m.Text, m.HTML} {
				if strings.Contains(body, "no value") {
					t.Fatalf("rendered with a missing value:\n%s", body)
				}
			}
			all := m.Subject + "\n" + m.Text
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("text does not show %q:\n%s", w, all)
				}
				if !strings.Contains(m.HTML, w) {
					t.Errorf("HTML does not show %q:\n%s", w, m.HTML)
				}
			}
			for key := range tc.data {
				if contains(tc.unused, key) {
					continue
				}
				without := make(map[string]any, len(tc.data))
				for k, v := range tc.data {
					if k != key {
						without[k] = v
					}
				}
				if m, err := Render(tc.name, "to@example.com", without); err == nil {
					t.Errorf("rendered without %s:\n%s\n%s", key, m.Subject, m.Text)
				}
			}
		})
	}
}

// TestRenderMissingKey: a template given data without a key it uses
// fails instead of sending "<no value>".
func TestRenderMissingKey(t *testing.T) {
	_, err := Render(TemplateInvitationAccepted, "to@example.com", map[string]any{"InviteeEmail": "bob@example.com", "RoleNames": "Developer"})
	if err == nil || !strings.Contains(err.Error(), "AccountName") {
		t.Fatalf("Render without AccountName: err = %v, want an error naming the key", err)
	}
}

// TestTemplatesCovered keeps templateCases in step with the templates.
func TestTemplatesCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range templateCases {
		seen[tc.name] = true
	}
	for _, tmpl := range textTemplates.Templates() {
		name, ok := strings.CutSuffix(tmpl.Name(), ".txt")
		if ok && !seen[name] {
			t.Errorf("template %s has no case in templateCases", name)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The outbox sends nothing and logs each message without its live links:
// a confirmation or password link's token appears only as its hash.
func TestOutboxNeverLogsALiveToken(t *testing.T) {
	var logs bytes.Buffer
	o := Outbox{Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	confirm, password := domain.NewSecret(32), domain.NewSecret(32)
	msg := Message{To: "bob@example.com", Subject: "You are invited", Text: "Accept: https://example.com/confirm/" + confirm +
		".\nChoose a password: http://localhost:8080/console/password/" + password + "\nAbout us: https://example.com/about"}
	if err := o.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := logs.String()
	for _, secret := range []string{confirm, password} {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds a live token: %s", got)
		}
		if !strings.Contains(got, domain.SecretRef(secret)) {
			t.Errorf("the log does not name the link by its hash %s: %s", domain.SecretRef(secret), got)
		}
	}
	for _, want := range []string{"bob@example.com", "You are invited", "https://example.com/about", "https://example.com/confirm/hash:"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log misses %q: %s", want, got)
		}
	}
}
