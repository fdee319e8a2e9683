package deploy

// Checks of docker-compose.yml: each one is something a user of
// `docker compose up` would run into if it were wrong.

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/orgaccounts/orgaccounts/internal/config"
	"github.com/orgaccounts/orgaccounts/workflows"
)

// The stack's services, by role.
const (
	svcPostgres       = "postgres"
	svcTemporalSchema = "temporal-schema" // one-shot: Temporal's database schemas
	svcTemporal       = "temporal"
	svcTemporalSetup  = "temporal-setup" // one-shot: namespace and search attributes
	svcTemporalUI     = "temporal-ui"
	svcMailpit        = "mailpit"
	svcMigrate        = "migrate" // one-shot: orgaccounts migrate
	svcAPI            = "api"
	svcWorker         = "worker"
)

// appServices run the orgaccounts image, with the subcommand each runs.
var appServices = map[string]string{svcMigrate: "migrate", svcAPI: "api", svcWorker: "worker"}

// oneShots run to completion; others depend on their success.
var oneShots = []string{svcTemporalSchema, svcTemporalSetup, svcMigrate}

func TestComposeHasEveryService(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range []string{svcPostgres, svcTemporalSchema, svcTemporal, svcTemporalSetup,
		svcTemporalUI, svcMailpit, svcMigrate, svcAPI, svcWorker} {
		if cf.Services[name] == nil {
			t.Errorf("service %q is missing", name)
		}
	}
}

func TestComposeDependenciesExistAndCanBeMet(t *testing.T) {
	cf := loadCompose(t)
	for name, s := range cf.Services {
		for dep, cond := range s.DependsOn {
			target := cf.Services[dep]
			if target == nil {
				t.Errorf("%s depends on %q, which is not a service", name, dep)
				continue
			}
			switch cond {
			case "service_started":
			case "service_healthy":
				if target.Healthcheck.Command() == nil {
					t.Errorf("%s waits for %s to be healthy, but %s has no health check: it would wait forever", name, dep, dep)
				}
			case "service_completed_successfully":
				if !isOneShot(target) {
					t.Errorf("%s waits for %s to complete, but %s restarts (restart: %q) or is replicated", name, dep, dep, target.Restart)
				}
			default:
				t.Errorf("%s depends on %s with unknown condition %q", name, dep, cond)
			}
		}
	}
	// No cycles: Compose could not order the start.
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string)
	visit = func(name string, path []string) {
		switch state[name] {
		case 1:
			t.Errorf("dependency cycle: %s", strings.Join(append(path, name), " -> "))
			return
		case 2:
			return
		}
		state[name] = 1
		if s := cf.Services[name]; s != nil {
			for dep := range s.DependsOn {
				visit(dep, append(path, name))
			}
		}
		state[name] = 2
	}
	for name := range cf.Services {
		visit(name, nil)
	}
}

func isOneShot(s *service) bool {
	return (s.Restart == "" || s.Restart == "no" || strings.HasPrefix(s.Restart, "on-failure")) && s.replicas() == 1
}

func TestComposeStartOrder(t *testing.T) {
	cf := loadCompose(t)
	want := map[string]map[string]string{
		svcTemporalSchema: {svcPostgres: "service_healthy"},
		svcTemporal:       {svcTemporalSchema: "service_completed_successfully"},
		svcTemporalSetup:  {svcTemporal: "service_healthy"},
		svcTemporalUI:     {svcTemporal: "service_healthy"},
		svcMigrate:        {svcPostgres: "service_healthy"},
		svcAPI:            {svcMigrate: "service_completed_successfully", svcTemporalSetup: "service_completed_successfully"},
		svcWorker:         {svcMigrate: "service_completed_successfully", svcTemporalSetup: "service_completed_successfully"},
	}
	for name, deps := range want {
		s := cf.Services[name]
		if s == nil {
			continue // reported by TestComposeHasEveryService
		}
		for dep, cond := range deps {
			if got := s.DependsOn[dep]; got != cond {
				t.Errorf("%s must depend on %s with condition %s; has %q", name, dep, cond, got)
			}
		}
	}
	for _, name := range oneShots {
		if s := cf.Services[name]; s != nil && !isOneShot(s) {
			t.Errorf("%s runs once and exits: it needs restart \"no\" (has %q) and one replica", name, s.Restart)
		}
	}
}

func TestComposeImagesArePinned(t *testing.T) {
	cf := loadCompose(t)
	for name, s := range cf.Services {
		if s.Image == "" {
			if s.Build == nil {
				t.Errorf("%s has neither image nor build", name)
			}
			continue // built here, never pulled
		}
		_, tag, digest := imageRef(s.Image)
		switch {
		case digest != "":
		case tag == "":
			t.Errorf("%s: image %q has no tag: it means :latest, which changes under you", name, s.Image)
		case tag == "latest" || strings.HasPrefix(tag, "latest-"):
			t.Errorf("%s: image %q is not pinned", name, s.Image)
		}
	}
	// Temporal's schema tool must be the server's version, or the server
	// refuses the schema it finds.
	server, schema, setup := cf.Services[svcTemporal], cf.Services[svcTemporalSchema], cf.Services[svcTemporalSetup]
	if server == nil || schema == nil || setup == nil {
		return
	}
	sName, sTag, _ := imageRef(server.Image)
	if sName != "temporalio/server" {
		t.Errorf("%s: image %q, want temporalio/server (auto-setup is deprecated)", svcTemporal, server.Image)
	}
	for _, s := range []struct {
		name string
		svc  *service
	}{{svcTemporalSchema, schema}, {svcTemporalSetup, setup}} {
		n, tag, _ := imageRef(s.svc.Image)
		if n != "temporalio/admin-tools" || tag != sTag {
			t.Errorf("%s: image %q, want temporalio/admin-tools:%s (the server's version)", s.name, s.svc.Image, sTag)
		}
	}
}

func TestComposeAppServicesBuildThisRepository(t *testing.T) {
	cf := loadCompose(t)
	root := repoRoot(t)
	for name, sub := range appServices {
		s := cf.Services[name]
		if s == nil {
			continue
		}
		if s.Build == nil {
			t.Errorf("%s: no build: it must run the image built from this repository's Dockerfile", name)
		} else {
			ctx := filepath.Join(root, s.Build.Context)
			if ctx != root {
				t.Errorf("%s: build context %q is %s, want the repository root", name, s.Build.Context, ctx)
			}
			df := s.Build.Dockerfile
			if df == "" {
				df = "Dockerfile"
			}
			if p := filepath.Join(ctx, df); p != filepath.Join(root, "Dockerfile") {
				t.Errorf("%s: builds from %s, want %s", name, p, filepath.Join(root, "Dockerfile"))
			}
		}
		if s.Image != "" {
			t.Errorf("%s: image %q beside build: Compose would try to pull that name from a registry before building", name, s.Image)
		}
		if len(s.Entrypoint.Items) > 0 {
			t.Errorf("%s: entrypoint %q replaces the image's /usr/local/bin/orgaccounts", name, s.Entrypoint)
		}
		if got := s.Command.Words(); !slices.Equal(got, []string{sub}) {
			t.Errorf("%s: command %q, want [%q] (orgaccounts %s)", name, got, sub, sub)
		}
	}
}

func TestComposeReplicas(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range []string{svcAPI, svcWorker} {
		s := cf.Services[name]
		if s == nil {
			continue
		}
		if n := s.replicas(); n != 2 {
			t.Errorf("%s: %d replicas, want 2", name, n)
		}
		if s.ContainerName != "" && s.replicas() > 1 {
			t.Errorf("%s: container_name %q cannot be shared by %d replicas", name, s.ContainerName, s.replicas())
		}
	}
}

// The API's published ports: every replica gets a host port, and the
// links it hands out (PUBLIC_BASE_URL) point at one of them.
func TestComposeAPIIsReachable(t *testing.T) {
	cf := loadCompose(t)
	api := cf.Services[svcAPI]
	if api == nil {
		t.Skip("no api service")
	}
	port := httpPort(t, api.Environment)
	var published *portSpec
	for i, p := range api.Ports {
		if p.Container == port {
			published = &api.Ports[i]
		}
	}
	if published == nil || published.HostFrom == 0 {
		t.Fatalf("api: container port %d (HTTP_ADDR) is not published on a fixed host port; ports: %+v", port, api.Ports)
	}
	if n := published.HostTo - published.HostFrom + 1; n < api.replicas() {
		t.Errorf("api: %d replicas but host ports %d-%d hold %d: the others fail with 'port is already allocated'",
			api.replicas(), published.HostFrom, published.HostTo, n)
	}
	if published.HostFrom != 8080 {
		t.Errorf("api: published from host port %d, want 8080", published.HostFrom)
	}
	base, err := url.Parse(api.Environment["PUBLIC_BASE_URL"])
	if err != nil {
		t.Fatalf("api: PUBLIC_BASE_URL: %v", err)
	}
	bp := base.Port()
	if bp == "" {
		bp = map[string]string{"http": "80", "https": "443"}[base.Scheme]
	}
	if n, _ := strconv.Atoi(bp); (base.Hostname() == "localhost" || base.Hostname() == "127.0.0.1") &&
		(n < published.HostFrom || n > published.HostTo) {
		t.Errorf("api: PUBLIC_BASE_URL %s points at host port %s, which no replica publishes (%d-%d)",
			base, bp, published.HostFrom, published.HostTo)
	}
}

func TestComposeTemporalUI(t *testing.T) {
	cf := loadCompose(t)
	ui := cf.Services[svcTemporalUI]
	if ui == nil {
		t.Skip("no temporal-ui service")
	}
	if n, _, _ := imageRef(ui.Image); n != "temporalio/ui" {
		t.Errorf("temporal-ui: image %q, want temporalio/ui", ui.Image)
	}
	if !slices.ContainsFunc(ui.Ports, func(p portSpec) bool { return p.HostFrom == 8233 && p.Container == 8080 }) {
		t.Errorf("temporal-ui: want host port 8233 published to the UI's 8080; ports: %+v", ui.Ports)
	}
	checkTemporalAddress(t, cf, svcTemporalUI, ui.Environment["TEMPORAL_ADDRESS"])
}

// Every variable handed to orgaccounts is one it reads, the values are
// ones it accepts, and the services agree with each other.
func TestComposeAppEnvironment(t *testing.T) {
	cf := loadCompose(t)
	known := map[string]bool{}
	for _, v := range config.Vars {
		known[v.Name] = true
	}
	script := initScripts(t, cf)
	var first string
	for _, name := range []string{svcMigrate, svcAPI, svcWorker} {
		s := cf.Services[name]
		if s == nil {
			continue
		}
		env := s.Environment
		for k := range env {
			if !known[k] {
				t.Errorf("%s: environment variable %s is not one orgaccounts reads (internal/config.Vars): a typo or a leftover", name, k)
			}
		}
		if _, err := config.FromEnv(func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s: orgaccounts would refuse to start: %v", name, err)
		}
		if env["DATABASE_URL"] == "" {
			t.Errorf("%s: no DATABASE_URL: it would use a SQLite file of its own instead of the shared PostgreSQL", name)
			continue
		}
		checkDatabaseURL(t, cf, script, name, env["DATABASE_URL"])
		if first == "" {
			first = env["DATABASE_URL"]
		} else if env["DATABASE_URL"] != first {
			t.Errorf("%s: DATABASE_URL differs from the other orgaccounts services': migrations and data would not meet", name)
		}
		if name != svcMigrate {
			checkTemporalAddress(t, cf, name, env["TEMPORAL_ADDRESS"])
		}
	}
	api, worker := cf.Services[svcAPI], cf.Services[svcWorker]
	if api != nil && worker != nil {
		for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TASK_QUEUE"} {
			if get(api.Environment, k) != get(worker.Environment, k) {
				t.Errorf("api and worker disagree on %s (%q, %q): workflows the api starts would never run",
					k, get(api.Environment, k), get(worker.Environment, k))
			}
		}
	}
}

// get is a variable as orgaccounts sees it: its default when unset.
func get(env envMap, name string) string {
	if v := env[name]; v != "" {
		return v
	}
	for _, v := range config.Vars {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

func httpPort(t *testing.T, env envMap) int {
	t.Helper()
	_, p, err := net.SplitHostPort(get(env, "HTTP_ADDR"))
	if err != nil {
		t.Fatalf("HTTP_ADDR %q: %v", get(env, "HTTP_ADDR"), err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("HTTP_ADDR %q: %v", get(env, "HTTP_ADDR"), err)
	}
	return n
}

// checkDatabaseURL: the URL names the compose PostgreSQL, and the role,
// password and database it names are the ones the init script creates.
func checkDatabaseURL(t *testing.T, cf *composeFile, script, name, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("%s: DATABASE_URL: %v", name, err)
		return
	}
	pg := cf.Services[u.Hostname()]
	if pg == nil || !strings.HasPrefix(pg.Image, "postgres:") {
		t.Errorf("%s: DATABASE_URL host %q is not the compose PostgreSQL service (%s)", name, u.Hostname(), svcPostgres)
		return
	}
	if p := u.Port(); p != "" && p != "5432" {
		t.Errorf("%s: DATABASE_URL port %s; PostgreSQL listens on 5432", name, p)
	}
	user, db := u.User.Username(), strings.TrimPrefix(u.Path, "/")
	pw, _ := u.User.Password()
	if want := pg.Environment["ORGACCOUNTS_DB_PASSWORD"]; pw != want {
		t.Errorf("%s: DATABASE_URL password %q, but the postgres service creates role %s with ORGACCOUNTS_DB_PASSWORD %q", name, pw, user, want)
	}
	if u.Query().Get("sslmode") != "disable" {
		t.Errorf("%s: DATABASE_URL needs sslmode=disable: the compose PostgreSQL has no TLS", name)
	}
	for _, want := range []string{"CREATE ROLE " + user + " ", "CREATE DATABASE " + db + " OWNER " + user} {
		if !strings.Contains(script, want) {
			t.Errorf("%s: DATABASE_URL uses role %q and database %q, but no init script of %s says %q", name, user, db, svcPostgres, want)
		}
	}
}

// initScripts is the text of the files mounted into the postgres service's
// /docker-entrypoint-initdb.d.
func initScripts(t *testing.T, cf *composeFile) string {
	t.Helper()
	pg := cf.Services[svcPostgres]
	if pg == nil {
		return ""
	}
	var b strings.Builder
	for _, m := range pg.Volumes {
		if !strings.HasPrefix(m.Target, "/docker-entrypoint-initdb.d") || !strings.HasPrefix(m.Source, ".") {
			continue
		}
		src := filepath.Join(repoRoot(t), m.Source)
		files, err := filepath.Glob(filepath.Join(src, "*"))
		if fi, statErr := os.Stat(src); statErr == nil && !fi.IsDir() {
			files, err = []string{src}, nil
		}
		if err != nil || len(files) == 0 {
			t.Errorf("postgres: init scripts %s: none found", m.Source)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Error(err)
				continue
			}
			if strings.HasSuffix(f, ".sh") {
				if fi, err := os.Stat(f); err == nil && fi.Mode()&0o111 == 0 {
					t.Errorf("%s is not executable: the postgres image would source it into its own shell", f)
				}
			}
			b.Write(data)
		}
	}
	return b.String()
}

func checkTemporalAddress(t *testing.T, cf *composeFile, name, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s: TEMPORAL_ADDRESS %q: %v", name, addr, err)
		return
	}
	if host != svcTemporal || cf.Services[host] == nil {
		t.Errorf("%s: TEMPORAL_ADDRESS %q does not name the compose Temporal service %q", name, addr, svcTemporal)
	}
	if port != "7233" {
		t.Errorf("%s: TEMPORAL_ADDRESS port %s; Temporal's frontend listens on 7233", name, port)
	}
}

// Temporal persists to the compose PostgreSQL with the role the init
// script creates.
func TestComposeTemporalUsesPostgres(t *testing.T) {
	cf := loadCompose(t)
	pg, server, schema := cf.Services[svcPostgres], cf.Services[svcTemporal], cf.Services[svcTemporalSchema]
	if pg == nil || server == nil || schema == nil {
		t.Skip("services missing")
	}
	env := server.Environment
	if env["DB"] != "postgres12" && env["DB"] != "postgres12_pgx" {
		t.Errorf("temporal: DB=%q, want postgres12 (the SQL plugin for PostgreSQL 12 and later)", env["DB"])
	}
	if cf.Services[env["POSTGRES_SEEDS"]] != pg {
		t.Errorf("temporal: POSTGRES_SEEDS=%q, want %s", env["POSTGRES_SEEDS"], svcPostgres)
	}
	want := pg.Environment["TEMPORAL_DB_PASSWORD"]
	if env["POSTGRES_PWD"] != want {
		t.Errorf("temporal: POSTGRES_PWD %q differs from postgres' TEMPORAL_DB_PASSWORD %q", env["POSTGRES_PWD"], want)
	}
	if schema.Environment["SQL_PASSWORD"] != want {
		t.Errorf("temporal-schema: SQL_PASSWORD %q differs from postgres' TEMPORAL_DB_PASSWORD %q", schema.Environment["SQL_PASSWORD"], want)
	}
	user := env["POSTGRES_USER"]
	if !strings.Contains(initScripts(t, cf), "CREATE ROLE "+user+" LOGIN CREATEDB") {
		t.Errorf("temporal: POSTGRES_USER %q is not a role the postgres init script creates with CREATEDB", user)
	}
	script := schema.Entrypoint.String() + "\n" + schema.Command.String()
	for _, db := range []string{"temporal", "temporal_visibility"} {
		if !regexp.MustCompile(`--db ` + db + ` update-schema`).MatchString(script) {
			t.Errorf("temporal-schema: does not update the schema of database %s", db)
		}
	}
	if !strings.Contains(script, "--plugin "+env["DB"]) || !strings.Contains(script, "--ep "+svcPostgres) || !strings.Contains(script, "-u "+user) {
		t.Errorf("temporal-schema: must use plugin %s on host %s as %s: %s", env["DB"], svcPostgres, user, script)
	}
}

// PostgreSQL keeps its data in a named volume: `docker compose down` and
// a new container do not lose it.
func TestComposePostgresDataPersists(t *testing.T) {
	cf := loadCompose(t)
	pg := cf.Services[svcPostgres]
	if pg == nil {
		t.Skip("no postgres service")
	}
	for _, m := range pg.Volumes {
		if m.Target == "/var/lib/postgresql/data" {
			if _, declared := cf.Volumes[m.Source]; !declared {
				t.Errorf("postgres: data volume %q is not a named volume declared under volumes:", m.Source)
			}
			return
		}
	}
	t.Error("postgres: /var/lib/postgresql/data is not on a volume: the data dies with the container")
}

func TestComposeHealthChecks(t *testing.T) {
	cf := loadCompose(t)
	check := func(name string, wants ...string) {
		t.Helper()
		s := cf.Services[name]
		if s == nil {
			return
		}
		cmd := strings.Join(s.Healthcheck.Command(), " ")
		if cmd == "" {
			t.Errorf("%s: no health check", name)
			return
		}
		for _, w := range wants {
			if !strings.Contains(cmd, w) {
				t.Errorf("%s: health check %q does not contain %q", name, cmd, w)
			}
		}
	}
	check(svcPostgres, "pg_isready")
	check(svcTemporal, "7233")
	if api := cf.Services[svcAPI]; api != nil {
		check(svcAPI, fmt.Sprintf(":%d/readyz", httpPort(t, api.Environment)))
		// The check runs inside the orgaccounts image: its program must be
		// there (distroless or scratch has neither wget nor curl).
		if cmd := api.Healthcheck.Command(); len(cmd) > 0 {
			base := finalStage(t, loadDockerfile(t)).Base
			switch cmd[0] {
			case "wget":
				if n, _, _ := imageRef(base); n != "alpine" && n != "busybox" {
					t.Errorf("api: health check runs wget, which the runtime image %s may not have", base)
				}
			case "/usr/local/bin/orgaccounts", "orgaccounts":
				t.Errorf("api: orgaccounts has no health-check subcommand")
			default:
				t.Errorf("api: health check runs %q; the runtime image %s has busybox wget", cmd[0], base)
			}
		}
	}
}

// The graceful stop (SHUTDOWN_TIMEOUT) fits in Compose's stop grace
// period, or in-flight requests and activities are killed.
func TestComposeStopGracePeriod(t *testing.T) {
	cf := loadCompose(t)
	for _, name := range []string{svcAPI, svcWorker} {
		s := cf.Services[name]
		if s == nil {
			continue
		}
		shutdown, err := time.ParseDuration(get(s.Environment, "SHUTDOWN_TIMEOUT"))
		if err != nil {
			t.Fatal(err)
		}
		grace := 10 * time.Second // Compose's default
		if s.StopGracePeriod != "" {
			if grace, err = time.ParseDuration(s.StopGracePeriod); err != nil {
				t.Fatalf("%s: stop_grace_period: %v", name, err)
			}
		}
		if grace <= shutdown {
			t.Errorf("%s: stop_grace_period %s is not longer than SHUTDOWN_TIMEOUT %s: Docker kills it mid-shutdown", name, grace, shutdown)
		}
	}
}

// The setup job registers, on the namespace the app uses, every search
// attribute the workflows set (workflows.SearchAttributes), with its type.
func TestComposeRegistersSearchAttributes(t *testing.T) {
	cf := loadCompose(t)
	setup, api := cf.Services[svcTemporalSetup], cf.Services[svcAPI]
	if setup == nil || api == nil {
		t.Skip("services missing")
	}
	script := setup.Entrypoint.String() + "\n" + setup.Command.String()
	script = strings.ReplaceAll(script, "\\\n", " ")
	create := regexp.MustCompile(`temporal\s+operator\s+search-attribute\s+create[^\n]*`).FindString(script)
	if create == "" {
		t.Fatalf("temporal-setup: no `temporal operator search-attribute create` in %q", script)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`--name\s+(\S+)\s+--type\s+(\S+)`).FindAllStringSubmatch(create, -1) {
		got[m[1]] = m[2]
	}
	for _, k := range workflows.SearchAttributes {
		typ, ok := got[k.GetName()]
		if !ok {
			t.Errorf("temporal-setup: does not register search attribute %s: starting a workflow fails", k.GetName())
			continue
		}
		if v, err := enumspb.IndexedValueTypeFromString(typ); err != nil || v != k.GetValueType() {
			t.Errorf("temporal-setup: registers %s as %s, the workflows set a %s", k.GetName(), typ, k.GetValueType())
		}
	}
	for _, want := range []string{"OrganizationSid", "AccountSid"} {
		if _, ok := got[want]; !ok {
			t.Errorf("temporal-setup: %s is not registered", want)
		}
	}
	// The same cluster and namespace as the app's.
	for _, k := range []string{"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} {
		if setup.Environment[k] != get(api.Environment, k) {
			t.Errorf("temporal-setup: %s %q, but the app uses %q", k, setup.Environment[k], get(api.Environment, k))
		}
		if !strings.Contains(create, "$"+k) {
			t.Errorf("temporal-setup: the create command does not use $%s", k)
		}
	}
	if !strings.Contains(script, "namespace create") {
		t.Error("temporal-setup: does not create the namespace (temporalio/server does not create one)")
	}
}

// The loader sees the file as Compose does: interpolation and merge keys.
func TestComposeInterpolation(t *testing.T) {
	env := map[string]string{"SET": "v", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"a$$b":            "a$b",
		"${SET}":          "v",
		"$SET/x":          "v/x",
		"${UNSET:-d}":     "d",
		"${EMPTY:-d}":     "d",
		"${EMPTY-d}":      "",
		"${UNSET-d}":      "d",
		"${SET:+alt}":     "alt",
		"${UNSET:+alt}":   "",
		"x${SET:?msg}y":   "xvy",
		"$$((n + 1))":     "$((n + 1))",
		"\"$$@\" $$* $$n": "\"$@\" $* $n",
	} {
		got, err := interpolate(in, lookup)
		if err != nil || got != want {
			t.Errorf("interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := interpolate("${UNSET:?set it}", lookup); err == nil {
		t.Error("a required variable that is unset must be an error")
	}
	// The loader must apply merge keys the way Compose does: keys of the
	// service win over the merged ones.
	cf, err := parseCompose([]byte(`
x-base: &base
  restart: always
  environment: {A: "1"}
services:
  s:
    <<: *base
    restart: "no"
`), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if s := cf.Services["s"]; s.Restart != "no" || s.Environment["A"] != "1" {
		t.Errorf("merge: got restart %q, environment %v", s.Restart, s.Environment)
	}
}

// The stack's email goes to its Mailpit, the Mailpit that make run and the
// tests build (scripts/mailpit.sh).
func TestComposeMailGoesToMailpit(t *testing.T) {
	cf := loadCompose(t)
	mp := cf.Services[svcMailpit]
	if mp == nil {
		t.Fatal("no mailpit service")
	}
	script, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "mailpit.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^MAILPIT_VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/mailpit.sh sets no MAILPIT_VERSION")
	}
	if _, tag, _ := imageRef(mp.Image); tag != string(m[1]) {
		t.Errorf("mailpit: image %q, but scripts/mailpit.sh builds %s", mp.Image, m[1])
	}
	for _, name := range []string{svcAPI, svcWorker} {
		s := cf.Services[name]
		if s == nil {
			continue
		}
		u, err := url.Parse(s.Environment["SMTP_URL"])
		if err != nil || u.Scheme != "smtp" || u.Hostname() != svcMailpit || u.Port() != "1025" {
			t.Errorf("%s: SMTP_URL %q, want smtp://mailpit:1025 (the stack's Mailpit)", name, s.Environment["SMTP_URL"])
		}
	}
}
