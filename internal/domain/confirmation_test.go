package domain

import (
	"testing"
	"time"
)

func TestConfirmationState(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-time.Minute)
	valid := ConfirmationLink{ExpiresAt: now.Add(time.Hour)}
	used := ConfirmationLink{ExpiresAt: now.Add(time.Hour), UsedAt: &earlier}
	superseded := ConfirmationLink{ExpiresAt: now.Add(time.Hour), RevokedAt: &earlier}
	lapsed := ConfirmationLink{ExpiresAt: now}
	tests := []struct {
		name   string
		link   ConfirmationLink
		status string
		want   string
	}{
		{"pending invitation", valid, InvitationPending, ConfirmAskable},
		{"pending request", valid, RequestPending, ConfirmAskable},
		{"revoked invitation", superseded, InvitationRevoked, ConfirmRevoked},
		{"cancelled request", superseded, RequestCancelled, ConfirmRevoked},
		{"accepted", used, InvitationAccepted, ConfirmAccepted},
		{"declined", used, RequestDeclined, ConfirmDeclined},
		{"expired subject", valid, RequestExpired, ConfirmExpired},
		{"used link", used, InvitationPending, ConfirmUsed},
		{"newer link sent", superseded, RequestPending, ConfirmSuperseded},
		{"link expired, subject not yet", lapsed, InvitationPending, ConfirmExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConfirmationState(tt.link, tt.status, now); got != tt.want {
				t.Errorf("ConfirmationState = %q, want %q", got, tt.want)
			}
		})
	}
}
