package jsonapi

import (
	"net/http"
	"time"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// renderEvent is an audit event on the wire. Its time keeps fractions of
// a second, so that events of the same second stay in order.
func renderEvent(e domain.AuditEvent) wire.Event {
	ch := e.Changes
	if ch == nil {
		ch = map[string]any{}
	}
	return wire.Event{Sid: e.Sid, EventType: wire.EventType(e.Type), ActorSid: e.Actor, CredentialSid: optString(e.CredentialSid), ResourceSid: e.ResourceSid,
		Changes: ch, SourceIP: optString(e.SourceIP), UserAgent: optString(e.UserAgent), RequestID: optString(e.RequestID), DateCreated: e.DateCreated.UTC().Format(time.RFC3339Nano)}
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
	content, meta := edge.Envelope(s.baseURL, c, out, func(e domain.AuditEvent) string { return e.Sid }, renderEvent)
	c.PureJSON(http.StatusOK, wire.EventPage{Content: content, Meta: meta})
}
