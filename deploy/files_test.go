package deploy

// Reading the deployment files: a small model of the parts of the Compose
// specification that docker-compose.yml uses (with the short and long
// syntaxes Compose accepts for each), Compose's variable interpolation, and
// a Dockerfile reader.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// repoRoot is the directory holding go.mod, one level above this package.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod in %s: %v", root, err)
	}
	return root
}

// composeFile is docker-compose.yml.
type composeFile struct {
	Name     string              `yaml:"name"`
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

type service struct {
	Image           string       `yaml:"image"`
	Build           *buildSpec   `yaml:"build"`
	Command         strList      `yaml:"command"`
	Entrypoint      strList      `yaml:"entrypoint"`
	Environment     envMap       `yaml:"environment"`
	DependsOn       dependsOn    `yaml:"depends_on"`
	Healthcheck     *healthcheck `yaml:"healthcheck"`
	Deploy          deploySpec   `yaml:"deploy"`
	Scale           *int         `yaml:"scale"`
	Ports           []portSpec   `yaml:"ports"`
	Volumes         []mountSpec  `yaml:"volumes"`
	Restart         string       `yaml:"restart"`
	StopGracePeriod string       `yaml:"stop_grace_period"`
	ContainerName   string       `yaml:"container_name"`
}

// replicas is how many containers Compose starts for the service.
func (s *service) replicas() int {
	switch {
	case s.Deploy.Replicas != nil:
		return *s.Deploy.Replicas
	case s.Scale != nil:
		return *s.Scale
	}
	return 1
}

type deploySpec struct {
	Replicas *int `yaml:"replicas"`
}

// buildSpec is `build: DIR` or `build: {context: DIR, dockerfile: FILE}`.
type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

// strList is a command, entrypoint or health check test: a list, or a
// string (Shell tells the two apart).
type strList struct {
	Items []string
	Shell bool // given as one string
}

func (l *strList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		l.Items, l.Shell = []string{n.Value}, true
		return nil
	}
	return n.Decode(&l.Items)
}

// Words splits a string form on blanks, the way a reader of a short
// command would (no quoting rules: ours have none).
func (l strList) Words() []string {
	if l.Shell && len(l.Items) == 1 {
		return strings.Fields(l.Items[0])
	}
	return l.Items
}

func (l strList) String() string { return strings.Join(l.Items, " ") }

// envMap is `environment:` as a mapping or as a list of KEY=VALUE.
type envMap map[string]string

func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	*e = envMap{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]*string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			if v == nil {
				(*e)[k] = "" // passed through from the host; unset here
			} else {
				(*e)[k] = *v
			}
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	return nil
}

// dependsOn is `depends_on:` as a list of names (condition
// service_started) or a mapping of name to {condition: ...}.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, name := range l {
			(*d)[name] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for name, v := range m {
			c := v.Condition
			if c == "" {
				c = "service_started"
			}
			(*d)[name] = c
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	return nil
}

type healthcheck struct {
	Test    strList `yaml:"test"`
	Disable bool    `yaml:"disable"`
}

// Command is what the health check runs, without its CMD / CMD-SHELL
// marker; empty when the check is disabled.
func (h *healthcheck) Command() []string {
	if h == nil || h.Disable {
		return nil
	}
	t := h.Test.Items
	if h.Test.Shell {
		return strings.Fields(t[0])
	}
	if len(t) == 0 || t[0] == "NONE" {
		return nil
	}
	if t[0] == "CMD-SHELL" {
		return strings.Fields(strings.Join(t[1:], " "))
	}
	if t[0] == "CMD" {
		return t[1:]
	}
	return t
}

// portSpec is one published port: "[HOST_IP:]HOST[-HOST_END]:CONTAINER[/PROTO]"
// or the long syntax.
type portSpec struct {
	HostIP           string
	HostFrom, HostTo int // 0 when not published on a fixed host port
	Container        int
}

func (p *portSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Target    int    `yaml:"target"`
			Published string `yaml:"published"`
			HostIP    string `yaml:"host_ip"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		p.Container, p.HostIP = long.Target, long.HostIP
		return p.setHost(long.Published)
	}
	s, _, _ := strings.Cut(n.Value, "/")
	parts := strings.Split(s, ":")
	if strings.HasPrefix(s, "[") { // [::1]:8080:8080
		i := strings.Index(s, "]:")
		if i < 0 {
			return fmt.Errorf("line %d: bad port %q", n.Line, n.Value)
		}
		parts = append([]string{s[1:i]}, strings.Split(s[i+2:], ":")...)
	}
	var host string
	switch len(parts) {
	case 1:
	case 2:
		host = parts[0]
	case 3:
		p.HostIP, host = parts[0], parts[1]
	default:
		return fmt.Errorf("line %d: bad port %q", n.Line, n.Value)
	}
	c, err := strconv.Atoi(parts[len(parts)-1])
	if err != nil {
		return fmt.Errorf("line %d: bad container port in %q (a range is not supported here)", n.Line, n.Value)
	}
	p.Container = c
	return p.setHost(host)
}

func (p *portSpec) setHost(h string) error {
	if h == "" {
		return nil
	}
	from, to, isRange := strings.Cut(h, "-")
	var err error
	if p.HostFrom, err = strconv.Atoi(from); err != nil {
		return fmt.Errorf("bad host port %q", h)
	}
	p.HostTo = p.HostFrom
	if isRange {
		if p.HostTo, err = strconv.Atoi(to); err != nil || p.HostTo < p.HostFrom {
			return fmt.Errorf("bad host port range %q", h)
		}
	}
	return nil
}

// mountSpec is one volume: "SOURCE:TARGET[:MODE]" or the long syntax.
type mountSpec struct {
	Source, Target string
}

func (m *mountSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		}
		err := n.Decode(&long)
		m.Source, m.Target = long.Source, long.Target
		return err
	}
	parts := strings.Split(n.Value, ":")
	switch len(parts) {
	case 1:
		m.Target = parts[0] // an anonymous volume
	case 2, 3:
		m.Source, m.Target = parts[0], parts[1]
	default:
		return fmt.Errorf("line %d: bad volume %q", n.Line, n.Value)
	}
	return nil
}

// loadCompose parses docker-compose.yml the way `docker compose` would see
// it with no .env file and none of the file's variables set: merge keys
// applied, ${VAR:-default} replaced by its default, $$ by $. A ${VAR:?}
// (required variable) is an error, because the stack would not start.
func loadCompose(t testing.TB) *composeFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := parseCompose(data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return cf
}

func parseCompose(data []byte, lookup func(string) (string, bool)) (*composeFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if err := interpolateNode(&doc, lookup); err != nil {
		return nil, err
	}
	var cf composeFile
	if err := doc.Decode(&cf); err != nil {
		return nil, err
	}
	if len(cf.Services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	for name, s := range cf.Services {
		if s == nil {
			return nil, fmt.Errorf("service %s is empty", name)
		}
	}
	return &cf, nil
}

// interpolateNode applies Compose's interpolation to every scalar value
// (not to mapping keys). Aliases are skipped: the node they point at is
// interpolated where it is defined, once.
func interpolateNode(n *yaml.Node, lookup func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := interpolateNode(c, lookup); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := interpolateNode(n.Content[i], lookup); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		v, err := interpolate(n.Value, lookup)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		n.Value = v
	}
	return nil
}

// interpolate expands $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?message}, ${VAR?message}, ${VAR:+alt} and ${VAR+alt} as Compose
// does (without nesting).
func interpolate(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q", s)
			}
			expr := s[i+2 : i+end]
			i += end
			name := expr
			op, arg := "", ""
			if j := strings.IndexAny(expr, ":-?+"); j >= 0 {
				name = expr[:j]
				op = expr[j : j+1]
				if op == ":" && j+1 < len(expr) {
					op = expr[j : j+2]
				}
				arg = expr[j+len(op):]
			}
			if !isVarName(name) {
				return "", fmt.Errorf("bad variable %q in %q", expr, s)
			}
			v, set := lookup(name)
			switch op {
			case "":
				b.WriteString(v)
			case ":-":
				if v == "" {
					v = arg
				}
				b.WriteString(v)
			case "-":
				if !set {
					v = arg
				}
				b.WriteString(v)
			case ":?", "?":
				if !set || (op == ":?" && v == "") {
					return "", fmt.Errorf("variable %s is required (%s): docker compose refuses to start without it", name, arg)
				}
				b.WriteString(v)
			case ":+":
				if v != "" {
					b.WriteString(arg)
				}
			case "+":
				if set {
					b.WriteString(arg)
				}
			default:
				return "", fmt.Errorf("bad variable %q in %q", expr, s)
			}
		case next == '_' || next >= 'A' && next <= 'Z' || next >= 'a' && next <= 'z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			v, _ := lookup(s[i+1 : j])
			b.WriteString(v)
			i = j - 1
		default:
			b.WriteByte('$')
		}
	}
	return b.String(), nil
}

func isVarName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if r != '_' && (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// imageRef splits "registry/name:tag@digest" into its name and tag (after
// the last colon that follows the last slash) and digest.
func imageRef(ref string) (name, tag, digest string) {
	ref, digest, _ = strings.Cut(ref, "@")
	name = ref
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		name, tag = ref[:i], ref[i+1:]
	}
	return name, tag, digest
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line int
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

// stage is one FROM ... up to the next.
type stage struct {
	Base, Name   string // base image with ARG defaults substituted; AS name
	Instructions []instruction
}

// dockerfile holds the stages and the ARG defaults declared before the
// first FROM.
type dockerfile struct {
	Stages []stage
	Args   map[string]string
}

func loadDockerfile(t testing.TB) *dockerfile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := &dockerfile{Args: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	var cur *instruction
	lineNo := 0
	add := func(in instruction) {
		in.Args = strings.TrimSpace(in.Args)
		switch {
		case in.Cmd == "FROM":
			words := strings.Fields(in.Args)
			var base, name string
			for i := 0; i < len(words); i++ {
				switch {
				case strings.HasPrefix(words[i], "--"):
				case strings.EqualFold(words[i], "AS") && i+1 < len(words):
					name = words[i+1]
					i++
				case base == "":
					base = words[i]
				}
			}
			base, _ = interpolate(base, func(k string) (string, bool) { v, ok := df.Args[k]; return v, ok })
			df.Stages = append(df.Stages, stage{Base: base, Name: name})
		case len(df.Stages) == 0:
			if in.Cmd == "ARG" {
				k, v, _ := strings.Cut(in.Args, "=")
				df.Args[k] = strings.Trim(v, `"`)
			}
		default:
			st := &df.Stages[len(df.Stages)-1]
			st.Instructions = append(st.Instructions, in)
		}
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if cur == nil && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur != nil && strings.HasPrefix(line, "#") {
			continue // comments inside a continued instruction
		}
		cont := strings.HasSuffix(line, `\`)
		line = strings.TrimSuffix(line, `\`)
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			cur = &instruction{Line: lineNo, Cmd: strings.ToUpper(cmd), Args: args}
		} else {
			cur.Args += " " + line
		}
		if !cont {
			add(*cur)
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		add(*cur)
	}
	return df
}

// execForm parses a JSON-array (exec form) instruction argument.
func execForm(args string) ([]string, bool) {
	var l []string
	if err := json.Unmarshal([]byte(args), &l); err != nil {
		return nil, false
	}
	return l, true
}

func (st stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range st.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (st stage) last(cmd string) (instruction, bool) {
	l := st.all(cmd)
	if len(l) == 0 {
		return instruction{}, false
	}
	return l[len(l)-1], true
}
