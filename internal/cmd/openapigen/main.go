// Command openapigen generates what is generated from the OpenAPI
// description: api/openapi.json from the YAML sources in api/openapi, then
// the Go wire types of api/wire from api/openapi.json. go generate runs it
// (see api/openapi.go and api/wire/doc.go):
//
//	openapigen bundle -o api/openapi.json api/openapi/openapi.yaml
//	openapigen wire -config api/wire/oapi-codegen.yaml api/openapi.json
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/orgaccounts/orgaccounts/internal/openapibundle"
	"github.com/orgaccounts/orgaccounts/internal/wiregen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  openapigen bundle -o OUT.json ROOT.yaml       bundle a split OpenAPI document into one JSON file
  openapigen wire -config CONFIG.yaml DOC.json  generate Go types with oapi-codegen, as configured`

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("no command\n%s", usage)
	}
	switch args[0] {
	case "bundle":
		fs := flag.NewFlagSet("bundle", flag.ContinueOnError)
		out := fs.String("o", "", "the JSON file to write")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" || fs.NArg() != 1 {
			return fmt.Errorf("bundle needs -o and one root file\n%s", usage)
		}
		root := fs.Arg(0)
		doc, err := openapibundle.Bundle(os.DirFS(filepath.Dir(root)), filepath.Base(root))
		if err != nil {
			return err
		}
		return writeIfChanged(*out, doc)
	case "wire":
		fs := flag.NewFlagSet("wire", flag.ContinueOnError)
		config := fs.String("config", "", "the oapi-codegen configuration")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *config == "" || fs.NArg() != 1 {
			return fmt.Errorf("wire needs -config and one document\n%s", usage)
		}
		code, out, err := wiregen.Generate(fs.Arg(0), *config)
		if err != nil {
			return err
		}
		return writeIfChanged(out, code)
	default:
		return fmt.Errorf("unknown command %q\n%s", args[0], usage)
	}
}

// writeIfChanged leaves an up-to-date file alone, so that generating again
// changes nothing, not even its time.
func writeIfChanged(name string, data []byte) error {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(name, data, 0o644)
}
