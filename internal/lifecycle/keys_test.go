package lifecycle

import (
	"context"
	"strings"
	"testing"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func TestAuthLocksOutAClientIDAndRecordsIt(t *testing.T) {
	ctx := context.Background()
	a, m, clock := newAuth()
	from := domain.Actor{SourceIP: "192.0.2.7", UserAgent: "guesser/1", RequestID: "RQ1"}
	wrong := Credentials{Scheme: SchemeBasic, ID: orgCred, Secret: strings.Repeat("x", 32), From: from}
	for i := range authFailuresPerClient {
		if _, err := a.Authenticate(ctx, wrong); domain.ErrorCode(err) != domain.CodeUnauthenticated {
			t.Fatalf("failure %d: got %v, want 20003", i+1, err)
		}
	}
	right := Credentials{Scheme: SchemeBasic, ID: orgCred, Secret: orgSecret, From: from}
	_, err := a.Authenticate(ctx, right)
	if e, ok := domain.AsError(err); !ok || e.Code != domain.CodeRateLimited || e.RetryAfter != int(authFailureWindow.Seconds()) {
		t.Fatalf("the right secret while locked out: got %v, want 25021 with Retry-After %d", err, int(authFailureWindow.Seconds()))
	}
	if _, err := a.Token(ctx, from, orgCred, orgSecret); domain.ErrorCode(err) != domain.CodeRateLimited {
		t.Fatalf("a token while locked out: got %v, want 25021", err)
	}
	if len(m.events) != 1 {
		t.Fatalf("%d events, want 1 lockout: %+v", len(m.events), m.events)
	}
	ev := m.events[0]
	if ev.Type != domain.EventLockedOut || ev.OrganizationSid != testOrg || ev.ResourceSid != orgCred || ev.SourceIP != from.SourceIP ||
		ev.Changes["user_agent"] != "guesser/1" || ev.Changes["client"] != orgCred {
		t.Fatalf("lockout event = %+v", ev)
	}
	// Another address with another client is not locked out.
	other := domain.AuthTokenCredentialSid(acctSid)
	if _, err := a.Authenticate(ctx, Credentials{Scheme: SchemeBasic, ID: acctSid, Secret: tokenSecret, From: domain.Actor{SourceIP: "192.0.2.8"}}); err != nil {
		t.Fatalf("another client: %v", err)
	}
	if got := m.creds[other].DateLastUsed; !got.Equal(clock.t) {
		t.Fatalf("DateLastUsed = %v, want %v", got, clock.t)
	}
	clock.t = clock.t.Add(authFailureWindow)
	p, err := a.Authenticate(ctx, right)
	if err != nil || p.Via != domain.ViaOrgCredential {
		t.Fatalf("after the lockout: %+v, %v; want the organization credential", p, err)
	}
}

func TestAuthDoesNotCountRefusalsThatAreNotWrongSecrets(t *testing.T) {
	ctx := context.Background()
	a, m, _ := newAuth()
	closing := Credentials{Scheme: SchemeBasic, ID: closingSid, Secret: tokenSecret, From: domain.Actor{SourceIP: "192.0.2.9"}}
	for range 3 * authFailuresPerClient {
		if _, err := a.Authenticate(ctx, closing); domain.ErrorCode(err) != domain.CodeAccountNotActive {
			t.Fatalf("got %v, want 20005", err)
		}
		if _, err := a.Authenticate(ctx, Credentials{From: closing.From}); domain.ErrorCode(err) != domain.CodeUnauthenticated {
			t.Fatalf("no credentials: got %v, want 20003", err)
		}
	}
	if len(m.events) != 0 {
		t.Fatalf("lockouts recorded: %+v", m.events)
	}
}

func TestKeysRules(t *testing.T) {
	for _, tt := range []struct {
		via  domain.Via
		want int // 0: allowed
	}{
		{domain.ViaSession, 0},
		{domain.ViaOrgCredential, 0},
		{domain.ViaPersonalKey, domain.CodeForbidden},
		{domain.ViaAccountCredential, domain.CodeForbidden},
	} {
		p := domain.Principal{OrganizationSid: testOrg, UserSid: standard.UserSid, OrgRole: domain.OrgRoleStandard, Via: tt.via}
		if err := p.CanCreateKey(); (err == nil) != (tt.want == 0) || (err != nil && domain.ErrorCode(err) != tt.want) {
			t.Errorf("%s: CanCreateKey = %v, want code %d", tt.via, err, tt.want)
		}
	}
	adm := domain.Principal{UserSid: "USa", OrgRole: domain.OrgRoleAdministrator}
	std := domain.Principal{UserSid: "USs", OrgRole: domain.OrgRoleStandard}
	if got := adm.CredentialScope(); got != "" {
		t.Errorf("an Administrator's scope = %q, want every credential", got)
	}
	if got := std.CredentialScope(); got != "USs" {
		t.Errorf("a Standard user's scope = %q, want their own", got)
	}
}
