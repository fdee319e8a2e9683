package lifecycle

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// signUpStore is what a sign-up writes.
type signUpStore interface {
	SignUp(ctx context.Context, a domain.Account, owner domain.User, tokenHash string, ev domain.AuditEvent) error
	FindAnyAccount(ctx context.Context, sid string) (domain.Account, domain.User, error)
}

// SignUp creates standalone accounts for anyone, within a rate per client
// address.
type SignUp struct {
	store   signUpStore
	notices NoticeEngine
	clock   domain.Clock
	log     *slog.Logger
	limiter *rateLimiter
}

// SignUpAccount is a sign-up: the owner's email and the account's name.
type SignUpAccount struct {
	Email        string
	FriendlyName string
}

// SignedUp is a new standalone account, its owner, and the account's auth
// token, which exists only in this answer (its hash is kept).
type SignedUp struct {
	Account   domain.Account
	Owner     domain.User
	AuthToken string
}

// SignUp creates a standalone account owned by a new user. No organization
// sees it until it is imported or shared. Past the rate for the client
// address: 25021, with how long to wait in the error.
//
// An email some user has already is answered exactly as a new one is (a
// sign-up must not tell anyone whether an address is known): the answer
// describes an account that was never created, and the user who has the
// address is emailed instead.
func (s *SignUp) SignUp(ctx context.Context, source domain.Actor, cmd SignUpAccount) (SignedUp, error) {
	if ok, wait := s.limiter.allow(source.SourceIP); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		return SignedUp{}, domain.RateLimited(secs, "too many sign-ups from this address; retry in %d s", secs)
	}
	email, err := domain.NormalizeEmail("email", cmd.Email)
	if err != nil {
		return SignedUp{}, err
	}
	if err := domain.ValidateFriendlyName("friendly_name", cmd.FriendlyName); err != nil {
		return SignedUp{}, err
	}
	now := s.clock.Now()
	owner := domain.User{Sid: domain.NewSID(domain.PrefixUser, now), UserName: email, Active: true}
	a := domain.Account{
		Sid: domain.NewSID(domain.PrefixAccount, now), FriendlyName: cmd.FriendlyName, Status: domain.AccountActive,
		Kind: domain.AccountStandalone, OwnerSid: owner.Sid, Require2FA: domain.NewAccountDefaults.Require2FA,
	}
	actor := source
	actor.UserSid = owner.Sid
	token := domain.NewSecret(32)
	err = s.store.SignUp(ctx, a, owner, domain.HashSecret(token), domain.NewAuditEvent(actor, "", domain.EventAccountSignedUp, a.Sid,
		map[string]any{"email": email, "friendly_name": cmd.FriendlyName}))
	if domain.ErrorCode(err) == domain.CodeDuplicateUser {
		if nerr := s.notices.NotifySignUpAttempt(ctx, email, cmd.FriendlyName, source); nerr != nil {
			s.log.ErrorContext(ctx, "sign-up notice not started", "request_id", source.RequestID, "error", nerr.Error())
		}
		a.DateCreated, a.DateUpdated = now.UTC().Truncate(time.Second), now.UTC().Truncate(time.Second)
		return SignedUp{Account: a, Owner: owner, AuthToken: token}, nil
	}
	if err != nil {
		return SignedUp{}, err
	}
	stored, _, err := s.store.FindAnyAccount(ctx, a.Sid)
	if err != nil {
		return SignedUp{}, err
	}
	owner.UserName = email
	return SignedUp{Account: stored, Owner: owner, AuthToken: token}, nil
}
