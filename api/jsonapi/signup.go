package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

type signUpRequest struct {
	Email        string `json:"email"`
	FriendlyName string `json:"friendly_name"`
}

// signUpJSON is the answer to a sign-up.
type signUpJSON struct {
	AccountSid   string `json:"account_sid"`
	FriendlyName string `json:"friendly_name"`
	Status       string `json:"status"`
	Kind         string `json:"kind"`
	OwnerSid     string `json:"owner_sid"`
	Email        string `json:"email"`
	DateCreated  string `json:"date_created"`
	// AuthToken is the owner's credential for the account, shown once:
	// only its hash is kept.
	AuthToken string `json:"auth_token"`
}

// signUp implements POST /v1/Accounts: anyone may create a standalone
// account and its owner, within a rate per client IP. No organization sees
// the account until it is imported or shared.
func (s *Handlers) signUp(c *gin.Context) {
	var req signUpRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.SignUp.SignUp(c.Request.Context(), domain.Actor{SourceIP: c.ClientIP(), RequestID: edge.RequestID(c)},
		lifecycle.SignUpAccount{Email: req.Email, FriendlyName: req.FriendlyName})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store") // the answer holds a secret
	c.PureJSON(http.StatusCreated, signUpJSON{
		AccountSid: out.Account.Sid, FriendlyName: out.Account.FriendlyName, Status: out.Account.Status, Kind: out.Account.Kind,
		OwnerSid: out.Owner.Sid, Email: out.Owner.UserName, DateCreated: edge.RFC3339(out.Account.DateCreated), AuthToken: out.AuthToken,
	})
}
