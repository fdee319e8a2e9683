package testenv

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
)

// OpenAPITransport returns an http.RoundTripper that sends each request
// through base (http.DefaultTransport when nil) and checks the exchange
// against the OpenAPI document spec, reporting every mismatch with
// tb.Errorf:
//
//   - every response must match the description of its operation and status
//     (status documented, content type, body schema, headers), error
//     responses included;
//   - a request that does not match the description is expected to be
//     refused: it is reported only when the server answered 2xx, since the
//     server then accepted what the description says is invalid;
//   - a request to a path or method the document does not describe must be
//     answered 404 or 405 with the document's UnknownRoute or
//     MethodNotAllowed response (components.responses).
//
// Bodies are read in full and handed on unchanged.
func OpenAPITransport(tb testing.TB, spec []byte, base http.RoundTripper) http.RoundTripper {
	tb.Helper()
	v, err := compiledSpec(spec)
	if err != nil {
		tb.Fatalf("openapi: %v", err)
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &openAPITransport{tb: tb, spec: v, base: base}
}

type openAPITransport struct {
	tb   testing.TB
	spec *openAPISpec
	base http.RoundTripper
}

// openAPISpec is a document ready to validate against, built once per
// document: building one takes a while, and the end-to-end suite makes a
// transport per request.
type openAPISpec struct {
	mu        sync.Mutex
	validator validator.Validator
	schemas   schema_validation.SchemaValidator
	// unknown holds the body schemas of the answers to routes the document
	// does not describe, by status.
	unknown map[int]*base.Schema
	// components is the document's components.schemas.
	components map[string]*base.SchemaProxy
}

var (
	specsMu sync.Mutex
	specs   = map[[32]byte]*openAPISpec{}
)

func compiledSpec(spec []byte) (*openAPISpec, error) {
	key := sha256.Sum256(spec)
	specsMu.Lock()
	defer specsMu.Unlock()
	if s, ok := specs[key]; ok {
		return s, nil
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parsing the document: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the document's model: %w", err)
	}
	opts := []config.Option{config.WithURLEncodedBodyValidation()}
	s := &openAPISpec{
		validator:  validator.NewValidatorFromV3Model(&model.Model, opts...),
		schemas:    schema_validation.NewSchemaValidator(opts...),
		unknown:    map[int]*base.Schema{},
		components: map[string]*base.SchemaProxy{},
	}
	if model.Model.Components != nil && model.Model.Components.Schemas != nil {
		for name, proxy := range model.Model.Components.Schemas.FromOldest() {
			s.components[name] = proxy
		}
	}
	for status, name := range map[int]string{http.StatusNotFound: "UnknownRoute", http.StatusMethodNotAllowed: "MethodNotAllowed"} {
		var resp = model.Model.Components.Responses.GetOrZero(name)
		if resp == nil || resp.Content.GetOrZero("application/json") == nil || resp.Content.GetOrZero("application/json").Schema == nil {
			return nil, fmt.Errorf("the document has no components.responses.%s with an application/json schema", name)
		}
		s.unknown[status] = resp.Content.GetOrZero("application/json").Schema.Schema()
	}
	specs[key] = s
	return s, nil
}

// ValidateSchema checks body, a JSON document, against the schema
// components.schemas.<name> of the OpenAPI document spec, as the transport
// checks response bodies, and returns each mismatch (none when it matches).
func ValidateSchema(spec []byte, name string, body []byte) ([]string, error) {
	s, err := compiledSpec(spec)
	if err != nil {
		return nil, err
	}
	proxy, ok := s.components[name]
	if !ok {
		return nil, fmt.Errorf("the document has no components.schemas.%s", name)
	}
	schema := proxy.Schema()
	if schema == nil {
		return nil, fmt.Errorf("components.schemas.%s: %w", name, proxy.GetBuildError())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, errs := s.schemas.ValidateSchemaBytesWithVersion(schema, body, 3.1); len(errs) > 0 {
		return describe(errs), nil
	}
	return nil, nil
}

func (t *openAPITransport) RoundTrip(req *http.Request) (*http.Response, error) {
	reqBody, err := drain(req.Body)
	if err != nil {
		return nil, err
	}
	send := withBody(req, reqBody)
	reqErrs := t.spec.validateRequest(withBody(req, reqBody))

	resp, err := t.base.RoundTrip(send)
	if err != nil {
		return resp, err
	}
	respBody, err := drain(resp.Body)
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	exchange := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)
	vresp := *resp
	vresp.Body = io.NopCloser(bytes.NewReader(respBody))
	for _, e := range t.spec.validateResponse(withBody(req, reqBody), &vresp, respBody) {
		t.tb.Errorf("openapi: the response to %s does not match the description: %s\n  body: %s", exchange, e, clip(respBody))
	}
	if len(reqErrs) > 0 && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		for _, e := range reqErrs {
			t.tb.Errorf("openapi: %s was accepted, but the request does not match the description: %s\n  request body: %s", exchange, e, clip(reqBody))
		}
	}
	return resp, nil
}

func (s *openAPISpec) validateRequest(req *http.Request) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, errs := s.validator.ValidateHttpRequestSync(req)
	return describe(errs)
}

func (s *openAPISpec) validateResponse(req *http.Request, resp *http.Response, body []byte) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, errs := s.validator.ValidateHttpResponse(req, resp)
	for _, e := range errs {
		if e.IsPathMissingError() || e.ValidationSubType == helpers.ValidationMissingOperation {
			return s.validateUnknownRoute(e.ValidationSubType == helpers.ValidationMissingOperation, resp, body)
		}
	}
	return describe(errs)
}

// validateUnknownRoute checks the answer to a path (or, when methodMissing,
// a method) the document does not describe.
func (s *openAPISpec) validateUnknownRoute(methodMissing bool, resp *http.Response, body []byte) []string {
	want := http.StatusNotFound
	if methodMissing {
		want = http.StatusMethodNotAllowed
	}
	if resp.StatusCode != want {
		return []string{fmt.Sprintf("the route is not described, so the answer must be %d (components.responses), not %d", want, resp.StatusCode)}
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return []string{fmt.Sprintf("an undescribed route's %d must be application/json, not %q", want, resp.Header.Get("Content-Type"))}
	}
	if _, errs := s.schemas.ValidateSchemaBytesWithVersion(s.unknown[want], body, 3.1); len(errs) > 0 {
		return describe(errs)
	}
	return nil
}

func describe(errs []*verrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		msg := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			msg += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			where := f.FieldPath
			if where == "" {
				where = f.KeywordLocation
			}
			msg += fmt.Sprintf("\n    at %s: %s", where, f.Reason)
		}
		out = append(out, msg)
	}
	return out
}

// drain reads and closes a body; nil is empty.
func drain(body io.ReadCloser) ([]byte, error) {
	if body == nil || body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(body)
	return b, errors.Join(err, body.Close())
}

// withBody is a copy of req whose body reads b.
func withBody(req *http.Request, b []byte) *http.Request {
	out := req.Clone(req.Context())
	if b == nil {
		out.Body = http.NoBody
		out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return out
	}
	out.Body = io.NopCloser(bytes.NewReader(b))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	out.ContentLength = int64(len(b))
	return out
}

func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}
