package deploy

// Checks of the Dockerfile and .dockerignore.

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func finalStage(t testing.TB, df *dockerfile) stage {
	t.Helper()
	if len(df.Stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return df.Stages[len(df.Stages)-1]
}

func TestDockerfileIsMultiStage(t *testing.T) {
	df := loadDockerfile(t)
	if len(df.Stages) < 2 {
		t.Fatalf("Dockerfile: %d FROM stages, want a build stage and a runtime stage", len(df.Stages))
	}
	for _, st := range df.Stages {
		if strings.Contains(st.Base, "$") {
			t.Errorf("FROM %s: a variable without a default before the first FROM", st.Base)
			continue
		}
		if slices.ContainsFunc(df.Stages, func(o stage) bool { return o.Name != "" && o.Name == st.Base }) {
			continue // FROM an earlier stage
		}
		if _, tag, digest := imageRef(st.Base); digest == "" && (tag == "" || tag == "latest") {
			t.Errorf("FROM %s: not pinned to a version", st.Base)
		}
	}
}

// The build stage makes a static binary of cmd/orgaccounts with the Go of
// go.mod, and the runtime stage gets exactly that binary.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	df := loadDockerfile(t)
	var build *stage
	var buildRun instruction
	for i, st := range df.Stages {
		for _, in := range st.all("RUN") {
			if strings.Contains(in.Args, "go build") {
				build, buildRun = &df.Stages[i], in
			}
		}
	}
	if build == nil {
		t.Fatal("Dockerfile: no stage runs go build")
	}
	if build == &df.Stages[len(df.Stages)-1] {
		t.Error("Dockerfile: go build runs in the final stage: the runtime image would carry the Go toolchain")
	}
	cgoOff := regexp.MustCompile(`\bCGO_ENABLED=0\b`)
	env := ""
	for _, in := range build.all("ENV") {
		env += in.Args + " "
	}
	if !cgoOff.MatchString(buildRun.Args) && !cgoOff.MatchString(env) {
		t.Errorf("line %d: go build without CGO_ENABLED=0: the binary links libc and will not run on a minimal base", buildRun.Line)
	}
	for _, want := range []string{"-trimpath", "./cmd/orgaccounts"} {
		if !strings.Contains(buildRun.Args, want) {
			t.Errorf("line %d: go build lacks %s", buildRun.Line, want)
		}
	}
	out := regexp.MustCompile(`-o\s+(\S+)`).FindStringSubmatch(buildRun.Args)
	if out == nil {
		t.Fatalf("line %d: go build has no -o", buildRun.Line)
	}

	final := finalStage(t, df)
	copied := false
	for _, in := range final.all("COPY") {
		if strings.Contains(in.Args, "--from="+build.Name) && strings.Contains(in.Args, out[1]) &&
			strings.HasSuffix(strings.TrimSpace(in.Args), "/usr/local/bin/orgaccounts") {
			copied = true
		}
	}
	if build.Name == "" || !copied {
		t.Errorf("Dockerfile: the final stage must COPY --from=%s %s /usr/local/bin/orgaccounts", build.Name, out[1])
	}

	// The builder's Go is at least go.mod's: an older one would try to
	// download a toolchain or refuse to build.
	name, tag, _ := imageRef(build.Base)
	if name != "golang" {
		t.Errorf("build stage FROM %s, want the golang image", build.Base)
		return
	}
	want := goDirective(t)
	have, _, _ := strings.Cut(tag, "-")
	// golang:1.26 is the newest 1.26.x: compare as many parts as the tag has.
	if parts := strings.Split(want, "."); len(parts) > len(strings.Split(have, ".")) {
		want = strings.Join(parts[:len(strings.Split(have, "."))], ".")
	}
	if compareVersions(have, want) < 0 {
		t.Errorf("build stage FROM %s: Go %s is older than go.mod's go %s", build.Base, have, want)
	}
}

func TestDockerfileRuntimeStage(t *testing.T) {
	df := loadDockerfile(t)
	final := finalStage(t, df)
	user, ok := final.last("USER")
	if !ok {
		t.Error("final stage: no USER: the service would run as root")
	} else {
		u, _, _ := strings.Cut(strings.TrimSpace(user.Args), ":")
		if u == "root" || u == "0" {
			t.Errorf("line %d: USER %s is root", user.Line, user.Args)
		}
	}
	ep, ok := final.last("ENTRYPOINT")
	if l, exec := execForm(ep.Args); !ok || !exec || !slices.Equal(l, []string{"/usr/local/bin/orgaccounts"}) {
		t.Errorf("final stage: ENTRYPOINT must be [\"/usr/local/bin/orgaccounts\"] (exec form, so signals reach it); got %q", ep.Args)
	}
	cmd, ok := final.last("CMD")
	if l, exec := execForm(cmd.Args); !ok || !exec || !slices.Equal(l, []string{"serve"}) {
		t.Errorf("final stage: CMD must be [\"serve\"]; got %q", cmd.Args)
	}
	exposed := false
	for _, in := range final.all("EXPOSE") {
		for _, p := range strings.Fields(in.Args) {
			if strings.TrimSuffix(p, "/tcp") == "8080" {
				exposed = true
			}
		}
	}
	if !exposed {
		t.Error("final stage: EXPOSE 8080 (HTTP_ADDR's default) is missing")
	}
}

// The build context leaves out what the build does not need: .git and the
// Temporal CLI in bin/ alone are hundreds of megabytes.
func TestDockerignore(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/"))
		}
	}
	for _, want := range []string{".git", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, l := range lines {
		for _, needed := range []string{"go.mod", "go.sum", "cmd", "internal"} {
			if l == needed || l == "*" || l == "**" {
				t.Errorf(".dockerignore excludes %s, which the build needs", l)
			}
		}
	}
}

// goDirective is the version in go.mod's go line.
func goDirective(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}

// compareVersions compares dotted numeric versions ("1.26" < "1.26.8").
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"1.26.8", "1.26.8", 0}, {"1.26", "1.26.8", -1}, {"1.27", "1.26.8", 1}, {"1.26.10", "1.26.8", 1}} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%s, %s) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
