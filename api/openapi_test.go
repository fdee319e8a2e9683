package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/openapibundle"
	"github.com/orgaccounts/orgaccounts/internal/telemetry"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// specDoc is the part of the OpenAPI document these tests walk.
type specDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Responses map[string]specResponse `json:"responses"`
	} `json:"components"`
}

type specOperation struct {
	OperationID string                  `json:"operationId"`
	Tags        []string                `json:"tags"`
	Responses   map[string]specResponse `json:"responses"`
}

type specResponse struct {
	Ref         string `json:"$ref"`
	Description string `json:"description"`
	ErrorCodes  *[]int `json:"x-error-codes"`
	Content     map[string]struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"content"`
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

func loadSpec(t *testing.T) specDoc {
	t.Helper()
	var doc specDoc
	if err := json.Unmarshal(api.OpenAPISpec(), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return doc
}

// operations calls fn for every operation of the document.
func (d specDoc) operations(t *testing.T, fn func(method, path string, op specOperation)) {
	t.Helper()
	for path, item := range d.Paths {
		for method, raw := range item {
			if !slices.Contains(httpMethods, method) {
				continue
			}
			var op specOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			for status, r := range op.Responses {
				if r.Ref != "" {
					op.Responses[status] = d.response(t, r.Ref)
				}
			}
			fn(strings.ToUpper(method), path, op)
		}
	}
}

// The embedded openapi.json is exactly what the YAML sources in openapi/
// bundle to.
func TestOpenAPIBundleIsUpToDate(t *testing.T) {
	want, err := openapibundle.Bundle(os.DirFS("openapi"), "openapi.yaml")
	if err != nil {
		t.Fatalf("bundling api/openapi: %v", err)
	}
	if got := api.OpenAPISpec(); !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		line := 0
		for line < len(gl) && line < len(wl) && bytes.Equal(gl[line], wl[line]) {
			line++
		}
		at := func(ls [][]byte) string {
			if line < len(ls) {
				return strings.TrimSpace(string(ls[line]))
			}
			return "(end)"
		}
		t.Fatalf("api/openapi.json is stale: regenerate it with `go generate ./api/...`\n"+
			"line %d is %q, the sources give %q", line+1, at(gl), at(wl))
	}
}

// response resolves a reference to components.responses.
func (d specDoc) response(t *testing.T, ref string) specResponse {
	t.Helper()
	name, ok := strings.CutPrefix(ref, "#/components/responses/")
	r, found := d.Components.Responses[name]
	if !ok || !found {
		t.Fatalf("response $ref %q does not name an entry of components.responses", ref)
	}
	return r
}

func TestOpenAPIDocumentIsValidOpenAPI31(t *testing.T) {
	spec := api.OpenAPISpec()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("parsing openapi.json: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi.json is OpenAPI %q, want 3.1.0", v)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("building the model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("building the validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json: %s", e.Error())
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s: %s", se.FieldPath, se.Reason)
			}
		}
	}
}

var paramPattern = regexp.MustCompile(`\{[^}/]+\}|:[^/]+`)

// routeKey normalizes "GET /Organizations/:org" and "GET
// /Organizations/{OrganizationSid}" to the same key.
func routeKey(method, path string) string {
	return strings.ToUpper(method) + " " + paramPattern.ReplaceAllString(path, "{}")
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	engine, ok := api.NewHandler(api.Config{Logger: quiet, Metrics: telemetry.NewMetrics()}).(interface{ Routes() gin.RoutesInfo })
	if !ok {
		t.Fatal("NewHandler's handler does not list its routes")
	}
	routes := map[string]string{}
	for _, r := range engine.Routes() {
		routes[routeKey(r.Method, r.Path)] = r.Method + " " + r.Path
	}
	described := map[string]string{}
	loadSpec(t).operations(t, func(method, path string, _ specOperation) {
		described[routeKey(method, path)] = method + " " + path
	})
	for k, r := range routes {
		if _, ok := described[k]; !ok {
			t.Errorf("route %s is not described in openapi.json", r)
		}
	}
	for k, d := range described {
		if _, ok := routes[k]; !ok {
			t.Errorf("openapi.json describes %s, which the router does not serve", d)
		}
	}
	if len(routes) == 0 {
		t.Fatal("no routes")
	}
}

// Every error response says which Twilio codes it carries, in its
// description and in x-error-codes, and its house-format schema allows
// exactly those codes and its own status.
func TestOpenAPIErrorResponsesListTheirCodes(t *testing.T) {
	doc := loadSpec(t)
	ids := map[string]string{}
	// Shared responses are checked where they are used; each must be used.
	unused := map[string]bool{}
	for name := range doc.Components.Responses {
		unused[name] = name != "UnknownRoute" && name != "MethodNotAllowed"
	}
	for _, item := range doc.Paths {
		for method, raw := range item {
			var op struct {
				Responses map[string]specResponse `json:"responses"`
			}
			if slices.Contains(httpMethods, method) && json.Unmarshal(raw, &op) == nil {
				for _, r := range op.Responses {
					delete(unused, strings.TrimPrefix(r.Ref, "#/components/responses/"))
				}
			}
		}
	}
	for name, u := range unused {
		if u {
			t.Errorf("components.responses.%s is used by no operation", name)
		}
	}
	doc.operations(t, func(method, path string, op specOperation) {
		where := method + " " + path
		if op.OperationID == "" || len(op.Tags) == 0 {
			t.Errorf("%s: operationId and a tag are required", where)
		}
		if prev, dup := ids[op.OperationID]; dup {
			t.Errorf("%s: operationId %q is also %s's", where, op.OperationID, prev)
		}
		ids[op.OperationID] = where
		if !slices.ContainsFunc(keys(op.Responses), func(s string) bool { return s[0] == '2' || s[0] == '3' }) {
			t.Errorf("%s: no success response", where)
		}
		for status, r := range op.Responses {
			code, err := strconv.Atoi(status)
			if status == "4XX" || status == "5XX" {
				// A range: pages only, which answer every refusal as a page.
				if _, page := r.Content["text/html"]; !page || len(r.Content) != 1 {
					t.Errorf("%s %s: a range of statuses is for pages (text/html) only", where, status)
				}
				code, err = int(status[0]-'0')*100, nil
			}
			if err != nil {
				t.Errorf("%s: response %q is not a status code", where, status)
				continue
			}
			if code < 400 {
				continue
			}
			if r.ErrorCodes == nil {
				t.Errorf("%s %s: no x-error-codes", where, status)
				continue
			}
			for _, c := range *r.ErrorCodes {
				if !strings.Contains(r.Description, strconv.Itoa(c)) {
					t.Errorf("%s %s: code %d is in x-error-codes but not in the description", where, status, c)
				}
			}
			_, houseFormat := r.Content["application/json"]
			_, scimFormat := r.Content["application/scim+json"]
			if len(*r.ErrorCodes) == 0 && (houseFormat || scimFormat) && !(path == "/readyz" && status == "503") {
				t.Errorf("%s %s: an error response in the error format without codes", where, status)
			}
			if mt, ok := r.Content["application/json"]; ok && len(*r.ErrorCodes) > 0 {
				var s struct {
					AllOf []struct {
						Ref        string `json:"$ref"`
						Properties struct {
							Status struct {
								Const int `json:"const"`
							} `json:"status"`
							Code struct {
								Enum []int `json:"enum"`
							} `json:"code"`
						} `json:"properties"`
					} `json:"allOf"`
				}
				if err := json.Unmarshal(mt.Schema, &s); err != nil || len(s.AllOf) != 2 || s.AllOf[0].Ref != "#/components/schemas/Error" {
					t.Errorf("%s %s: application/json is not allOf [Error, {status, code}]: %s", where, status, mt.Schema)
					continue
				}
				if got := s.AllOf[1].Properties.Status.Const; got != code {
					t.Errorf("%s %s: the schema's status is %d", where, status, got)
				}
				for _, c := range s.AllOf[1].Properties.Code.Enum {
					if !slices.Contains(*r.ErrorCodes, c) {
						t.Errorf("%s %s: code %d is allowed by the schema but not in x-error-codes", where, status, c)
					}
				}
			}
		}
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIAndDocsAreServed(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(api.Config{Logger: quiet}))
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	resp, body := get("/openapi.json") //nolint:bodyclose // get closes the body before it returns
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if body != string(api.OpenAPISpec()) {
		t.Error("GET /openapi.json does not serve the embedded document")
	}

	resp, body = get("/docs") //nolint:bodyclose // get closes the body before it returns
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(body, "fetch('/openapi.json'") {
		t.Error("the docs page does not load /openapi.json")
	}
	// Self-contained: nothing is loaded from elsewhere.
	for _, external := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//`),
		regexp.MustCompile(`(?i)@import|url\(\s*["']?(https?:)?//`),
		regexp.MustCompile(`(?i)<script[^>]+src=`),
		regexp.MustCompile(`(?i)<link[^>]+stylesheet`),
	} {
		if m := external.FindString(body); m != "" {
			t.Errorf("the docs page loads an external asset: %s", m)
		}
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if !strings.Contains(body, `name="viewport"`) {
		t.Error("the docs page has no viewport: unreadable on a phone")
	}
}

// /openapi.json names PUBLIC_BASE_URL as its server and is otherwise the
// embedded document, byte for byte.
func TestOpenAPIServerIsThePublicBaseURL(t *testing.T) {
	srv := httptest.NewServer(api.NewHandler(api.Config{Logger: quiet, BaseURL: "https://orgs.example.com/base/"}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	served, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []struct {
			URL         string `json:"url"`
			Description string `json:"description"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(served, &doc); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "https://orgs.example.com/base" || doc.Servers[0].Description == "" {
		t.Errorf("servers = %+v, want the one public base URL", doc.Servers)
	}
	servers := regexp.MustCompile(`(?s)\n  "servers": \[\n.*?\n  \],`)
	if got, want := servers.ReplaceAll(served, nil), servers.ReplaceAll(api.OpenAPISpec(), nil); !bytes.Equal(got, want) || bytes.Equal(want, api.OpenAPISpec()) {
		t.Error("GET /openapi.json changes more than servers")
	}
}

// recordingTB keeps what the validating transport reports.
type recordingTB struct {
	testing.TB
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// The validating transport the end-to-end suite uses accepts what the
// description says and reports what it does not.
func TestOpenAPITransportCatchesDrift(t *testing.T) {
	handler := api.NewHandler(api.Config{Logger: quiet})
	var drift http.HandlerFunc = func(w http.ResponseWriter, r *http.Request) {
		switch r.Method + " " + r.URL.Path {
		case "GET /healthz": // an undocumented field
			w.Header().Set("X-Request-Id", "abc")
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok","uptime":3}`)
		case "GET /readyz": // an undocumented status
			w.Header().Set("X-Request-Id", "abc")
			w.WriteHeader(http.StatusTeapot)
		case "GET /Organizations/OR" + strings.Repeat("b", 32): // a code a shared response does not list
			w.Header().Set("X-Request-Id", "abc")
			w.Header().Set("WWW-Authenticate", `Basic realm="orgaccounts", Bearer`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"code":20404,"message":"x","more_info":"https://www.twilio.com/docs/errors/20404","status":401}`)
		case "POST /v1/token": // accepts an invalid request
			w.Header().Set("X-Request-Id", "abc")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"`+strings.Repeat("a", 48)+`","token_type":"Bearer","expires_in":3600}`)
		default:
			handler.ServeHTTP(w, r)
		}
	}
	srv := httptest.NewServer(drift)
	defer srv.Close()

	exchange := func(method, path, ctype, body string) []string {
		t.Helper()
		rec := &recordingTB{TB: t}
		hc := &http.Client{Transport: testenv.OpenAPITransport(rec, api.OpenAPISpec(), nil)}
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return rec.errs
	}
	for _, ok := range []struct{ method, path string }{
		{"GET", "/openapi.json"}, {"GET", "/docs"},
		{"GET", "/Nope"},                 // 404, 20404
		{"PUT", "/healthz"},              // 405, 20004
		{"GET", "/Organizations/ORnope"}, // an invalid request, refused with 401
		{"GET", "/Organizations/" + "OR" + strings.Repeat("a", 32) + "/Accounts?PageSize=%%%"}, // 401 too
	} {
		if errs := exchange(ok.method, ok.path, "", ""); len(errs) > 0 {
			t.Errorf("%s %s: unexpected reports: %v", ok.method, ok.path, errs)
		}
	}
	for _, bad := range []struct{ method, path, ctype, body, want string }{
		{"GET", "/healthz", "", "", "uptime"},
		{"GET", "/readyz", "", "", "418"},
		{"GET", "/Organizations/OR" + strings.Repeat("b", 32), "", "", "20003"}, // components.responses.Unauthorized
		{"POST", "/v1/token", "application/x-www-form-urlencoded", "grant_type=password", "was accepted"},
	} {
		errs := exchange(bad.method, bad.path, bad.ctype, bad.body)
		if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), bad.want) {
			t.Errorf("%s %s: the transport reported %v, want a report mentioning %q", bad.method, bad.path, errs, bad.want)
		}
	}
}
