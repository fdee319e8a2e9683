package app_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/domain"
	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// A confirmation link's token is a live secret: a mail scanner's prefetch
// must not put it in the logs, where anyone who reads them could answer
// the invitation. The access log names it by a short hash.
func TestConfirmationTokenIsNeverLogged(t *testing.T) {
	t.Parallel()
	logs := &testenv.LockedBuffer{}
	a := testenv.MustApp(t, temporal, testenv.AppOptions{Logs: logs, Env: map[string]string{"LOG_LEVEL": "info"}})
	c := testenv.Client{T: t, BaseURL: a.BaseURL}
	token := domain.NewSecret(32)

	r := c.Get("/confirm/" + token)
	require.Equal(t, http.StatusNotFound, r.Status, "an unknown link: %s", r.Body)

	require.Eventually(t, func() bool { return strings.Contains(logs.String(), domain.SecretRef(token)) }, 30*time.Second, 50*time.Millisecond,
		"the access log names the link by its hash")
	require.NotContains(t, logs.String(), token, "the token itself must never be logged")
}

// Made-up HTTP methods cannot add metric series: every one of them is
// counted as OTHER.
func TestUnknownMethodsShareOneMetricSeries(t *testing.T) {
	t.Parallel()
	a := testenv.MustApp(t, temporal, testenv.AppOptions{})
	for _, m := range []string{"FOOBARBAZ1", "FOOBARBAZ2", "PROPFIND", "X"} {
		req, err := http.NewRequest(m, a.BaseURL+"/healthz", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Less(t, resp.StatusCode, 500)
	}
	resp, err := http.Get(a.BaseURL + "/metrics")
	require.NoError(t, err)
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	exposition := body.String()
	for _, m := range []string{"FOOBARBAZ1", "FOOBARBAZ2", "PROPFIND", `method="X"`} {
		require.NotContains(t, exposition, m)
	}
	require.GreaterOrEqual(t, metricValue(t, exposition, "orgaccounts_http_requests_total", `method="OTHER"`), float64(4))
}

// Text that is not UTF-8 or holds control characters is a 400 in the
// house format wherever it comes from, and changes nothing: neither
// database would store a NUL byte, which used to surface as a 500.
func TestControlCharactersAndInvalidUTF8AreRefused(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{"PostgreSQL": testenv.MustPostgres(t), "SQLite": ""} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, url)
			for _, q := range []string{"Actor=%00", "Resource=%00", "Type=%00", "Actor=%FF%FE", "Actor=%C0%AF", "Type=a%1Fb"} {
				testenv.RequireError(t, e.Owner.Get(e.Path("/Events?"+q)), http.StatusBadRequest, domain.CodeBadRequest)
			}
			r := e.Owner.Get(e.Path(`/scim/Users?filter=userName%20eq%20%22%00%22`))
			require.Equal(t, http.StatusBadRequest, r.Status, "body: %s", r.Body)

			ac := e.CreateAccount(e.Owner, map[string]any{"friendly_name": "Hardening"})
			before := e.Owner.Get(e.Path("/Accounts/" + ac + "/Subscriptions"))
			require.Equal(t, http.StatusOK, before.Status)
			for _, body := range []string{
				`{"description": "a\u0000b", "monthly_price": "1.00", "currency": "USD"}`,
				`{"description": "bell\u0007", "monthly_price": "1.00", "currency": "USD"}`,
				"{\"description\": \"\xff\xfe\", \"monthly_price\": \"1.00\", \"currency\": \"USD\"}",
			} {
				testenv.RequireError(t, e.Owner.Post(e.Path("/Accounts/"+ac+"/Subscriptions"), body), http.StatusBadRequest, domain.CodeBadRequest)
			}
			r = e.Owner.Post(e.Path("/Accounts/"+ac+"/Subscriptions"), `{"description": "two\nlines\tok", "monthly_price": "1.00", "currency": "USD"}`)
			require.Equal(t, http.StatusCreated, r.Status, "line breaks and tabs are text: %s", r.Body)
			after := e.Owner.Get(e.Path("/Accounts/" + ac + "/Subscriptions"))
			require.Len(t, after.JSON(t)["content"], len(before.JSON(t)["content"].([]any))+1, "only the valid one was added")
		})
	}
}
