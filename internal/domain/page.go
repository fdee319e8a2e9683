package domain

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// Page sizes of the wire contract.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// PageRequest is a decoded page position: keyset pagination over
// time-ordered SIDs, forwards (After) or backwards (Before).
type PageRequest struct {
	Size   int
	Number int    // zero-based page number, for the meta envelope
	After  string // return items with a SID greater than this
	Before string // return items with a SID less than this (previous page)
}

type pageToken struct {
	P int    `json:"p"`
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
}

// ParsePageSize reads a PageSize parameter: empty gives def; anything but
// an integer in 1..maxSize is an error.
func ParsePageSize(raw string, def, maxSize int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxSize {
		return 0, Errorf(EInvalid, CodeBadRequest, "PageSize must be an integer from 1 to %d", maxSize)
	}
	return n, nil
}

// ParsePageToken decodes a PageToken for items whose SIDs have prefix.
// An unreadable token is 25023.
func ParsePageToken(raw, prefix string, size int) (PageRequest, error) {
	req := PageRequest{Size: size}
	if raw == "" {
		return req, nil
	}
	bad := Errorf(EInvalid, CodeInvalidPageToken, "PageToken is invalid or expired")
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 256 {
		return req, bad
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.P < 1 || (t.A == "") == (t.B == "") {
		return req, bad
	}
	if (t.A != "" && !ValidSID(prefix, t.A)) || (t.B != "" && !ValidSID(prefix, t.B)) {
		return req, bad
	}
	req.Number, req.After, req.Before = t.P, t.A, t.B
	if t.B != "" {
		// a token pointing backwards carries the number of the page it
		// leads to plus one, so that a valid token never has P < 1.
		req.Number = t.P - 1
	}
	return req, nil
}

// NextPageToken is the token for the page after one that ended with last.
func NextPageToken(number int, last string) string {
	return encodeToken(pageToken{P: number + 1, A: last})
}

// PrevPageToken is the token for the page before one that began with first.
func PrevPageToken(number int, first string) string {
	return encodeToken(pageToken{P: number, B: first})
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Page is one page of items and what lies around it.
type Page[T any] struct {
	Items   []T
	Number  int
	Size    int
	HasNext bool
	HasPrev bool
}

// PageFrom builds a Page from the items a keyset query returned (up to
// Size+1 of them, in the order of travel) and the request.
func PageFrom[T any](req PageRequest, items []T) Page[T] {
	more := len(items) > req.Size
	if more {
		items = items[:req.Size]
	}
	p := Page[T]{Number: req.Number, Size: req.Size}
	if req.Before != "" {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
		p.HasNext, p.HasPrev = true, more
	} else {
		p.HasNext, p.HasPrev = more, req.Number > 0
	}
	p.Items = items
	return p
}
