package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/api"
)

// Client speaks HTTP to a running orgaccounts, as any client would. Every
// exchange is checked against the OpenAPI description (OpenAPITransport).
// The zero credentials make an anonymous client.
type Client struct {
	T       testing.TB
	BaseURL string
	// User and Password are sent with HTTP Basic when User is set: a
	// credential's SID and secret, or an Account SID and auth token.
	User, Password string
	// Token is sent as a bearer token when set.
	Token   string
	headers map[string]string
	// noRedirects shows redirects instead of following them.
	noRedirects bool
}

// Response is an answer, read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	require.NoError(tb, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// Code is the Twilio error code of an error response.
func (r Response) Code(tb testing.TB) int {
	tb.Helper()
	m := r.JSON(tb)
	code, ok := m["code"].(float64)
	require.True(tb, ok, "no code in %s", r.Body)
	return int(code)
}

// RequireError checks an error response in the house format.
func RequireError(tb testing.TB, r Response, status, code int) {
	tb.Helper()
	require.Equal(tb, status, r.Status, "body: %s", r.Body)
	m := r.JSON(tb)
	require.Equal(tb, float64(code), m["code"], "body: %s", r.Body)
	require.Equal(tb, float64(status), m["status"], "body: %s", r.Body)
	require.NotEmpty(tb, m["message"])
	require.Contains(tb, m["more_info"], "http")
}

// WithHeader returns a copy of c that also sends the header k: v.
func (c Client) WithHeader(k, v string) Client {
	h := maps.Clone(c.headers)
	if h == nil {
		h = map[string]string{}
	}
	h[k] = v
	c.headers = h
	return c
}

// WithoutRedirects returns a copy of c that answers a redirect with the
// redirect itself instead of following it.
func (c Client) WithoutRedirects() Client {
	c.noRedirects = true
	return c
}

// Do sends a request to path (relative to BaseURL, or an absolute URL).
// A string body is sent as JSON text, url.Values as a form, anything else
// marshalled to JSON; nil sends no body.
func (c Client) Do(method, path string, body any) Response {
	c.T.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		require.NoError(c.T, err)
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = c.BaseURL + path
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(c.T, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: OpenAPITransport(c.T, api.OpenAPISpec(), nil)}
	if c.noRedirects {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := hc.Do(req)
	require.NoError(c.T, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.T, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Get sends a GET.
func (c Client) Get(path string) Response {
	c.T.Helper()
	return c.Do(http.MethodGet, path, nil)
}

// Post sends a POST with body (see Do).
func (c Client) Post(path string, body any) Response {
	c.T.Helper()
	return c.Do(http.MethodPost, path, body)
}
