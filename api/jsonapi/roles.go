package jsonapi

import (
	"net/http"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

func renderRoleAssignment(ra domain.RoleAssignment) wire.RoleAssignment {
	return wire.RoleAssignment{Sid: ra.Sid, RoleSid: ra.RoleSid, Scope: ra.Scope, Identity: ra.Identity}
}

func (s *Handlers) listRoleAssignments(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixRoleAssignment, domain.MaxPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	out, err := s.services.People.Assignments(c.Request.Context(), edge.Principal(c),
		domain.RoleAssignmentFilter{Identity: c.Query("Identity"), Scope: c.Query("Scope"), Page: page})
	if err != nil {
		_ = c.Error(err)
		return
	}
	content, meta := edge.Envelope(s.baseURL, c, out, func(r domain.RoleAssignment) string { return r.Sid }, renderRoleAssignment)
	c.PureJSON(http.StatusOK, wire.RoleAssignmentPage{Content: content, Meta: meta})
}

func (s *Handlers) createRoleAssignment(c *gin.Context) {
	var req wire.CreateRoleAssignmentRequest
	if err := edge.DecodeJSON(c, &req); err != nil {
		_ = c.Error(err)
		return
	}
	ra, err := s.services.People.Assign(c.Request.Context(), edge.Principal(c), lifecycle.AssignRole{RoleSid: req.RoleSid, Scope: req.Scope, Identity: req.Identity})
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusCreated, renderRoleAssignment(ra))
}

func (s *Handlers) deleteRoleAssignment(c *gin.Context) {
	if err := s.services.People.Unassign(c.Request.Context(), edge.Principal(c), c.Param("assignment")); err != nil {
		_ = c.Error(err)
		return
	}
	c.Status(http.StatusNoContent)
}
