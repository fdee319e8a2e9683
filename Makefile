# orgaccounts: `make run` starts the whole service, `make test` tests it.
.PHONY: run test test-short build generate vet lint bench bench-lifecycle migrate temporal-cli assets clean fuzz screenshots

run: ## the whole service on :8080, Temporal Web UI on :8233, data in ./data
	@scripts/run.sh

test: ## gofmt, vet, lint, and every test with -race on PostgreSQL and Temporal
	@scripts/test.sh

test-short: vet ## the edit loop: gofmt, vet, and every test that needs nothing external (go test -short)
	go test -short -count=1 ./...

build: ## the binary, into ./bin/orgaccounts (with the console's htmx when npm is there)
	@scripts/assets.sh
	go build -o bin/orgaccounts ./cmd/orgaccounts

generate: ## api/openapi.json and api/wire from the OpenAPI description in api/openapi
	go generate ./api/...

vet:
	gofmt -l . | (! grep .)
	go vet ./...

lint: ## golangci-lint (.golangci.yml) and Temporal's workflowcheck, built into ./bin
	@scripts/lint.sh

fuzz: ## every fuzz target for FUZZTIME each (default 20s); make test runs only their seeds
	@scripts/fuzz.sh

screenshots: ## retake README's console screenshots (docs/screenshots) from the real pages
	UPDATE_SCREENSHOTS=1 go test -count=1 -run 'TestConsoleCreateAccount|TestConsoleUsersFilterByRole|TestConsoleCloseAndReopen' ./internal/app/

bench: ## BenchmarkListAccounts on PostgreSQL (see docs/BENCHMARKS.md)
	go test -run '^$$' -bench BenchmarkListAccounts -benchmem -count 5 ./api/

bench-lifecycle: build ## lifecycles per second as ratios to the engine's ceilings (docs/BENCHMARKS.md)
	@test -x bin/temporal || test -n "$$TEMPORAL_ADDRESS" || scripts/temporal-cli.sh
	go run ./cmd/benchlifecycle $(BENCH_FLAGS)

migrate: build ## apply migrations to DATABASE_URL (or the SQLite file)
	bin/orgaccounts migrate

assets: ## the console's browser assets from npm (htmx, axe-core for the tests)
	@scripts/assets.sh

temporal-cli: ## build the Temporal CLI into ./bin
	@scripts/temporal-cli.sh

clean: ## remove ./bin and ./data (all local state!)
	rm -rf bin data
