package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

func yes() *bool { b := true; return &b }

func TestCloseAcknowledgements_Validate(t *testing.T) {
	t.Parallel()
	no := false
	all := domain.CloseAcknowledgements{LoseAccess: yes(), StopCharges: yes(), ReleaseResources: yes(), ScheduleDeletion: yes()}
	require.NoError(t, all.Validate())
	cases := map[string]func(a *domain.CloseAcknowledgements){
		"lose_access":       func(a *domain.CloseAcknowledgements) { a.LoseAccess = nil },
		"stop_charges":      func(a *domain.CloseAcknowledgements) { a.StopCharges = &no },
		"release_resources": func(a *domain.CloseAcknowledgements) { a.ReleaseResources = nil },
		"schedule_deletion": func(a *domain.CloseAcknowledgements) { a.ScheduleDeletion = &no },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			a := all
			edit(&a)
			err := a.Validate()
			assert.Equal(t, domain.CodeBadRequest, domain.ErrorCode(err))
			assert.Contains(t, domain.ErrorMessage(err), name)
		})
	}
	err := domain.CloseAcknowledgements{}.Validate()
	assert.Contains(t, domain.ErrorMessage(err), "lose_access, stop_charges, release_resources, schedule_deletion")
}

func TestCheckClosable(t *testing.T) {
	t.Parallel()
	active := domain.Account{Sid: "AC1", Status: domain.AccountActive}
	sub := domain.Account{Sid: "AC2", Status: domain.AccountActive, ParentSid: "AC1"}
	assert.NoError(t, domain.CheckClosable(active, 1))
	assert.Equal(t, domain.CodeInvalidState, domain.ErrorCode(domain.CheckClosable(active, 0)), "the last open account")
	assert.NoError(t, domain.CheckClosable(sub, 0), "subaccounts do not count")
	assert.Equal(t, domain.CodeInvalidState, domain.ErrorCode(domain.CheckClosable(domain.Account{Status: domain.AccountSuspended}, 3)))
	shared := domain.Account{Sid: "AC3", Status: domain.AccountActive, Kind: domain.AccountIndependent}
	assert.Equal(t, domain.CodeInvalidState, domain.ErrorCode(domain.CheckClosable(shared, 3)), "a shared account is relinquished, never closed")
}

func TestCheckAcceptsNewRequests(t *testing.T) {
	t.Parallel()
	assert.NoError(t, domain.CheckAcceptsNewRequests(domain.Account{Status: domain.AccountActive}))
	for _, st := range []string{domain.AccountPendingClosure, domain.AccountClosed, domain.AccountSuspended, domain.AccountProvisioning} {
		assert.Equal(t, domain.CodeInvalidState, domain.ErrorCode(domain.CheckAcceptsNewRequests(domain.Account{Status: st})), st)
	}
}

func TestCheckCredentialAccount(t *testing.T) {
	t.Parallel()
	assert.NoError(t, domain.CheckCredentialAccount(domain.AccountActive, ""))
	assert.NoError(t, domain.CheckCredentialAccount(domain.AccountActive, domain.AccountActive))
	for _, c := range [][2]string{{domain.AccountPendingClosure, ""}, {domain.AccountClosed, ""}, {domain.AccountActive, domain.AccountPendingClosure}, {"", ""}} {
		err := domain.CheckCredentialAccount(c[0], c[1])
		assert.Equal(t, domain.CodeAccountNotActive, domain.ErrorCode(err), "%v", c)
		assert.Equal(t, domain.EForbidden, domain.ErrorKind(err))
	}
}

func TestValidateNumberAndSubscription(t *testing.T) {
	t.Parallel()
	assert.NoError(t, domain.ValidateNumber(domain.NumberPhone, "+15005550006"))
	assert.Error(t, domain.ValidateNumber(domain.NumberPhone, "15005550006"))
	assert.NoError(t, domain.ValidateNumber(domain.NumberShortCode, "80123"))
	assert.Error(t, domain.ValidateNumber(domain.NumberShortCode, "80a23"))
	ok := domain.Subscription{Description: "Line", MonthlyPrice: "1.15", Currency: "USD"}
	assert.NoError(t, ok.Validate())
	for _, bad := range []domain.Subscription{
		{Description: "", MonthlyPrice: "1", Currency: "USD"},
		{Description: "Line", MonthlyPrice: "-1", Currency: "USD"},
		{Description: "Line", MonthlyPrice: "1.155", Currency: "USD"},
		{Description: "Line", MonthlyPrice: "1", Currency: "usd"},
	} {
		assert.Equal(t, domain.CodeBadRequest, domain.ErrorCode(bad.Validate()), "%+v", bad)
	}
}

func TestSubscriptionNormalized(t *testing.T) {
	ok := func(price, cur, want string) {
		t.Helper()
		got, err := domain.Subscription{Description: "line", MonthlyPrice: price, Currency: cur}.Normalized()
		if err != nil {
			t.Fatalf("%s %s: %v", price, cur, err)
		}
		if got.MonthlyPrice != want {
			t.Fatalf("%s %s: got %q, want %q", price, cur, got.MonthlyPrice, want)
		}
	}
	ok("2", "USD", "2.00")
	ok("2.5", "EUR", "2.50")
	ok("0012.30", "USD", "12.30")
	ok("200", "JPY", "200")
	ok("200.00", "JPY", "200")
	ok("1.125", "BHD", "1.125")
	for _, tc := range []struct{ price, cur string }{
		{"1.00", "%_%"}, {"1.00", "\xed\xa0\x80"}, {"1.00", "usd"}, {"1.00", "ABC"}, {"1.00", "XXX"}, {"1.00", "XTS"},
		{"1.00", "US"}, {"1.00", "USDX"}, {"1.005", "USD"}, {"2.5", "JPY"}, {"-1", "USD"}, {"1e3", "USD"}, {"", "USD"}, {"NaN", "USD"},
	} {
		if _, err := (domain.Subscription{Description: "line", MonthlyPrice: tc.price, Currency: tc.cur}).Normalized(); domain.ErrorCode(err) != domain.CodeBadRequest {
			t.Errorf("%q %q: got %v, want 25106", tc.price, tc.cur, err)
		}
	}
}
