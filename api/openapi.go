package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the description and its rendering are embedded
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// openAPIDocument is the OpenAPI 3.1 description of every route NewHandler
// registers. Its source is the YAML under openapi/ (openapi.yaml, paths/ by
// tag, components/); openapi.json is generated from it and committed, so a
// build needs no generation step. After changing the YAML, run
//
//	go generate ./api/...
//
// openapi_test.go fails while openapi.json is stale, and checks the routes;
// the end-to-end suite checks every request and response against it.
//
//go:generate go run ../internal/cmd/openapigen bundle -o openapi.json openapi/openapi.yaml
//go:embed openapi.json
var openAPIDocument []byte

// docsPage renders openapi.json in the browser. It is self-contained: one
// inline style, one inline script, no external asset.
//
//go:embed docs.html
var docsPage []byte

// docsPolicy allows the page exactly its own inline style and script (by
// hash) and a fetch of /openapi.json.
var docsPolicy = contentSecurityPolicy(docsPage)

// OpenAPISpec returns a copy of the embedded OpenAPI document. /openapi.json
// serves it with its servers set to the public base URL, if there is one.
func OpenAPISpec() []byte { return bytes.Clone(openAPIDocument) }

// registerDocs serves the API description and its rendered reference. The
// description's one server is baseURL (PUBLIC_BASE_URL), so that what is
// generated from /openapi.json, and the reference, name this deployment;
// with no base URL the document is served as embedded.
func registerDocs(r *gin.Engine, baseURL string) {
	doc := openAPIDocument
	if baseURL != "" {
		var err error
		if doc, err = withServer(openAPIDocument, baseURL, "This deployment: PUBLIC_BASE_URL"); err != nil {
			panic("api: the embedded openapi.json: " + err.Error())
		}
	}
	r.GET("/openapi.json", func(c *gin.Context) {
		c.Header("Access-Control-Allow-Origin", "*")
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "application/json; charset=utf-8", doc)
	})
	r.GET("/docs", func(c *gin.Context) {
		c.Header("Content-Security-Policy", docsPolicy)
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Referrer-Policy", "no-referrer")
		c.Header("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", docsPage)
	})
}

// withServer returns the document doc, a JSON object indented by two spaces,
// with servers replaced by the one server url; the rest is left byte for
// byte, in its order.
func withServer(doc []byte, url, description string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	servers, err := json.MarshalIndent([]map[string]string{{"url": url, "description": description}}, "  ", "  ")
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString("{")
	replaced := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		if key == "servers" {
			value, replaced = servers, true
		}
		if out.Len() > 1 {
			out.WriteString(",")
		}
		k, _ := json.Marshal(key)
		out.WriteString("\n  ")
		out.Write(k)
		out.WriteString(": ")
		out.Write(value)
	}
	if !replaced {
		return nil, fmt.Errorf("no servers")
	}
	out.WriteString("\n}\n")
	return out.Bytes(), nil
}

// contentSecurityPolicy builds a policy that admits the inline <style> and
// <script> elements of page by their SHA-256 and nothing else from anywhere
// but this origin's fetches.
func contentSecurityPolicy(page []byte) string {
	hashes := func(tag string) string {
		var out []string
		rest := string(page)
		for {
			open := strings.Index(rest, "<"+tag+">")
			if open < 0 {
				break
			}
			rest = rest[open+len(tag)+2:]
			end := strings.Index(rest, "</"+tag+">")
			if end < 0 {
				break
			}
			sum := sha256.Sum256([]byte(rest[:end]))
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
			rest = rest[end:]
		}
		if len(out) == 0 {
			return "'none'"
		}
		return strings.Join(out, " ")
	}
	return "default-src 'none'; connect-src 'self'; img-src 'self' data:; style-src " + hashes("style") +
		"; script-src " + hashes("script") + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}
