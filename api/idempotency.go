package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/orgaccounts/orgaccounts/api/edge"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/lifecycle"
)

// IdempotencyHeader names the key a client sends with a POST.
const IdempotencyHeader = "Idempotency-Key"

// staleClaim is how long a key claimed by a request that never completed
// (its process died) blocks a retry.
const staleClaim = time.Minute

// replayedHeaders are the headers of a first answer that its replays
// repeat.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

type recorder struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.buf.WriteString(s)
	return r.ResponseWriter.WriteString(s)
}

// idempotency replays the stored response of a POST made again with the
// same Idempotency-Key and body, and refuses the key with another body.
func (s *server) idempotency(c *gin.Context) {
	key := c.GetHeader(IdempotencyHeader)
	if c.Request.Method != http.MethodPost || key == "" {
		c.Next()
		return
	}
	if len(key) > 255 || !printable(key) {
		_ = c.Error(edge.Errorf(domain.EInvalid, domain.CodeBadRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters"))
		c.Abort()
		return
	}
	p := edge.Principal(c)
	// A key belongs to the credential that sent it: another caller of the
	// organization sending the same key neither gets this caller's answer
	// replayed nor takes the key from it.
	key = p.CredentialSid + " " + key
	h := sha256.New()
	h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
	h.Write(edge.Body(c))
	reqHash := h.Sum(nil)
	ctx := c.Request.Context()
	rec, fresh, err := s.store.BeginIdempotent(ctx, domain.IdempotencyRecord{OrganizationSid: p.OrganizationSid, Key: key, RequestHash: hex.EncodeToString(reqHash)})
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	if !fresh {
		// The stored answer is the first attempt's: the caller must still
		// be allowed what it asked before it hears anything of it.
		if err := s.authorizeReplay(c, p); err != nil {
			_ = c.Error(err)
			c.Abort()
			return
		}
		switch {
		case rec.RequestHash != hex.EncodeToString(reqHash):
			_ = c.Error(edge.Errorf(domain.EUnprocessable, domain.CodeBadRequest, "this Idempotency-Key was used with a different request; use a new key"))
			c.Abort()
			return
		case rec.StatusCode != 0:
			c.Header("Idempotent-Replayed", "true")
			contentType := "application/json; charset=utf-8"
			for k, v := range rec.Headers {
				if k == "Content-Type" {
					contentType = v
				} else {
					c.Header(k, v)
				}
			}
			c.Data(rec.StatusCode, contentType, rec.Body)
			c.Abort()
			return
		case s.clock.Now().Sub(rec.DateCreated) < staleClaim:
			_ = c.Error(edge.Errorf(domain.EConflict, domain.CodeInvalidState, "a request with this Idempotency-Key is still in progress; retry shortly"))
			c.Abort()
			return
		}
		// The first attempt died without an answer: take its claim over.
	}
	seed := sha256.Sum256([]byte(p.OrganizationSid + "\n" + key))
	// The use cases derive the SIDs they mint from the key, so a retry
	// after a crash creates the same resource, not a twin.
	c.Request = c.Request.WithContext(lifecycle.WithSIDSeed(ctx, rec.DateCreated, seed[:]))
	rw := &recorder{ResponseWriter: c.Writer}
	c.Writer = rw
	c.Next()
	status := rw.Status()
	if status >= 500 || (len(c.Errors) > 0 && !rw.Written()) {
		_ = s.store.ReleaseIdempotent(ctx, p.OrganizationSid, key)
		return
	}
	body, headers := rw.buf.Bytes(), map[string]string{}
	for _, h := range replayedHeaders {
		if v := rw.Header().Get(h); v != "" {
			headers[h] = v
		}
	}
	if strings.Contains(rw.Header().Get("Cache-Control"), "no-store") && status < 300 {
		// The answer holds a secret shown once: it is never kept, and a
		// replay says why there is nothing to show.
		status = http.StatusConflict
		body, _ = json.Marshal(edge.ErrorBody(domain.CodeInvalidState,
			"a request with this Idempotency-Key succeeded already; its answer held a secret, which is shown once and not kept", status))
		headers = map[string]string{"Content-Type": "application/json; charset=utf-8"}
	}
	if err := s.store.CompleteIdempotent(ctx, p.OrganizationSid, key, status, body, headers); err != nil {
		s.log.ErrorContext(ctx, "storing an idempotent response", "request_id", edge.RequestID(c), "error", err.Error())
	}
}

// replayPermissions are what each keyed command asks of its caller, by
// route (every POST route under an organization is here: a test checks).
// A keyed command whose route is missing is replayed to its credential
// with no check beyond authentication.
var replayPermissions = map[string]func(c *gin.Context) lifecycle.Permission{
	"/Organizations/:org/Accounts": func(c *gin.Context) lifecycle.Permission {
		var body struct {
			ParentSid string `json:"parent_sid"`
		}
		_ = json.Unmarshal(edge.Body(c), &body)
		return lifecycle.Permission{OrgUser: true, Account: body.ParentSid, Action: domain.ActionUpdateSettings}
	},
	"/Organizations/:org/Accounts/:account":               accountPermission(domain.ActionUpdateSettings),
	"/Organizations/:org/Accounts/:account/PhoneNumbers":  accountPermission(domain.ActionUpdateSettings),
	"/Organizations/:org/Accounts/:account/ShortCodes":    accountPermission(domain.ActionUpdateSettings),
	"/Organizations/:org/Accounts/:account/Subscriptions": accountPermission(domain.ActionUpdateSettings),
	"/Organizations/:org/Accounts/:account/Credentials":   accountPermission(domain.ActionUpdateSettings),
	"/Organizations/:org/Accounts/:account/Close":         accountPermission(domain.ActionCloseAccount),
	"/Organizations/:org/Accounts/:account/Reopen": func(c *gin.Context) lifecycle.Permission {
		return lifecycle.Permission{OrgAdmin: true, Account: c.Param("account"), Action: domain.ActionReadAccount}
	},
	"/Organizations/:org/Accounts/:account/Owner":                          accountPermission(domain.ActionTransferOwnership),
	"/Organizations/:org/Accounts/:account/Invitations":                    accountPermission(domain.ActionManageUsers),
	"/Organizations/:org/Accounts/:account/Invitations/:invitation/Resend": accountPermission(domain.ActionManageUsers),
	"/Organizations/:org/Accounts/:account/Relinquish":                     orgAdminPermission,
	"/Organizations/:org/Accounts/Imports":                                 orgAdminPermission,
	"/Organizations/:org/Accounts/Shares":                                  orgAdminPermission,
	"/Organizations/:org/Domains":                                          orgAdminPermission,
	"/Organizations/:org/Keys":                                             func(*gin.Context) lifecycle.Permission { return lifecycle.Permission{OrgUser: true} },
	"/Organizations/:org/scim/Users":                                       orgAdminPermission,
	"/Organizations/:org/RoleAssignments": func(c *gin.Context) lifecycle.Permission {
		var body struct {
			Scope   string `json:"scope"`
			RoleSid string `json:"role_sid"`
		}
		_ = json.Unmarshal(edge.Body(c), &body)
		return lifecycle.Permission{OrgUser: body.Scope == "", Account: body.Scope, Action: domain.ActionManageUsers, Role: body.RoleSid}
	},
}

func accountPermission(action domain.AccountAction) func(c *gin.Context) lifecycle.Permission {
	return func(c *gin.Context) lifecycle.Permission {
		return lifecycle.Permission{Account: c.Param("account"), Action: action}
	}
}

func orgAdminPermission(*gin.Context) lifecycle.Permission {
	return lifecycle.Permission{OrgAdmin: true}
}

// authorizeReplay checks the caller may still do what the keyed request
// asks, before any stored answer to it is replayed.
func (s *server) authorizeReplay(c *gin.Context, p domain.Principal) error {
	perm, ok := replayPermissions[c.FullPath()]
	if !ok || s.services == nil {
		return nil
	}
	return s.services.Authorize(c.Request.Context(), p, perm(c))
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
