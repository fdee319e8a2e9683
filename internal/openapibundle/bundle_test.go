package openapibundle

import (
	"strings"
	"testing"
	"testing/fstest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

// A small split document and its bundle, byte for byte.
func TestBundle(t *testing.T) {
	fsys := fstest.MapFS{
		"root.yaml": file(`# comments are dropped
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things/{id}:
    $ref: paths/things.yaml#/~1things~1{id}
  /b:
    $ref: 'paths/things.yaml#/~1b'
components:
  schemas:
    $ref: components/schemas.yaml
  responses:
    $ref: components/responses.yaml
  securitySchemes:
    basic: {type: http, scheme: basic}
  x-bodies:
    B: {content: {}}
`),
		"paths/things.yaml": file(`/things/{id}:
  get:
    responses:
      "200":
        description: <a thing> & more
        content:
          application/json:
            schema: {$ref: ../components/schemas.yaml#/Thing}
      "404":
        $ref: ../components/responses.yaml#/NotFound
        description: overridden
/b:
  post:
    requestBody: {$ref: '../root.yaml#/components/x-bodies/B'}
    responses:
      "204": {description: none}
`),
		"components/schemas.yaml": file(`Thing:
  type: object
  properties:
    at: {type: [string, "null"], examples: [2026-01-02T15:04:05Z]}
    n: {type: integer, minimum: 0x10, maximum: 1.5e3}
    flags: {type: array, items: {$ref: '#/Flag'}, default: []}
    nothing: {default: null, const: {}}
Flag: {type: boolean, default: yes, enum: [true, false]}
`),
		"components/responses.yaml": file(`NotFound:
  description: no
  content:
    application/json:
      schema: {$ref: schemas.yaml#/Thing}
`),
	}
	got, err := Bundle(fsys, "root.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "openapi": "3.1.0",
  "info": {
    "title": "t",
    "version": "1"
  },
  "paths": {
    "/things/{id}": {
      "get": {
        "responses": {
          "200": {
            "description": "<a thing> & more",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Thing"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/NotFound",
            "description": "overridden"
          }
        }
      }
    },
    "/b": {
      "post": {
        "requestBody": {
          "$ref": "#/components/x-bodies/B"
        },
        "responses": {
          "204": {
            "description": "none"
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Thing": {
        "type": "object",
        "properties": {
          "at": {
            "type": [
              "string",
              "null"
            ],
            "examples": [
              "2026-01-02T15:04:05Z"
            ]
          },
          "n": {
            "type": "integer",
            "minimum": 16,
            "maximum": 1500
          },
          "flags": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Flag"
            },
            "default": []
          },
          "nothing": {
            "default": null,
            "const": {}
          }
        }
      },
      "Flag": {
        "type": "boolean",
        "default": "yes",
        "enum": [
          true,
          false
        ]
      }
    },
    "responses": {
      "NotFound": {
        "description": "no",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Thing"
            }
          }
        }
      }
    },
    "securitySchemes": {
      "basic": {
        "type": "http",
        "scheme": "basic"
      }
    },
    "x-bodies": {
      "B": {
        "content": {}
      }
    }
  }
}
`
	if string(got) != want {
		t.Errorf("got:\n%s", got)
	}
}

func TestBundleRefuses(t *testing.T) {
	root := `openapi: 3.1.0
paths:
  /a: {$ref: 'paths/a.yaml#/~1a'}
components:
  schemas: {$ref: components/schemas.yaml}
`
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"an unreferenced path item", map[string]string{
			"paths/a.yaml": "/a: {}\n/forgotten: {}\n", "components/schemas.yaml": "A: {}\n",
		}, "paths/a.yaml: /forgotten"},
		{"a dangling reference", map[string]string{
			"paths/a.yaml": "/a: {get: {responses: {'200': {description: x, content: {a/b: {schema: {$ref: ../components/schemas.yaml#/B}}}}}}}\n", "components/schemas.yaml": "A: {}\n",
		}, "#/components/schemas/B"},
		{"a missing path item", map[string]string{
			"paths/a.yaml": "/b: {}\n", "components/schemas.yaml": "A: {}\n",
		}, `has no "/a"`},
		{"a missing file", map[string]string{
			"components/schemas.yaml": "A: {}\n",
		}, "paths/a.yaml"},
		{"a duplicate key", map[string]string{
			"paths/a.yaml": "/a: {}\n", "components/schemas.yaml": "A: {type: object, type: string}\n",
		}, `"type"`},
		{"a remote reference", map[string]string{
			"paths/a.yaml": "/a: {}\n", "components/schemas.yaml": "A: {$ref: 'https://example.com/s.yaml#/A'}\n",
		}, "only relative references"},
		{"a reference outside the tree", map[string]string{
			"paths/a.yaml": "/a: {}\n", "components/schemas.yaml": "A: {$ref: '../../x.yaml#/A'}\n",
		}, "x.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{"openapi.yaml": file(root)}
			for name, body := range c.files {
				fsys[name] = file(body)
			}
			_, err := Bundle(fsys, "openapi.yaml")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got error %v, want one mentioning %s", err, c.want)
			}
		})
	}
}
