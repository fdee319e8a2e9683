package jsonapi

import (
	"net/http"
	"time"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// eventJSON is an audit event on the wire.
type eventJSON struct {
	Sid           string         `json:"sid"`
	EventType     string         `json:"event_type"`
	ActorSid      string         `json:"actor_sid"`
	CredentialSid string         `json:"credential_sid,omitempty"`
	ResourceSid   string         `json:"resource_sid"`
	Changes       map[string]any `json:"changes"`
	SourceIP      string         `json:"source_ip,omitempty"`
	RequestID     string         `json:"request_id,omitempty"`
	DateCreated   string         `json:"date_created"`
}

func renderEvent(e domain.AuditEvent) eventJSON {
	ch := e.Changes
	if ch == nil {
		ch = map[string]any{}
	}
	return eventJSON{Sid: e.Sid, EventType: e.Type, ActorSid: e.Actor, CredentialSid: e.CredentialSid, ResourceSid: e.ResourceSid,
		Changes: ch, SourceIP: e.SourceIP, RequestID: e.RequestID, DateCreated: e.DateCreated.UTC().Format(time.RFC3339Nano)}
}

// listEvents implements GET /Organizations/{OR}/Events with the filters
// Actor, Resource, Type, StartDate and EndDate (RFC 3339).
func (s *Handlers) listEvents(c *gin.Context) {
	page, err := edge.PageRequest(c, domain.PrefixEvent, domain.DefaultPageSize, domain.MaxPageSize)
	if err != nil {
		_ = c.Error(err)
		return
	}
	f := domain.EventFilter{Actor: c.Query("Actor"), ResourceSid: c.Query("Resource"), Type: c.Query("Type"), Page: page}
	for _, q := range []struct {
		name string
		dst  **time.Time
	}{{"StartDate", &f.Start}, {"EndDate", &f.End}} {
		if raw := c.Query(q.name); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				_ = c.Error(domain.Errorf(domain.EInvalid, domain.CodeBadRequest, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", q.name))
				return
			}
			*q.dst = &t
		}
	}
	out, err := s.services.Organizations.Events(c.Request.Context(), edge.Principal(c), f)
	if err != nil {
		_ = c.Error(err)
		return
	}
	c.PureJSON(http.StatusOK, edge.Envelope(s.baseURL, c, out, func(e domain.AuditEvent) string { return e.Sid }, renderEvent))
}
