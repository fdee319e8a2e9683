package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// signUp implements POST /v1/Accounts: anyone may create a standalone
// account and its owner, within a rate per client IP. No organization sees
// the account until it is imported or shared. The answer's auth_token is
// the owner's credential for the account, shown once: only its hash is
// kept.
func (s *Handlers) signUp(c *gin.Context) {
	var req wire.SignUpRequest
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
	c.PureJSON(http.StatusCreated, wire.SignUp{
		AccountSid: out.Account.Sid, FriendlyName: out.Account.FriendlyName, Status: wire.SignUpStatus(out.Account.Status), Kind: wire.SignUpKind(out.Account.Kind),
		OwnerSid: out.Owner.Sid, Email: out.Owner.UserName, DateCreated: edge.RFC3339(out.Account.DateCreated), AuthToken: out.AuthToken,
	})
}
