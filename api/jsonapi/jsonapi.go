// Package jsonapi is the Twilio-style JSON API: the Organizations API at
// Twilio's wire paths and orgaccounts' lifecycle endpoints in the same
// style. Each handler decodes the request, calls one lifecycle service
// method and renders its answer.
package jsonapi

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
)

// Handlers serve the JSON API.
type Handlers struct {
	services *lifecycle.Services
	baseURL  string
	log      *slog.Logger
	metrics  *telemetry.Metrics
}

// New returns the JSON API's handlers.
func New(services *lifecycle.Services, baseURL string, log *slog.Logger, metrics *telemetry.Metrics) *Handlers {
	return &Handlers{services: services, baseURL: baseURL, log: log, metrics: metrics}
}

// RegisterPublic adds the routes reached without an organization: the
// token endpoint and sign-up.
func (s *Handlers) RegisterPublic(r gin.IRoutes) {
	r.POST("/v1/token", s.token)
	r.POST("/v1/Accounts", s.signUp)
}

// Register adds the organization's routes to org (/Organizations/:org,
// authenticated and scoped to the caller's organization).
func (s *Handlers) Register(org *gin.RouterGroup) {
	org.GET("", s.getOrganization)
	org.POST("", s.updateOrganization)
	org.GET("/Accounts", s.listAccounts)
	org.POST("/Accounts", s.createAccount)
	org.GET("/Accounts/:account", s.getAccount)
	org.POST("/Accounts/:account", s.updateAccount)
	org.GET("/Accounts/:account/Creation", s.getCreation)
	org.GET("/RoleAssignments", s.listRoleAssignments)
	org.POST("/RoleAssignments", s.createRoleAssignment)
	org.DELETE("/RoleAssignments/:assignment", s.deleteRoleAssignment)
	org.GET("/Events", s.listEvents)
	org.POST("/Accounts/Imports", s.importAccount)
	org.DELETE("/Accounts/Imports/:request", s.cancelRequest(domain.RequestImport))
	org.POST("/Accounts/Shares", s.shareAccount)
	org.DELETE("/Accounts/Shares/:request", s.cancelRequest(domain.RequestShare))
	org.POST("/Accounts/:account/Relinquish", s.relinquish)
	org.GET("/PendingAccounts", s.listPendingAccounts)
	org.GET("/PendingAccounts/:request", s.getPendingAccount)
	s.registerPeople(org)
	org.GET("/Accounts/:account/Invitations", s.listInvitations)
	org.POST("/Accounts/:account/Invitations", s.invite)
	org.GET("/Accounts/:account/Invitations/:invitation", s.getInvitation)
	org.DELETE("/Accounts/:account/Invitations/:invitation", s.revokeInvitation)
	org.POST("/Accounts/:account/Invitations/:invitation/Resend", s.resendInvitation)
	s.registerClosure(org)
	s.registerDomains(org)
	s.registerKeys(org)
	s.registerSSO(org)
}

// deref is an optional request field's value, its zero when absent.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// optionalName is an optional friendly_name of a request: absent is "",
// which the services take as "no name". Present but empty is refused, as
// the description says, rather than taken as absent; the services check
// any other name.
func optionalName(p *string) (string, error) {
	if p != nil && *p == "" {
		return "", domain.ValidateFriendlyName("friendly_name", "")
	}
	return deref(p), nil
}

// optString is an optional response field: absent when empty.
func optString(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
