package domain

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/currency"
)

// Closing an account: what it owns, the acknowledgements the caller gives,
// who may close it, and what a closing account still accepts.

// DefaultRetention is how long a closed account's data is kept, and the
// account may be reopened, before it is purged.
const DefaultRetention = 30 * 24 * time.Hour

// Audit event types of a closure.
const (
	EventClosureRequested   = "account.closure_requested"
	EventChargeStopped      = "account.charge_stopped"
	EventNumberReleased     = "account.number_released"
	EventAccessRemoved      = "account.access_removed"
	EventAccountClosed      = "account.closed"
	EventAccountReopened    = "account.reopened"
	EventAccountPurged      = "account.purged"
	EventNumberAcquired     = "account.number_acquired"
	EventSubscriptionAdded  = "account.subscription_created"
	EventAccountCredentials = "account.credential_created"
	EventCredentialRevoked  = "account.credential_revoked"
)

// CheckAcceptsNewRequests is the rule "an account accepts no new
// invitation, import, share or transfer unless it is active": a closing or
// closed account (or a suspended one) answers 25019. Call it wherever such
// a request starts, and again inside the transaction that records it.
func CheckAcceptsNewRequests(a Account) error {
	if a.Status != AccountActive {
		return Errorf(EConflict, CodeInvalidState, "the account is %s: it accepts no new invitation, import, share or transfer", a.Status)
	}
	return nil
}

// CheckAccessGrant is the rule "nobody gains a role on a closing or closed
// account" (its closure removes every role assignment): 25019. It is
// checked under the account's lock wherever a role is granted.
func CheckAccessGrant(a Account) error {
	if a.Status == AccountPendingClosure || a.Status == AccountClosed {
		return Errorf(EConflict, CodeInvalidState, "the account is %s: no role can be granted on it", a.Status)
	}
	return nil
}

// CheckCredentialAccount is the cut-off of a closing account: a credential
// scoped to an account works only while that account, and its parent for a
// subaccount, are active (Twilio's 20005 "Account not active", 403).
func CheckCredentialAccount(accountStatus, parentStatus string) error {
	if accountStatus != AccountActive || (parentStatus != "" && parentStatus != AccountActive) {
		return Errorf(EForbidden, CodeAccountNotActive, "Account not active: the account these credentials belong to is closing or closed")
	}
	return nil
}

// CloseAcknowledgements are the four statements the console asks the
// caller to confirm before an account is closed.
type CloseAcknowledgements struct {
	LoseAccess       *bool `json:"lose_access"`
	StopCharges      *bool `json:"stop_charges"`
	ReleaseResources *bool `json:"release_resources"`
	ScheduleDeletion *bool `json:"schedule_deletion"`
}

// Validate requires every acknowledgement to be given as true; a missing
// (or false) one is a 400 naming it.
func (a CloseAcknowledgements) Validate() error {
	var missing []string
	for _, f := range []struct {
		name string
		v    *bool
	}{{"lose_access", a.LoseAccess}, {"stop_charges", a.StopCharges}, {"release_resources", a.ReleaseResources}, {"schedule_deletion", a.ScheduleDeletion}} {
		if f.v == nil || !*f.v {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Errorf(EInvalid, CodeBadRequest, "closing an account needs every acknowledgement set to true; missing: %s", strings.Join(missing, ", "))
	}
	return nil
}

// CheckClosable is the rule for who may not be closed: only an active
// account starts closing (one already closing or closed is answered with
// its running closure elsewhere), and an organization always keeps at
// least one open top-level account, so that its Owner keeps an account to
// work in: closing the last one is 25019. openOthers counts the
// organization's other active top-level accounts. Subaccounts are not
// counted and may always be closed. An independent account is its outside
// owner's: the organization relinquishes it, never closes it.
func CheckClosable(a Account, openOthers int) error {
	if a.Kind == AccountIndependent {
		return Errorf(EConflict, CodeInvalidState, "account %s is independent: it belongs to its owner, who shared it; relinquish the organization's access instead of closing it", a.Sid)
	}
	if a.Status != AccountActive {
		return Errorf(EConflict, CodeInvalidState, "the account is %s; only an active account can be closed", a.Status)
	}
	if a.ParentSid == "" && openOthers == 0 {
		return Errorf(EConflict, CodeInvalidState, "this is the organization's last open account; create another before closing it, so the organization keeps owner access to an account")
	}
	return nil
}

// CheckSubaccountParent is the rule for a subaccount's parent: an active
// top-level account (subaccounts do not nest), 25019 otherwise.
func CheckSubaccountParent(parent Account) error {
	if parent.ParentSid != "" {
		return Errorf(EConflict, CodeInvalidState, "account %s is itself a subaccount; subaccounts do not nest", parent.Sid)
	}
	return CheckAcceptsNewRequests(parent)
}

// CheckReopenable allows a reopen only of an account that is closing or
// closed and not yet purged.
func CheckReopenable(a Account) error {
	if a.Status != AccountPendingClosure && a.Status != AccountClosed {
		return Errorf(EConflict, CodeInvalidState, "the account is %s; only a closing or closed account can be reopened", a.Status)
	}
	return nil
}

// Closure is where an account's closure stands, as the account shows it.
type Closure struct {
	DateRequested *time.Time
	DateClosed    *time.Time
	PurgeAfter    *time.Time
}

// Number kinds.
const (
	NumberPhone     = "phone_number"
	NumberShortCode = "short_code"
)

// Number is a phone number or a short code. Without an account it is in
// the inventory.
type Number struct {
	Sid             string
	Kind            string
	Value           string
	OrganizationSid string
	AccountSid      string
	DateCreated     time.Time
	DateUpdated     time.Time
}

var (
	phonePattern     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	shortCodePattern = regexp.MustCompile(`^[0-9]{3,8}$`)
)

// ValidateNumber checks a number to acquire: E.164 for a phone number,
// 3 to 8 digits for a short code.
func ValidateNumber(kind, value string) error {
	switch kind {
	case NumberPhone:
		if !phonePattern.MatchString(value) {
			return Errorf(EInvalid, CodeBadRequest, "phone_number must be in E.164 form, like +15005550006")
		}
	case NumberShortCode:
		if !shortCodePattern.MatchString(value) {
			return Errorf(EInvalid, CodeBadRequest, "short_code must be 3 to 8 digits")
		}
	default:
		return Errorf(EInvalid, CodeBadRequest, "unknown number kind %q", kind)
	}
	return nil
}

// NumberPrefix is the SID prefix of a number kind.
func NumberPrefix(kind string) string {
	if kind == NumberShortCode {
		return PrefixShortCode
	}
	return PrefixPhoneNumber
}

// Subscription statuses.
const (
	SubscriptionActive  = "active"
	SubscriptionStopped = "stopped"
)

// Subscription is a recurring monthly charge of an account.
type Subscription struct {
	Sid             string
	OrganizationSid string
	AccountSid      string
	Description     string
	MonthlyPrice    string // a decimal amount, like "1.15"
	Currency        string
	Status          string
	DateCreated     time.Time
	DateStopped     *time.Time
}

var pricePattern = regexp.MustCompile(`^([0-9]{1,7})(?:\.([0-9]{1,4}))?$`)

// Validate checks a new subscription.
func (s Subscription) Validate() error {
	_, err := s.Normalized()
	return err
}

// Normalized checks a subscription and returns it with its price written
// at its currency's fixed scale ("2" USD is "2.00"; JPY has no decimals):
// the currency must be an ISO 4217 code in capitals (not XXX or XTS), and
// the price a decimal with no more decimals than the currency has. Prices
// are decimal strings throughout, never floats.
func (s Subscription) Normalized() (Subscription, error) {
	if d := strings.TrimSpace(s.Description); d == "" || len(d) > 128 {
		return s, Errorf(EInvalid, CodeBadRequest, "description is required (at most 128 characters)")
	}
	unit, err := currency.ParseISO(s.Currency)
	if err != nil || unit.String() != s.Currency || s.Currency == "XXX" || s.Currency == "XTS" {
		return s, Errorf(EInvalid, CodeBadRequest, "currency must be an ISO 4217 currency code in capitals, like USD")
	}
	scale, _ := currency.Standard.Rounding(unit)
	m := pricePattern.FindStringSubmatch(s.MonthlyPrice)
	if m == nil {
		return s, Errorf(EInvalid, CodeBadRequest, "monthly_price must be a decimal amount like \"1.15\"")
	}
	whole, frac := m[1], strings.TrimRight(m[2], "0")
	if len(frac) > scale {
		return s, Errorf(EInvalid, CodeBadRequest, "monthly_price has more decimals than %s has (%d)", s.Currency, scale)
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	s.MonthlyPrice = whole
	if scale > 0 {
		s.MonthlyPrice += "." + frac + strings.Repeat("0", scale-len(frac))
	}
	return s, nil
}

// Kinds of release records (ResourceRelease.Kind): a number's kind, or a
// stopped charge.
const ReleaseCharge = "subscription"

// ResourceRelease records one release of a number or stop of a charge.
type ResourceRelease struct {
	Key             string
	Kind            string
	ResourceSid     string
	AccountSid      string
	OrganizationSid string
	DateCreated     time.Time
}

// ReleaseKey is the idempotency key of releasing (or stopping) one
// resource for one closure: the same key never acts twice.
func ReleaseKey(accountSid, resourceSid string) string {
	return fmt.Sprintf("close/%s/%s", accountSid, resourceSid)
}

// Carrier releases numbers back to the inventory; Billing stops charges.
// Each call carries an idempotency key: a second call with the same key
// does nothing. The database implementation (package store) records the
// release in the same transaction; a real carrier or billing system plugs
// in here.
type Carrier interface {
	// ReleaseNumber returns the number to the inventory (a number already
	// released, or a key already used, is not an error).
	ReleaseNumber(ctx context.Context, n Number, key string) error
}

// Billing stops recurring charges.
type Billing interface {
	// StopCharge stops a subscription (already stopped, or a key already
	// used, is not an error).
	StopCharge(ctx context.Context, s Subscription, key string) error
}

// Pending request kinds (PendingRequest.Kind).
const RequestInvitation = "invitation"

// PendingRequest is something started on an account that waits for a
// person's answer in a workflow: an invitation today; imports and shares
// are further kinds. A closure cancels every one.
type PendingRequest struct {
	Kind       string
	Sid        string
	WorkflowID string
}

// ClosureStart is a closure the closure service hands the engine: the
// account to cut off at once (pending_closure) and close, and when its
// data may be purged.
type ClosureStart struct {
	OrganizationSid string
	AccountSid      string
	PurgeAfter      time.Time
	Actor           Actor
}

// ClosureBegun answers a closure's start: the account, now closing or
// closed, and whether this call moved it to pending_closure (false when it
// was closing already: the answer is then the closure running).
type ClosureBegun struct {
	Account Account
	Started bool
}
