package testenv_test

import (
	"net/smtp"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

// TestMailpitReceivesMail sends a real multipart email over SMTP and reads it
// back through Mailpit's API, as the confirmation-link tests will.
func TestMailpitReceivesMail(t *testing.T) {
	mp := testenv.MustMailpit(t)
	if !strings.HasPrefix(mp.SMTPURL(), "smtp://127.0.0.1:") {
		t.Fatalf("SMTPURL = %q, want smtp://127.0.0.1:PORT", mp.SMTPURL())
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Fatalf("a new Mailpit holds %d messages, want none", len(got))
	}

	const (
		from = "noreply@orgaccounts.test"
		to   = "Ada.Lovelace@example.test"
		link = "http://127.0.0.1:8080/confirm/tok_9f8e7d?next=%2Fhome&x=1"
	)
	boundary := "b-" + testenv.RandomName("mime")
	body := strings.Join([]string{
		"From: Org Accounts <" + from + ">",
		"To: Ada <" + to + ">",
		"Subject: Confirm your email address",
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <" + testenv.RandomName("msg") + "@orgaccounts.test>",
		"MIME-Version: 1.0",
		`Content-Type: multipart/alternative; boundary="` + boundary + `"`,
		"",
		"--" + boundary,
		"Content-Type: text/plain; charset=utf-8",
		"",
		"Hello Ada,",
		"",
		"Confirm your address by opening " + link + ".",
		"(Or paste it: <" + link + ">)",
		"Help: https://orgaccounts.test/help",
		"",
		"--" + boundary,
		"Content-Type: text/html; charset=utf-8",
		"",
		`<p>Hello Ada,</p><p><a href="` + link + `">Confirm</a></p>`,
		"",
		"--" + boundary + "--",
		"",
	}, "\r\n")
	if err := smtp.SendMail(mp.SMTPAddr, nil, from, []string{to}, []byte(body)); err != nil {
		t.Fatalf("sending over SMTP to %s: %v", mp.SMTPAddr, err)
	}
	// Mail with AUTH too, as a mailer configured with a user and password
	// sends it (PLAIN over plain TCP is allowed for loopback by net/smtp).
	auth := smtp.PlainAuth("", "user", "secret", "127.0.0.1")
	if err := smtp.SendMail(mp.SMTPAddr, auth, from, []string{"other@example.test"}, []byte("To: other@example.test\r\nSubject: Other\r\n\r\nNo links here.\r\n")); err != nil {
		t.Fatalf("sending with AUTH PLAIN: %v", err)
	}

	// The address matches case-insensitively.
	msg := mp.WaitForMessage(t, strings.ToLower(to), "Confirm your", 10*time.Second)
	if msg.Subject != "Confirm your email address" || !reflect.DeepEqual(msg.To, []string{to}) || msg.From != from {
		t.Fatalf("got subject %q to %v from %q", msg.Subject, msg.To, msg.From)
	}
	if !strings.Contains(msg.HTML, `href="`+link+`"`) {
		t.Errorf("HTML body lacks the link: %q", msg.HTML)
	}
	if got := msg.Links("http://127.0.0.1:8080/confirm/"); !reflect.DeepEqual(got, []string{link}) {
		t.Errorf("Links(confirm) = %q, want [%q]", got, link)
	}
	if got := msg.Links(""); len(got) != 2 || got[1] != "https://orgaccounts.test/help" {
		t.Errorf("Links(\"\") = %q, want the confirm link and the help link", got)
	}

	other := mp.WaitForMessage(t, "", "Other", 10*time.Second)
	if len(other.Links("")) != 0 {
		t.Errorf("Links of a message without links = %q", other.Links(""))
	}

	list := mp.Messages(t)
	if len(list) != 2 {
		t.Fatalf("Messages: %d, want 2: %+v", len(list), list)
	}
	for _, s := range list {
		if s.ID == "" || s.Created.IsZero() || len(s.To) != 1 {
			t.Errorf("incomplete summary %+v", s)
		}
		if time.Since(s.Created) > time.Minute || time.Until(s.Created) > time.Minute {
			t.Errorf("Created %v is not now", s.Created)
		}
	}
	if got := mp.Message(t, list[0].ID); got.ID != list[0].ID {
		t.Errorf("Message(%s).ID = %s", list[0].ID, got.ID)
	}
}

func TestMailpitInstancesAreSeparate(t *testing.T) {
	a, b := testenv.MustMailpit(t), testenv.MustMailpit(t)
	if a.SMTPAddr == b.SMTPAddr || a.APIURL == b.APIURL {
		t.Fatalf("two Mailpits share an address: %s %s / %s %s", a.SMTPAddr, a.APIURL, b.SMTPAddr, b.APIURL)
	}
	// No To header: WaitForMessage still finds the envelope recipient, which
	// Mailpit records as Bcc.
	if err := smtp.SendMail(a.SMTPAddr, nil, "x@example.test", []string{"y@example.test"}, []byte("Subject: only a\r\n\r\nhi\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := a.WaitForMessage(t, "Y@example.test", "only a", 10*time.Second); len(got.To) != 0 || !reflect.DeepEqual(got.Bcc, []string{"y@example.test"}) {
		t.Fatalf("To %q, Bcc %q; want no To and the envelope recipient in Bcc", got.To, got.Bcc)
	}
	if n := len(b.Messages(t)); n != 0 {
		t.Fatalf("the other Mailpit holds %d messages", n)
	}
}

func TestLinks(t *testing.T) {
	for _, c := range []struct {
		text, prefix string
		want         []string
	}{
		{"Open http://a.test/x.", "", []string{"http://a.test/x"}},
		{"(see http://a.test/x?y=1&z=2), then", "", []string{"http://a.test/x?y=1&z=2"}},
		{"wiki http://a.test/Foo_(bar) ok", "", []string{"http://a.test/Foo_(bar)"}},
		{"<https://a.test/c/1>\nhttps://a.test/c/1\nhttp://b.test/", "https://a.test/c/", []string{"https://a.test/c/1"}},
		{"\"http://a.test/q\"", "http://", []string{"http://a.test/q"}},
		{"no links", "", nil},
	} {
		got := testenv.Message{Text: c.text}.Links(c.prefix)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Links(%q) of %q = %q, want %q", c.prefix, c.text, got, c.want)
		}
	}
}
