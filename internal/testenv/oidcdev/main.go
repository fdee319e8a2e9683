// Command oidcdev runs the loopback OpenID Connect provider the tests use,
// to try single sign-on locally: it signs in one configured person, after a
// page with a Continue link, and prints the settings to register with
// PUT /Organizations/{OrganizationSid}/SSO. It is for trying things out on
// one machine only: anyone who can reach it signs in as that person.
//
//	go run ./internal/testenv/oidcdev -email owner@example.com
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/orgaccounts/orgaccounts/internal/testenv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5556", "where to listen (keep it on loopback)")
	email := flag.String("email", "", "the email address of the person it signs in (required)")
	verified := flag.Bool("email-verified", true, "whether the provider says it verified the email")
	clientID := flag.String("client-id", "orgaccounts", "the client id to register")
	clientSecret := flag.String("client-secret", "dev-secret", "the client secret to register")
	flag.Parse()
	if *email == "" {
		fmt.Fprintln(os.Stderr, "oidcdev: -email is required")
		os.Exit(2)
	}
	op, err := testenv.NewOIDC(*addr, *clientID, *clientSecret, testenv.OIDCUser{Subject: "dev-" + *email, Email: *email, EmailVerified: *verified})
	if err != nil {
		fmt.Fprintln(os.Stderr, "oidcdev:", err)
		os.Exit(1)
	}
	fmt.Printf("OpenID Connect provider at %s signing in %s (email_verified=%t)\n", op.Issuer, *email, *verified)
	fmt.Printf("register it:\n  {\"issuer\": %q, \"client_id\": %q, \"client_secret\": %q}\n", op.Issuer, op.ClientID, op.ClientSecret)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = op.Close()
}
