package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/edge"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// The API keys page: the credentials the signed-in person may manage
// (every one of the organization for its Owners and Administrators, only
// their own personal keys for anyone else), a key made for the person,
// and revocation after a confirmation.

// keysPage is the API keys page.
type keysPage struct {
	Keys       []keyRow
	Next, Prev string
	// Confirm is the key whose revocation awaits confirmation.
	Confirm *keyRow
	// Page is the page token the list was read at (kept by the links to
	// confirm a revocation, so the key stays in view).
	Page string
}

// keyRow is one credential as the page lists it.
type keyRow struct {
	domain.Credential
	// Kind says what the credential is, in words.
	Kind string
	// Mine: it acts as the signed-in person.
	Mine bool
}

// Label is how the page names the key.
func (k keyRow) Label() string {
	if k.FriendlyName != "" {
		return k.FriendlyName
	}
	return k.Sid
}

func keyRows(p domain.Principal, creds []domain.Credential) []keyRow {
	out := make([]keyRow, len(creds))
	for i, c := range creds {
		kind := "Organization credential"
		switch c.Via() {
		case domain.ViaPersonalKey:
			kind = "Personal API key"
		case domain.ViaAccountCredential:
			kind = "Account credential"
		}
		out[i] = keyRow{Credential: c, Kind: kind, Mine: c.UserSid == p.UserSid}
	}
	return out
}

var keyNotices = map[string]string{
	"revoked": "Key revoked: it no longer signs in, and the tokens it obtained stopped working.",
}

const keysPath = Prefix + "/organization/keys"

// keysSection is the section the keys pages belong to: the Organization
// for its admins, the person's own keys for anyone else.
func keysSection(c *gin.Context) string {
	if edge.Principal(c).IsOrgAdmin() {
		return "organization"
	}
	return "keys"
}

// keys lists the credentials; ?revoke=SID asks to confirm that one's
// revocation.
func (h *Handlers) keys(c *gin.Context) {
	v := view{Title: "API keys", Section: keysSection(c), Notice: keyNotices[c.Query("done")]}
	d, err := h.keysList(c)
	if err != nil {
		h.problem(c, err, Prefix+"/accounts")
		return
	}
	if sid := c.Query("revoke"); sid != "" {
		if err := domain.CheckSID("revoke", domain.PrefixCredential, sid); err != nil {
			h.problem(c, err, keysPath)
			return
		}
		d.Confirm = &keyRow{Credential: domain.Credential{Sid: sid}, Kind: "Credential"}
		for i := range d.Keys {
			if d.Keys[i].Sid == sid {
				d.Confirm = &d.Keys[i]
			}
		}
	}
	v.D = d
	h.render(c, http.StatusOK, "org-keys", v)
}

// keysList reads the page of credentials the request asks for.
func (h *Handlers) keysList(c *gin.Context) (keysPage, error) {
	req, err := pageRequest(c, domain.PrefixCredential)
	if err != nil {
		return keysPage{}, err
	}
	p := edge.Principal(c)
	out, err := h.services.Keys.List(c.Request.Context(), p, req)
	if err != nil {
		return keysPage{}, err
	}
	d := keysPage{Keys: keyRows(p, out.Items), Page: c.Query("page")}
	d.Next, d.Prev = pageLinks(c, out, func(k domain.Credential) string { return k.Sid })
	return d, nil
}

// createKey issues a key acting as the signed-in person and shows its
// secret, the one time it exists outside its hash.
func (h *Handlers) createKey(c *gin.Context) {
	out, err := h.services.Keys.Create(c.Request.Context(), edge.Principal(c), strings.TrimSpace(c.PostForm("friendly_name")))
	if err != nil {
		d, lerr := h.keysList(c)
		if lerr != nil {
			h.problem(c, err, keysPath)
			return
		}
		h.failed(c, err, "org-keys", "friendly_name", view{Title: "API keys", Section: keysSection(c), D: d})
		return
	}
	h.render(c, http.StatusCreated, "org-key-created", view{Title: "API key created", Section: keysSection(c),
		D: out})
}

// revokeKey revokes a credential the person may manage: it stops working
// at once.
func (h *Handlers) revokeKey(c *gin.Context) {
	if err := h.services.Keys.Revoke(c.Request.Context(), edge.Principal(c), c.Param("key")); err != nil {
		h.problem(c, err, keysPath)
		return
	}
	see(c, keysPath+"?done=revoked")
}
