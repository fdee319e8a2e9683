// Package wire holds the Go types of the HTTP API's JSON bodies, generated
// from the OpenAPI description (api/openapi/*.yaml, bundled into
// api/openapi.json) by oapi-codegen: one type per schema of
// components.schemas, named as the schema is, with the JSON names of the
// wire.
//
// A required field is a value. A nullable one (type [T, "null"]) is a
// pointer without omitempty, so that null is written. An optional one is a
// pointer with omitempty, except slices and maps, which are nil when absent.
// Timestamps are strings: RFC 3339, UTC, whole seconds. An enum is a string
// type with a constant per value. Go-specific names and types come from
// overlay.yaml, so the description served at /openapi.json says nothing
// about Go; oapi-codegen.yaml configures the rest.
//
// Change the description, not wire.gen.go, and run go generate ./api/...;
// the tests fail while wire.gen.go is stale, and check that a sample of
// every response type, marshalled, matches the description.
package wire

//go:generate go run ../../internal/cmd/openapigen wire -config oapi-codegen.yaml ../openapi.json
