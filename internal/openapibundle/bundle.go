// Package openapibundle resolves an OpenAPI description written as several
// YAML files into the single JSON document the service embeds and serves.
//
// The root file is an ordinary OpenAPI document except for two things, both
// plain relative $refs that other tools follow too. A section of components
// may be a $ref to a whole file, whose top-level keys are that section's
// entries; and a path item may be a $ref to a top-level entry of a file of
// path items:
//
//	paths:
//	  /Organizations/{OrganizationSid}:
//	    $ref: paths/organizations.yaml#/~1Organizations~1{OrganizationSid}
//	components:
//	  schemas:
//	    $ref: components/schemas.yaml
//
// Every $ref in every file is relative to the file it is written in. A $ref
// to an entry of a component file becomes a local reference into the bundle
// (../components/schemas.yaml#/Account becomes #/components/schemas/Account);
// a $ref to a path item is replaced by the path item. Every entry of a path
// file must be referenced exactly once, and every local reference of the
// bundle must resolve, so a typo fails the bundle rather than the reader.
//
// The output is stable: keys keep their order in the sources, and the JSON is
// indented by two spaces, with no HTML escaping, ending in a newline.
package openapibundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Bundle reads the OpenAPI document whose root file is root in fsys and
// returns it as one JSON document.
func Bundle(fsys fs.FS, root string) ([]byte, error) {
	b := &bundler{fsys: fsys, root: path.Clean(root), files: map[string]*yaml.Node{},
		sections: map[string]string{}, inlined: map[string]map[string]bool{}, active: map[string]bool{}}
	doc, err := b.bundle()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := writeJSON(&out, doc, ""); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

type bundler struct {
	fsys fs.FS
	root string
	// files holds each file read, by its path in fsys.
	files map[string]*yaml.Node
	// sections maps a component file to its section of components.
	sections map[string]string
	// inlined records, per file of path items, which entries were used.
	inlined map[string]map[string]bool
	// active holds the path items being inlined, against cycles.
	active map[string]bool
}

func (b *bundler) bundle() (*yaml.Node, error) {
	root, err := b.load(b.root)
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the document is not a mapping", b.root)
	}
	// Component files first, so that references to them are known whatever
	// the order of the document.
	if comps := lookup(root, "components"); comps != nil && comps.Kind == yaml.MappingNode {
		for i := 0; i < len(comps.Content); i += 2 {
			section, value := comps.Content[i].Value, comps.Content[i+1]
			if file, ok := wholeFileRef(value); ok {
				target := path.Join(path.Dir(b.root), file)
				if prev, dup := b.sections[target]; dup {
					return nil, fmt.Errorf("%s: components.%s and components.%s are both %s", b.root, prev, section, file)
				}
				b.sections[target] = section
			}
		}
	}
	out, err := b.walk(root, b.root, "")
	if err != nil {
		return nil, err
	}
	// Replace each whole-file section by the file's entries.
	if comps := lookup(out, "components"); comps != nil && comps.Kind == yaml.MappingNode {
		for i := 0; i < len(comps.Content); i += 2 {
			if file, ok := wholeFileRef(comps.Content[i+1]); ok {
				target := path.Join(path.Dir(b.root), file)
				entries, err := b.load(target)
				if err != nil {
					return nil, err
				}
				if entries.Kind != yaml.MappingNode {
					return nil, fmt.Errorf("%s: components.%s must be a mapping of entries", target, comps.Content[i].Value)
				}
				if comps.Content[i+1], err = b.walk(entries, target, ""); err != nil {
					return nil, err
				}
			}
		}
	}
	// Every path item written must be described.
	var unused []string
	for file, used := range b.inlined {
		node := b.files[file]
		for i := 0; i < len(node.Content); i += 2 {
			if key := node.Content[i].Value; !used[key] {
				unused = append(unused, file+": "+key)
			}
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		return nil, fmt.Errorf("not referenced from %s: %s", b.root, strings.Join(unused, ", "))
	}
	// Every local reference must resolve.
	var dangling []string
	eachRef(out, func(ref string) {
		if _, err := resolvePointer(out, strings.TrimPrefix(ref, "#")); err != nil {
			dangling = append(dangling, ref+" ("+err.Error()+")")
		}
	})
	if len(dangling) > 0 {
		sort.Strings(dangling)
		return nil, fmt.Errorf("%d references do not resolve: %s", len(dangling), strings.Join(dangling, "; "))
	}
	return out, nil
}

// load reads and parses a file once.
func (b *bundler) load(name string) (*yaml.Node, error) {
	if n, ok := b.files[name]; ok {
		return n, nil
	}
	src, err := fs.ReadFile(b.fsys, name)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s: not one YAML document", name)
	}
	b.files[name] = doc.Content[0]
	return doc.Content[0], nil
}

// wholeFileRef reports whether n is {$ref: file} with no fragment.
func wholeFileRef(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "$ref" {
		return "", false
	}
	ref := n.Content[1].Value
	if ref == "" || strings.Contains(ref, "#") {
		return "", false
	}
	return ref, true
}

// walk copies n, written in file at the JSON pointer at, resolving its
// references.
func (b *bundler) walk(n *yaml.Node, file, at string) (*yaml.Node, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return b.walk(n.Alias, file, at)
	case yaml.ScalarNode:
		c := *n
		return &c, nil
	case yaml.SequenceNode:
		c := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i, item := range n.Content {
			w, err := b.walk(item, file, at+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, w)
		}
		return c, nil
	case yaml.MappingNode:
		if ref := lookup(n, "$ref"); ref != nil && ref.Kind == yaml.ScalarNode {
			return b.ref(n, ref.Value, file, at)
		}
		c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		seen := map[string]bool{}
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("%s#%s: a key that is not a string", file, at)
			}
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, fmt.Errorf("%s#%s: merge keys (<<) are not supported", file, at)
			}
			if seen[k.Value] {
				return nil, fmt.Errorf("%s#%s: %q appears twice", file, at, k.Value)
			}
			seen[k.Value] = true
			v, err := b.walk(n.Content[i+1], file, at+"/"+escapeToken(k.Value))
			if err != nil {
				return nil, err
			}
			c.Content = append(c.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.Value}, v)
		}
		return c, nil
	}
	return nil, fmt.Errorf("%s#%s: unexpected YAML node", file, at)
}

// ref handles the mapping n, a Reference Object whose $ref is ref.
func (b *bundler) ref(n *yaml.Node, ref, file, at string) (*yaml.Node, error) {
	where := file + "#" + at
	target, frag, _ := strings.Cut(ref, "#")
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("%s: $ref %q: only JSON pointers are supported after #", where, ref)
	}
	pointer, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("%s: $ref %q: %w", where, ref, err)
	}
	if strings.Contains(target, "://") || strings.HasPrefix(target, "/") {
		return nil, fmt.Errorf("%s: $ref %q: only relative references to files are supported", where, ref)
	}
	if target == "" {
		target = file
	} else {
		target = path.Join(path.Dir(file), target)
	}
	rewrite := func(local string) (*yaml.Node, error) {
		c, err := b.copyRef(n, file, at)
		if err != nil {
			return nil, err
		}
		lookup(c, "$ref").Value = local
		return c, nil
	}
	switch section, isComponents := b.sections[target]; {
	case isComponents && pointer == "" && file == b.root && at == "/components/"+escapeToken(section):
		// The section itself: the file's entries replace it later.
		return b.copyRef(n, file, at)
	case target == b.root:
		return rewrite("#" + pointer)
	case isComponents:
		if pointer == "" {
			return nil, fmt.Errorf("%s: $ref %q names a whole file of components", where, ref)
		}
		return rewrite("#/components/" + escapeToken(section) + pointer)
	}
	// Anything else is inlined: a path item from a file of path items.
	if len(n.Content) != 2 {
		return nil, fmt.Errorf("%s: $ref %q to be inlined has siblings", where, ref)
	}
	if strings.Count(pointer, "/") != 1 {
		return nil, fmt.Errorf("%s: $ref %q: a path item is a top-level entry of its file", where, ref)
	}
	node, err := b.load(target)
	if err != nil {
		return nil, fmt.Errorf("%s: $ref %q: %w", where, ref, err)
	}
	if node.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a mapping", target)
	}
	key := unescapeToken(pointer[1:])
	item := lookup(node, key)
	if item == nil {
		return nil, fmt.Errorf("%s: $ref %q: %s has no %q", where, ref, target, key)
	}
	if b.inlined[target] == nil {
		b.inlined[target] = map[string]bool{}
	}
	if b.inlined[target][key] {
		return nil, fmt.Errorf("%s: $ref %q: %s#%s is referenced twice", where, ref, target, pointer)
	}
	b.inlined[target][key] = true
	if b.active[target+"#"+pointer] {
		return nil, fmt.Errorf("%s: $ref %q: a cycle", where, ref)
	}
	b.active[target+"#"+pointer] = true
	defer delete(b.active, target+"#"+pointer)
	return b.walk(item, target, pointer)
}

// copyRef copies a Reference Object, walking its siblings (summary,
// description) but not its $ref.
func (b *bundler) copyRef(n *yaml.Node, file, at string) (*yaml.Node, error) {
	c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value != "$ref" {
			var err error
			if v, err = b.walk(v, file, at+"/"+escapeToken(k.Value)); err != nil {
				return nil, err
			}
		} else {
			cv := *v
			v = &cv
		}
		c.Content = append(c.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.Value}, v)
	}
	return c, nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// eachRef calls fn with every local $ref under n.
func eachRef(n *yaml.Node, fn func(string)) {
	if n.Kind == yaml.MappingNode {
		if r := lookup(n, "$ref"); r != nil && r.Kind == yaml.ScalarNode && strings.HasPrefix(r.Value, "#") {
			fn(r.Value)
		}
	}
	for _, c := range n.Content {
		eachRef(c, fn)
	}
}

func resolvePointer(n *yaml.Node, pointer string) (*yaml.Node, error) {
	if pointer == "" {
		return n, nil
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, errors.New("not a JSON pointer")
	}
	for _, tok := range strings.Split(pointer[1:], "/") {
		tok = unescapeToken(tok)
		switch n.Kind {
		case yaml.MappingNode:
			if n = lookup(n, tok); n == nil {
				return nil, fmt.Errorf("no %q", tok)
			}
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil, fmt.Errorf("no item %q", tok)
			}
			n = n.Content[i]
		default:
			return nil, fmt.Errorf("%q is inside a scalar", tok)
		}
	}
	return n, nil
}

func escapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// writeJSON writes n as JSON indented by two spaces per level, the way the
// document has always been formatted.
func writeJSON(w *bytes.Buffer, n *yaml.Node, indent string) error {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			w.WriteString("{}")
			return nil
		}
		w.WriteString("{\n")
		for i := 0; i < len(n.Content); i += 2 {
			if i > 0 {
				w.WriteString(",\n")
			}
			w.WriteString(indent + "  ")
			writeString(w, n.Content[i].Value)
			w.WriteString(": ")
			if err := writeJSON(w, n.Content[i+1], indent+"  "); err != nil {
				return err
			}
		}
		w.WriteString("\n" + indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			w.WriteString("[]")
			return nil
		}
		w.WriteString("[\n")
		for i, item := range n.Content {
			if i > 0 {
				w.WriteString(",\n")
			}
			w.WriteString(indent + "  ")
			if err := writeJSON(w, item, indent+"  "); err != nil {
				return err
			}
		}
		w.WriteString("\n" + indent + "]")
	case yaml.ScalarNode:
		return writeScalar(w, n)
	default:
		return fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	return nil
}

func writeScalar(w *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!null":
		w.WriteString("null")
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return err
		}
		w.WriteString(strconv.FormatBool(v))
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		w.WriteString(strconv.FormatInt(v, 10))
	case "!!float":
		var v float64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("line %d: %s is not a JSON number", n.Line, n.Value)
		}
		b, _ := json.Marshal(v)
		w.Write(b)
	case "!!str", "!!timestamp":
		// A plain scalar that YAML reads as a timestamp is, in JSON, the
		// string it was written as.
		writeString(w, n.Value)
	default:
		return fmt.Errorf("line %d: %s values have no JSON form", n.Line, n.ShortTag())
	}
	return nil
}

func writeString(w *bytes.Buffer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
