package api

import (
	"github.com/gin-gonic/gin"
	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// accountCredentialRoutes are the routes a credential scoped to an account
// may call, on that account only.
var accountCredentialRoutes = map[string]bool{
	"GET /Organizations/:org/Accounts/:account":                true,
	"GET /Organizations/:org/Accounts/:account/PhoneNumbers":   true,
	"POST /Organizations/:org/Accounts/:account/PhoneNumbers":  true,
	"GET /Organizations/:org/Accounts/:account/ShortCodes":     true,
	"POST /Organizations/:org/Accounts/:account/ShortCodes":    true,
	"GET /Organizations/:org/Accounts/:account/Subscriptions":  true,
	"POST /Organizations/:org/Accounts/:account/Subscriptions": true,
}

// accountCredentialScope keeps a credential scoped to an account to that
// account's endpoints (25105 elsewhere).
func (s *server) accountCredentialScope(c *gin.Context) {
	p := edge.Principal(c)
	if p.AccountSid != "" && (!accountCredentialRoutes[c.Request.Method+" "+c.FullPath()] || c.Param("account") != p.AccountSid) {
		_ = c.Error(domain.Errorf(domain.EForbidden, domain.CodeForbidden, "account credentials are accepted only on their account's own endpoints (the account, its phone numbers, short codes and subscriptions)"))
		c.Abort()
		return
	}
	c.Next()
}
