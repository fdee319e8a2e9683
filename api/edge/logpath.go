package edge

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// secretParams are path parameters that hold a live secret (an emailed
// link's token): logs and traces name them by a short hash instead.
var secretParams = map[string]bool{"token": true}

// LoggedPath is the request path with every secret parameter replaced by
// "hash:" and the first 12 hex digits of its SHA-256: enough to follow one
// link through the logs, useless to anyone who reads them.
func LoggedPath(c *gin.Context) string {
	p := c.Request.URL.Path
	for _, param := range c.Params {
		if secretParams[param.Key] && param.Value != "" {
			p = strings.Replace(p, param.Value, domain.SecretRef(param.Value), 1)
		}
	}
	return p
}
