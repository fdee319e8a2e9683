package testenv

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"html/template"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// OIDC is a real OpenID Connect provider on a loopback port: discovery,
// JWKS, an authorization endpoint that shows a page to continue as the
// configured user, and a token endpoint that checks the client secret and
// the PKCE verifier (S256) and returns an RS256-signed ID token. Nothing is
// stubbed: a client talks to it over HTTP as to any provider.
type OIDC struct {
	Issuer       string // http://127.0.0.1:port
	ClientID     string
	ClientSecret string

	srv *http.Server
	key *rsa.PrivateKey
	kid string

	mu     sync.Mutex
	user   OIDCUser
	tamper func(claims map[string]any)
	codes  map[string]oidcGrant
	auths  []OIDCAuthorization
	tokens int
}

// OIDCUser is who the provider signs in.
type OIDCUser struct {
	Subject       string
	Email         string
	EmailVerified bool
}

// OIDCAuthorization is an authorization request the provider received.
type OIDCAuthorization struct {
	ClientID            string
	RedirectURI         string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
}

type oidcGrant struct {
	auth    OIDCAuthorization
	user    OIDCUser
	expires time.Time
}

// NewOIDC starts a provider listening on addr (host:port; port 0 picks a
// free one) for one client. Close stops it.
func NewOIDC(addr, clientID, clientSecret string, user OIDCUser) (*OIDC, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("testenv: OIDC listener: %w", err)
	}
	o := &OIDC{
		Issuer: "http://" + ln.Addr().String(), ClientID: clientID, ClientSecret: clientSecret,
		key: key, kid: oidcRandom(8), user: user, codes: map[string]oidcGrant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", o.discovery)
	mux.HandleFunc("GET /keys", o.keys)
	mux.HandleFunc("GET /authorize", o.authorize)
	mux.HandleFunc("POST /token", o.token)
	o.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = o.srv.Serve(ln) }()
	return o, nil
}

// MustOIDC starts a provider on a free loopback port for the test, with a
// fresh client id and secret, signing in user; it stops when the test
// ends.
func MustOIDC(tb testing.TB, user OIDCUser) *OIDC {
	tb.Helper()
	o, err := NewOIDC("127.0.0.1:0", "client-"+oidcRandom(6), oidcRandom(24), user)
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	tb.Cleanup(func() { _ = o.Close() })
	return o
}

// Close stops the provider.
func (o *OIDC) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return o.srv.Shutdown(ctx)
}

// SetUser changes who the provider signs in from now on.
func (o *OIDC) SetUser(u OIDCUser) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.user = u
}

// Tamper changes the claims of every ID token issued from now on (nil: no
// change), to make tokens a client must refuse.
func (o *OIDC) Tamper(fn func(claims map[string]any)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tamper = fn
}

// Authorizations lists the authorization requests received, oldest first.
func (o *OIDC) Authorizations() []OIDCAuthorization {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.auths)
}

// TokensIssued counts the codes exchanged for tokens.
func (o *OIDC) TokensIssued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.tokens
}

func oidcJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (o *OIDC) discovery(w http.ResponseWriter, _ *http.Request) {
	oidcJSON(w, http.StatusOK, map[string]any{
		"issuer":                                o.Issuer,
		"authorization_endpoint":                o.Issuer + "/authorize",
		"token_endpoint":                        o.Issuer + "/token",
		"jwks_uri":                              o.Issuer + "/keys",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"grant_types_supported":                 []string{"authorization_code"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified"},
	})
}

func (o *OIDC) keys(w http.ResponseWriter, _ *http.Request) {
	pub := o.key.PublicKey
	oidcJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": o.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>
<p>Sign in to <b>{{.Client}}</b> as <b id="who">{{.Email}}</b> (email {{if .Verified}}verified{{else}}not verified{{end}}).</p>
<p><a id="continue" href="{{.Continue}}">Continue</a> · <a id="cancel" href="{{.Cancel}}">Cancel</a></p>
</body></html>`))

// authorize checks an authorization request and shows a page with a link
// back to the client carrying a fresh code (Continue) or access_denied
// (Cancel).
func (o *OIDC) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := OIDCAuthorization{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), Scope: q.Get("scope"), State: q.Get("state"),
		Nonce: q.Get("nonce"), CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: q.Get("code_challenge_method"),
	}
	o.mu.Lock()
	o.auths = append(o.auths, a)
	user := o.user
	o.mu.Unlock()
	redirect, err := url.Parse(a.RedirectURI)
	switch {
	case a.ClientID != o.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || !redirect.IsAbs() || redirect.Fragment != "":
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) string {
		u := *redirect
		v := u.Query()
		for k, vs := range params {
			v[k] = vs
		}
		if a.State != "" {
			v.Set("state", a.State)
		}
		u.RawQuery = v.Encode()
		return u.String()
	}
	var refusal string
	switch {
	case q.Get("response_type") != "code":
		refusal = "unsupported_response_type"
	case !slices.Contains(strings.Fields(a.Scope), "openid"):
		refusal = "invalid_scope"
	case a.CodeChallengeMethod != "S256" || a.CodeChallenge == "":
		refusal = "invalid_request" // PKCE with S256 is required
	}
	if refusal != "" {
		http.Redirect(w, r, back(url.Values{"error": {refusal}}), http.StatusFound)
		return
	}
	code := oidcRandom(24)
	o.mu.Lock()
	o.codes[code] = oidcGrant{auth: a, user: user, expires: time.Now().Add(time.Minute)}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = consentPage.Execute(w, map[string]any{
		"Client": a.ClientID, "Email": user.Email, "Verified": user.EmailVerified,
		"Continue": back(url.Values{"code": {code}}), "Cancel": back(url.Values{"error": {"access_denied"}}),
	})
}

// token exchanges a code for an ID token: the client authenticates
// (client_secret_basic or client_secret_post), the code is single use, for
// this client and redirect_uri, and the verifier must hash to the code's
// challenge.
func (o *OIDC) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oidcJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != o.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(o.ClientSecret)) != 1 {
		oidcJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		oidcJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	code := r.PostForm.Get("code")
	o.mu.Lock()
	g, ok := o.codes[code]
	delete(o.codes, code)
	tamper := o.tamper
	o.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case !ok || time.Now().After(g.expires) || g.auth.ClientID != id || g.auth.RedirectURI != r.PostForm.Get("redirect_uri"):
		oidcJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.auth.CodeChallenge:
		oidcJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "code_verifier does not match the code_challenge"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": o.Issuer, "sub": g.user.Subject, "aud": o.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"auth_time": now.Unix(), "email": g.user.Email, "email_verified": g.user.EmailVerified,
	}
	if g.user.Subject == "" {
		claims["sub"] = "sub-" + g.user.Email
	}
	if g.auth.Nonce != "" {
		claims["nonce"] = g.auth.Nonce
	}
	if tamper != nil {
		tamper(claims)
	}
	idToken, err := o.sign(claims)
	if err != nil {
		oidcJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
		return
	}
	o.mu.Lock()
	o.tokens++
	o.mu.Unlock()
	oidcJSON(w, http.StatusOK, map[string]any{
		"access_token": oidcRandom(24), "token_type": "Bearer", "expires_in": 300, "id_token": idToken,
	})
}

// sign makes a compact JWS (RS256) of claims.
func (o *OIDC) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": o.kid})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, o.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

var continueLink = regexp.MustCompile(`id="continue" href="([^"]+)"`)

// Approve plays the browser at the provider: it opens authURL (an
// authorization request) and returns where the provider's Continue link
// sends the browser back, the client's redirect URI with the code and
// state. A refused request returns the redirect the provider answered
// with (carrying error=…).
func (o *OIDC) Approve(ctx context.Context, authURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusFound {
		return resp.Header.Get("Location"), nil
	}
	m := continueLink.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", errors.New("testenv: the provider answered " + resp.Status + ": " + strings.TrimSpace(string(body)))
	}
	return html.UnescapeString(string(m[1])), nil
}

func oidcRandom(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
