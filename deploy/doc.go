// Package deploy has no code of its own. Its tests check the deployment
// files at the repository root — docker-compose.yml, Dockerfile and
// .dockerignore — against what the application actually reads and runs
// (internal/config's variables, cmd/orgaccounts' subcommands, the search
// attributes the workflows set), so that a broken stack fails `go test ./...`
// even on machines that cannot run Docker. deploy/postgres holds the
// PostgreSQL init script that docker-compose.yml mounts.
package deploy
