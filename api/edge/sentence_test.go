package edge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/orgaccounts/orgaccounts/api/edge"
)

// A domain message shown on a page starts with a capital and ends with a
// full stop, whatever its first letter.
func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"the invitation is no longer pending": "The invitation is no longer pending.",
		"  already a sentence.  ":             "Already a sentence.",
		"élan is required":                    "Élan is required.",
		"":                                    "",
	} {
		assert.Equal(t, want, edge.Sentence(in), "Sentence(%q)", in)
	}
}
