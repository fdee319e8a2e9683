package api

import (
	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// What the invitation handlers and the confirmation pages, not yet in
// their own packages, share with the JSON API.

func (s *server) accountURL(orgSid, sid string) string {
	return s.baseURL + "/Organizations/" + orgSid + "/Accounts/" + sid
}

// account loads the account in the path for the caller, as the lifecycle
// services' access rules decide.
func (s *server) account(c *gin.Context, action domain.AccountAction) (domain.Account, error) {
	return s.services.Access(c.Request.Context(), edge.Principal(c), c.Param("account"), action)
}

// workflowStarted counts a start and logs it.
func (s *server) workflowStarted(c *gin.Context, typ string, w domain.Run) {
	if s.metrics != nil {
		s.metrics.WorkflowStarts.WithLabelValues(typ).Inc()
	}
	s.log.InfoContext(c.Request.Context(), "workflow started", "request_id", edge.RequestID(c), "workflow_type", typ,
		"workflow_id", w.WorkflowID, "run_id", w.RunID)
}
