package api

import (
	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// notifyOwnershipChange emails the former and the new owner of an account
// after a transfer.
func (s *server) notifyOwnershipChange(c *gin.Context, acct domain.Account, formerOwner, newOwner domain.User) {}
