// Command orgaccounts runs the service. Subcommands:
//
//	serve      API and worker in one process (the default)
//	api        HTTP API only
//	worker     Temporal worker only
//	migrate    apply database migrations and exit
//	bootstrap  create the first organization, or issue its owner a new credential
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/orgaccounts/orgaccounts/internal/app"
	"github.com/orgaccounts/orgaccounts/internal/config"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

const usage = `usage: orgaccounts [serve|api|worker|migrate|bootstrap]

Configuration comes from environment variables (see README).
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := app.ModeServe
	if len(args) > 0 {
		cmd = args[0]
	}
	if len(args) > 1 || (cmd != app.ModeServe && cmd != app.ModeAPI && cmd != app.ModeWorker && cmd != "migrate" && cmd != "bootstrap") {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := app.NewLogger(cfg, os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "migrate", "bootstrap":
		st, err := app.OpenStore(ctx, cfg, domain.SystemClock{}, log)
		if err != nil {
			log.Error("opening the database", "error", err)
			return 1
		}
		defer func() {
			if err := st.Close(); err != nil {
				log.Warn("closing the database", "error", err)
			}
		}()
		if cmd == "bootstrap" {
			b, _, err := app.Bootstrap(ctx, st, domain.SystemClock{}, cfg.BootstrapOrgName, cfg.BootstrapOwnerEmail, true)
			if err == nil {
				b, err = b.WithPasswordLink(ctx, st, domain.SystemClock{}, cfg.PublicBaseURL)
			}
			if err != nil {
				log.Error("bootstrap", "error", err)
				return 1
			}
			b.Print(os.Stdout, cfg.PublicBaseURL)
		}
		return 0
	}
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		log.Error("starting", "error", err)
		return 1
	}
	defer a.Close()
	if err := a.Run(ctx, cmd); err != nil {
		log.Error("stopped with an error", "error", err)
		return 1
	}
	return 0
}
