package domain

import (
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// OrgRole is a user's role in its organization.
type OrgRole string

// Organization roles (documented behaviour: one Owner, any number of
// Administrators and Standard users). External users have none.
const (
	OrgRoleOwner         OrgRole = "owner"
	OrgRoleAdministrator OrgRole = "administrator"
	OrgRoleStandard      OrgRole = "standard"
	OrgRoleNone          OrgRole = ""
)

// User is a person. A managed user belongs to an organization (it signed up
// on one of its verified domains or was provisioned by SCIM); an external
// user belongs to none.
type User struct {
	Sid               string
	OrganizationSid   string // empty for an external user
	UserName          string // the primary email, lower-cased
	ExternalID        string
	GivenName         string
	FamilyName        string
	DisplayName       string
	Managed           bool
	OrgRole           OrgRole
	TwoFactorEnrolled bool
	Active            bool
	Locale            string
	Timezone          string
	DateCreated       time.Time
	DateUpdated       time.Time
	Version           int
}

// IsManagedBy reports whether u is a managed user of the organization.
func (u User) IsManagedBy(orgSid string) bool {
	return u.Managed && u.OrganizationSid == orgSid && u.Active
}

// NormalizeEmail validates an email address and returns it lower-cased.
func NormalizeEmail(field, email string) (string, error) {
	e := strings.TrimSpace(email)
	if len(e) < 3 || len(e) > 255 {
		return "", Errorf(EInvalid, CodeInvalidEmail, "%s must be an email address of 3 to 255 characters", field)
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", Errorf(EInvalid, CodeInvalidEmail, "%s must be a plain email address like name@example.com", field)
	}
	at := strings.LastIndexByte(e, '@')
	if at < 1 || !strings.Contains(e[at+1:], ".") {
		return "", Errorf(EInvalid, CodeInvalidEmail, "%s must be an email address with a domain, like name@example.com", field)
	}
	return strings.ToLower(e), nil
}

// EmailDomain returns the domain part of a normalized email address.
func EmailDomain(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}

// Validate checks the fields a caller may set on a user.
func (u User) Validate() error {
	if _, err := NormalizeEmail("userName", u.UserName); err != nil {
		return err
	}
	for field, v := range map[string]string{
		"externalId": u.ExternalID, "displayName": u.DisplayName,
		"name.givenName": u.GivenName, "name.familyName": u.FamilyName,
		"locale": u.Locale, "timezone": u.Timezone,
	} {
		if len(v) > 255 {
			return Errorf(EInvalid, CodeBadRequest, "%s must be at most 255 characters", field)
		}
	}
	switch u.OrgRole {
	case OrgRoleOwner, OrgRoleAdministrator, OrgRoleStandard, OrgRoleNone:
	default:
		return Errorf(EInvalid, CodeBadRequest, "unknown organization role %q", u.OrgRole)
	}
	return nil
}

// UserFilter selects users of an organization (SCIM filters).
type UserFilter struct {
	OrganizationSid string
	UserName        string
	ExternalID      string
	Offset          int
	Limit           int
}

// ParseIfMatch reads the version an If-Match header holds (the ETag of a
// user, such as W/"3"). "*" or an empty header means any version (0).
func ParseIfMatch(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "*" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(raw, "W/"), `"`)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, Errorf(EPreconditionFailed, CodeVersionConflict, `If-Match %q names no version of this user (ETags look like W/"3")`, raw)
	}
	return n, nil
}
