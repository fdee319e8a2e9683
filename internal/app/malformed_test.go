package app_test

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestMalformedInputWalk walks every operation of the OpenAPI document on
// the running service with mutated path parameters, query parameters,
// headers and bodies: every answer is below 500 and, when it refuses,
// comes in the route's error format (SCIM on SCIM routes, HTML on the
// confirmation pages and the console, Twilio's JSON elsewhere). The client checks each
// exchange against the document as well.
func TestMalformedInputWalk(t *testing.T) {
	t.Parallel()
	e := newPostgresEnv(t)
	acct := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Walked"})
	user := e.SCIMUser("walked@example.com")
	known := map[string]string{
		"OrganizationSid": e.Sid, "AccountSid": acct, "UserSid": user,
		"CredentialSid": "SK" + strings.Repeat("0", 32), "DomainSid": "DM" + strings.Repeat("0", 32),
		"InvitationSid": "IN" + strings.Repeat("0", 32), "RequestSid": "AR" + strings.Repeat("0", 32),
		"RoleAssignmentSid": "RL" + strings.Repeat("0", 32), "token": domain.NewSecret(32),
		"KeySid": "SK" + strings.Repeat("0", 32),
		// The console's pages.
		"account": acct, "user": user, "domain": "DM" + strings.Repeat("0", 32), "invitation": "IN" + strings.Repeat("0", 32),
		"request": "AR" + strings.Repeat("0", 32), "factor": "totp", "file": "console.css", "key": "SK" + strings.Repeat("0", 32),
	}
	// The console is walked as the signed-in owner (its pages take no
	// API credential), the rest with the owner's organization credential.
	email, password := e.OwnerPassword()
	session := sessionCookie(t, e.SignedIn(email, password), e.App.BaseURL)
	spec := loadWalkSpec(t)
	ops := spec.operations()
	require.NotEmpty(t, ops)
	requests := 0
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			for _, m := range op.mutations(spec, known) {
				c := e.Owner
				if strings.HasPrefix(op.path, "/console") {
					c = testenv.Client{T: t, BaseURL: e.App.BaseURL}.WithHeader("Cookie", session)
				}
				if m.anonymous {
					c = e.Anonymous()
				}
				c.T = t
				for k, v := range m.headers {
					c = c.WithHeader(k, v)
				}
				var body any
				if m.body != nil {
					body = *m.body
					c = c.WithHeader("Content-Type", op.contentType)
				}
				r := c.Do(op.method, m.target, body)
				requests++
				requireCleanRefusal(t, op, m, r)
			}
		})
	}
	t.Logf("%d operations, %d requests", len(ops), requests)
}

// requireCleanRefusal fails unless r is below 500 and, as a refusal, in
// the route's error format.
func requireCleanRefusal(t *testing.T, op walkOp, m mutation, r testenv.Response) {
	t.Helper()
	what := fmt.Sprintf("%s %s (%s)", op.method, m.target, m.what)
	require.Less(t, r.Status, 500, "%s: %s", what, r.Body)
	if r.Status < 400 {
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(op.path, "/confirm/"), op.path == "/console", strings.HasPrefix(op.path, "/console/"):
		require.Equal(t, "text/html", mt, "%s: a page answers with a page: %s", what, r.Body)
	case strings.Contains(op.path, "/scim/"):
		require.Equal(t, "application/scim+json", mt, "%s: %s", what, r.Body)
		var b struct {
			Schemas  []string `json:"schemas"`
			Status   string   `json:"status"`
			Detail   string   `json:"detail"`
			Code     int      `json:"code"`
			MoreInfo string   `json:"moreInfo"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b), "%s: %s", what, r.Body)
		require.Equal(t, []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, b.Schemas, what)
		require.Equal(t, strconv.Itoa(r.Status), b.Status, what)
		require.NotEmpty(t, b.Detail, what)
		require.NotZero(t, b.Code, what)
		require.NotEmpty(t, b.MoreInfo, what)
	default:
		require.Equal(t, "application/json", mt, "%s: %s", what, r.Body)
		var b struct {
			Code     int    `json:"code"`
			Message  string `json:"message"`
			MoreInfo string `json:"more_info"`
			Status   int    `json:"status"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b), "%s: %s", what, r.Body)
		require.Equal(t, r.Status, b.Status, what)
		require.NotZero(t, b.Code, what)
		require.NotEmpty(t, b.Message, what)
		require.NotEmpty(t, b.MoreInfo, what)
	}
}

// The parts of the OpenAPI document the walk reads.
type walkSpec struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Parameters    map[string]walkParam   `json:"parameters"`
		RequestBodies map[string]walkReqBody `json:"requestBodies"`
		Schemas       map[string]walkSchema  `json:"schemas"`
	} `json:"components"`
}

type walkParam struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type walkReqBody struct {
	Ref     string                                 `json:"$ref"`
	Content map[string]struct{ Schema walkSchema } `json:"content"`
}

type walkSchema struct {
	Ref        string                `json:"$ref"`
	Type       any                   `json:"type"`
	Properties map[string]walkSchema `json:"properties"`
	AllOf      []walkSchema          `json:"allOf"`
}

type walkOperation struct {
	Parameters  []walkParam  `json:"parameters"`
	RequestBody *walkReqBody `json:"requestBody"`
}

func loadWalkSpec(t *testing.T) *walkSpec {
	var s walkSpec
	require.NoError(t, json.Unmarshal(api.OpenAPISpec(), &s))
	return &s
}

func (s *walkSpec) param(p walkParam) walkParam {
	if p.Ref != "" {
		return s.Components.Parameters[p.Ref[strings.LastIndexByte(p.Ref, '/')+1:]]
	}
	return p
}

// properties lists a body schema's properties with their types.
func (s *walkSpec) properties(sc walkSchema, depth int) map[string]string {
	out := map[string]string{}
	if depth > 5 {
		return out
	}
	if sc.Ref != "" {
		return s.properties(s.Components.Schemas[sc.Ref[strings.LastIndexByte(sc.Ref, '/')+1:]], depth+1)
	}
	for _, a := range sc.AllOf {
		for k, v := range s.properties(a, depth+1) {
			out[k] = v
		}
	}
	for k, v := range sc.Properties {
		if v.Ref != "" {
			v = s.Components.Schemas[v.Ref[strings.LastIndexByte(v.Ref, '/')+1:]]
		}
		typ, _ := v.Type.(string)
		if list, ok := v.Type.([]any); ok && len(list) > 0 {
			typ, _ = list[0].(string)
		}
		out[k] = typ
	}
	return out
}

type walkOp struct {
	method, path string
	params       []walkParam
	contentType  string
	props        map[string]string
}

func (s *walkSpec) operations() []walkOp {
	var out []walkOp
	for path, item := range s.Paths {
		var shared []walkParam
		if raw, ok := item["parameters"]; ok {
			_ = json.Unmarshal(raw, &shared)
		}
		for method, raw := range item {
			method = strings.ToUpper(method)
			switch method {
			case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			default:
				continue
			}
			var o walkOperation
			if json.Unmarshal(raw, &o) != nil {
				continue
			}
			op := walkOp{method: method, path: path}
			for _, p := range append(append([]walkParam{}, shared...), o.Parameters...) {
				op.params = append(op.params, s.param(p))
			}
			if rb := o.RequestBody; rb != nil {
				if rb.Ref != "" {
					r := s.Components.RequestBodies[rb.Ref[strings.LastIndexByte(rb.Ref, '/')+1:]]
					rb = &r
				}
				for ct, c := range rb.Content {
					op.contentType, op.props = ct, s.properties(c.Schema, 0)
					break
				}
			}
			out = append(out, op)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// mutation is one request of the walk.
type mutation struct {
	what      string
	target    string
	body      *string
	headers   map[string]string
	anonymous bool
}

// Path parameter values no route takes: NUL, invalid UTF-8, overlong
// UTF-8, a bidirectional override, a wrong SID, traversal, length.
var badPathValues = []string{"%00", "%FF%FE", "%C0%AF", "%E2%80%AE", "AC" + strings.Repeat("g", 32), "..%2F..%2Fetc", strings.Repeat("A", 300), "%20", "null"}

// Query values that no parameter takes.
var badQueryValues = []string{"%00", "%FF%FE", "%C0%AF", "-1", "0", "99999999999999999999", "%27%20OR%201%3D1%20--", strings.Repeat("x", 300), "%22", "%5C%5Cu0000"}

func (op walkOp) mutations(s *walkSpec, known map[string]string) []mutation {
	path := func(over map[string]string) string {
		p := op.path
		for _, prm := range op.params {
			if prm.In != "path" {
				continue
			}
			v, ok := over[prm.Name]
			if !ok {
				v = url.PathEscape(known[prm.Name])
			}
			p = strings.ReplaceAll(p, "{"+prm.Name+"}", v)
		}
		return p
	}
	base := path(nil)
	var out []mutation
	add := func(m mutation) { out = append(out, m) }
	str := func(s string) *string { return &s }

	add(mutation{what: "as described, no body", target: base})
	add(mutation{what: "anonymous", target: base, anonymous: true})
	for _, prm := range op.params {
		switch prm.In {
		case "path":
			for _, v := range badPathValues {
				add(mutation{what: "path " + prm.Name + "=" + v, target: path(map[string]string{prm.Name: v})})
			}
		case "query":
			for _, v := range badQueryValues {
				add(mutation{what: "query " + prm.Name + "=" + v, target: base + "?" + url.QueryEscape(prm.Name) + "=" + v})
			}
		case "header":
			for _, v := range []string{strings.Repeat("k", 300), `W/"x"`, "\u00e9t\u00e9", `W/"99999999999999999999"`} {
				add(mutation{what: "header " + prm.Name, target: base, headers: map[string]string{prm.Name: v}})
			}
		}
	}
	add(mutation{what: "unknown query parameter", target: base + "?Foo=%00&Bar"})
	add(mutation{what: "malformed query", target: base + "?a=%zz&;;"})
	if op.contentType == "" {
		return out
	}
	bodies := []string{``, `{`, `[]`, `null`, `"text"`, `{"unknown_field":1}`, strings.Repeat("[", 5000), `{"x":1e999}`, `{}`,
		`{"a":"` + strings.Repeat("z", 70<<10) + `"}`, "\xff\xfe{}", `{"a":"\u0000"}`}
	if op.contentType == "application/x-www-form-urlencoded" {
		bodies = append(bodies, "grant_type=%00", "grant_type=client_credentials&client_id=%FF&client_secret=x", "client_id="+strings.Repeat("S", 5000))
	}
	for _, b := range bodies {
		add(mutation{what: "body " + clipWhat(b), target: base, body: str(b)})
	}
	for prop, typ := range op.props {
		wrong := []string{`12345`, `"\u0000"`, `"\ud800"`, `"` + strings.Repeat("w", 10<<10) + `"`, `{"nested":{}}`}
		switch typ {
		case "boolean":
			wrong = append(wrong, `"yes"`)
		case "array":
			wrong = append(wrong, `"x"`, `[null]`, `[[],{}]`)
		case "integer", "number":
			wrong = append(wrong, `"1"`, `1e308`, `-0.5`)
		case "string":
			wrong = append(wrong, `true`, `[]`, `""`, `"  "`)
		}
		for _, w := range wrong {
			add(mutation{what: "body " + prop + "=" + clipWhat(w), target: base, body: str(`{"` + prop + `":` + w + `}`)})
		}
	}
	return out
}

func clipWhat(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// sessionCookie is the Cookie header of a signed-in client.
func sessionCookie(t *testing.T, c *http.Client, baseURL string) string {
	t.Helper()
	u, err := url.Parse(baseURL)
	require.NoError(t, err)
	var parts []string
	for _, ck := range c.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	require.NotEmpty(t, parts, "signing in set no cookie")
	return strings.Join(parts, "; ")
}
