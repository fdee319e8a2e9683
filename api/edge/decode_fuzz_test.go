package edge_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/api/wire"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// bodyTypes are the request bodies of every operation that takes one, as
// the handlers decode them.
var bodyTypes = []func() any{
	func() any { return new(wire.CreateAccountRequest) },
	func() any { return new(wire.UpdateAccountRequest) },
	func() any { return new(wire.CreateRoleAssignmentRequest) },
	func() any { return new(wire.AcquireShortCodeRequest) },
	func() any { return new(wire.CreateSubscriptionRequest) },
	func() any { return new(wire.AccountCredentialRequest) },
	func() any { return new(wire.CloseAccountRequest) },
	func() any { return new(wire.AddDomainRequest) },
	func() any { return new(wire.InviteRequest) },
	func() any { return new(wire.SetAccountUserRolesRequest) },
	func() any { return new(wire.TransferOwnershipRequest) },
	func() any { return new(wire.SignUpRequest) },
	func() any { return new(wire.ImportAccountRequest) },
	func() any { return new(wire.ShareAccountRequest) },
	func() any { return new(wire.SCIMUserCreate) },
	func() any { return new(wire.SCIMUserReplace) },
	func() any { return new(wire.SCIMPatchOp) },
}

// FuzzDecodeBody: whatever a client sends as the body of any operation,
// decoding answers with a value or a 400 (415 for a foreign Content-Type)
// in the house format, never a panic; and what it accepts decodes again,
// re-encoded, to the same value.
func FuzzDecodeBody(f *testing.F) {
	for i := range bodyTypes {
		f.Add(uint8(i), "application/json", []byte(`{}`))
	}
	f.Add(uint8(0), "application/json", []byte(`{"friendly_name":"Prod","parent_sid":"AC0123456789abcdef0123456789abcdef","flex":true}`))
	f.Add(uint8(14), "application/scim+json", []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@example.com","meta":{"created":"0001-01-01T00:00:00Z"}}`))
	f.Add(uint8(16), "application/scim+json", []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`))
	f.Fuzz(func(t *testing.T, kind uint8, contentType string, body []byte) {
		newBody := bodyTypes[int(kind)%len(bodyTypes)]
		dst := newBody()
		err := decode(contentType, body, dst)
		if err != nil {
			status := edge.StatusOf(domain.ErrorKind(err))
			if (status != http.StatusBadRequest && status != http.StatusUnsupportedMediaType) || domain.ErrorCode(err) != domain.CodeBadRequest {
				t.Fatalf("%T from %q (%q): %v, status %d", dst, body, contentType, err, status)
			}
			return
		}
		again, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("%T decoded from %q does not encode: %v", dst, body, err)
		}
		back := newBody()
		if err := decode("application/json", again, back); err != nil {
			t.Fatalf("%T from %q re-encoded as %s is refused: %v", dst, body, again, err)
		}
		if !reflect.DeepEqual(dst, back) {
			t.Fatalf("%T from %q: %+v, re-encoded and decoded %+v", dst, body, dst, back)
		}
	})
}

func decode(contentType string, body []byte, dst any) error {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if contentType != "" {
		c.Request.Header.Set("Content-Type", contentType)
	}
	edge.SetBody(c, body)
	return edge.DecodeJSON(c, dst)
}
