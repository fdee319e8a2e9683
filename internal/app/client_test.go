package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/api"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// apiClient speaks HTTP to a running orgaccounts, as any client would.
type apiClient struct {
	t       *testing.T
	base    string
	user    string // Basic client id, or empty
	pass    string
	bearer  string
	headers map[string]string
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// Code is the Twilio error code of an error response.
func (r response) Code(t *testing.T) int {
	t.Helper()
	m := r.JSON(t)
	code, ok := m["code"].(float64)
	require.True(t, ok, "no code in %s", r.Body)
	return int(code)
}

func (c apiClient) withHeader(k, v string) apiClient {
	h := map[string]string{}
	for k2, v2 := range c.headers {
		h[k2] = v2
	}
	h[k] = v
	c.headers = h
	return c
}

func (c apiClient) do(method, path string, body any) response {
	c.t.Helper()
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
		require.NoError(c.t, err)
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	target := path
	if !strings.HasPrefix(path, "http") {
		target = c.base + path
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(c.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: testenv.OpenAPITransport(c.t, api.OpenAPISpec(), nil)}
	resp, err := hc.Do(req)
	require.NoError(c.t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (c apiClient) get(path string) response { c.t.Helper(); return c.do(http.MethodGet, path, nil) }
func (c apiClient) post(path string, body any) response {
	c.t.Helper()
	return c.do(http.MethodPost, path, body)
}

// requireError checks an error response in the house format.
func requireError(t *testing.T, r response, status, code int) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	m := r.JSON(t)
	require.Equal(t, float64(code), m["code"], "body: %s", r.Body)
	require.Equal(t, float64(status), m["status"], "body: %s", r.Body)
	require.NotEmpty(t, m["message"])
	require.Contains(t, m["more_info"], "http")
}
