package store

import (
	"database/sql"
	"encoding/json"
	"time"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Rows mirror the tables; domain types stay free of persistence concerns.

type organizationRow struct {
	Sid          string `gorm:"primaryKey"`
	FriendlyName string
	OwnerSid     string
	Require2FA   bool `gorm:"column:require_2fa"`
	DateCreated  time.Time
	DateUpdated  time.Time
}

func (organizationRow) TableName() string { return "organizations" }

func (r organizationRow) domain() domain.Organization {
	return domain.Organization{Sid: r.Sid, FriendlyName: r.FriendlyName, OwnerSid: r.OwnerSid, Require2FA: r.Require2FA, DateCreated: r.DateCreated.UTC(), DateUpdated: r.DateUpdated.UTC()}
}

type userRow struct {
	Sid               string `gorm:"primaryKey"`
	OrganizationSid   sql.NullString
	UserName          string
	ExternalID        sql.NullString `gorm:"column:external_id"`
	GivenName         string
	FamilyName        string
	DisplayName       string
	Managed           bool
	OrgRole           string
	TwoFactorEnrolled bool
	Active            bool
	Locale            string
	Timezone          string
	DateCreated       time.Time
	DateUpdated       time.Time
	Version           int
}

func (userRow) TableName() string { return "users" }

func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func userRowFrom(u domain.User) userRow {
	return userRow{
		Sid: u.Sid, OrganizationSid: nullable(u.OrganizationSid), UserName: u.UserName,
		ExternalID: nullable(u.ExternalID), GivenName: u.GivenName, FamilyName: u.FamilyName,
		DisplayName: u.DisplayName, Managed: u.Managed, OrgRole: string(u.OrgRole),
		TwoFactorEnrolled: u.TwoFactorEnrolled, Active: u.Active, Locale: u.Locale, Timezone: u.Timezone,
		DateCreated: u.DateCreated, DateUpdated: u.DateUpdated, Version: u.Version,
	}
}

func (r userRow) domain() domain.User {
	return domain.User{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid.String, UserName: r.UserName,
		ExternalID: r.ExternalID.String, GivenName: r.GivenName, FamilyName: r.FamilyName,
		DisplayName: r.DisplayName, Managed: r.Managed, OrgRole: domain.OrgRole(r.OrgRole),
		TwoFactorEnrolled: r.TwoFactorEnrolled, Active: r.Active, Locale: r.Locale, Timezone: r.Timezone,
		DateCreated: r.DateCreated.UTC(), DateUpdated: r.DateUpdated.UTC(), Version: r.Version,
	}
}

type domainRow struct {
	Sid               string `gorm:"primaryKey"`
	OrganizationSid   string
	DomainName        string
	Status            string
	VerificationToken string
	DateCreated       time.Time
	DateVerified      *time.Time
	LastCheckedAt     *time.Time
	MissingSince      *time.Time
	RemoveAfter       *time.Time
}

func (domainRow) TableName() string { return "verified_domains" }

type accountRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid sql.NullString
	FriendlyName    string
	Status          string
	Kind            string
	OwnerSid        string
	ParentSid       sql.NullString
	Flex            bool
	Require2FA      bool `gorm:"column:require_2fa"`
	DateCreated     time.Time
	DateUpdated     time.Time
	Version         int
	// Closure dates.
	DateClosureRequested *time.Time
	DateClosed           *time.Time
	PurgeAfter           *time.Time
}

func (accountRow) TableName() string { return "accounts" }

func accountRowFrom(a domain.Account) accountRow {
	return accountRow{
		Sid: a.Sid, OrganizationSid: nullable(a.OrganizationSid), FriendlyName: a.FriendlyName,
		Status: a.Status, Kind: a.Kind, OwnerSid: a.OwnerSid, ParentSid: nullable(a.ParentSid),
		Flex: a.Flex, Require2FA: a.Require2FA, DateCreated: a.DateCreated, DateUpdated: a.DateUpdated,
		Version: a.Version,
	}
}

func (r accountRow) domain() domain.Account {
	return domain.Account{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid.String, FriendlyName: r.FriendlyName,
		Status: r.Status, Kind: r.Kind, OwnerSid: r.OwnerSid, ParentSid: r.ParentSid.String,
		Flex: r.Flex, Require2FA: r.Require2FA, DateCreated: r.DateCreated.UTC(),
		DateUpdated: r.DateUpdated.UTC(), Version: r.Version, DateClosureRequested: utcPtr(r.DateClosureRequested),
		DateClosed: utcPtr(r.DateClosed), PurgeAfter: utcPtr(r.PurgeAfter),
	}
}

type accountResourceRow struct {
	AccountSid  string `gorm:"primaryKey"`
	Kind        string `gorm:"primaryKey"`
	ResourceSid string
	DateCreated time.Time
}

func (accountResourceRow) TableName() string { return "account_resources" }

type roleAssignmentRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	RoleSid         string
	Scope           string
	Identity        string
	DateCreated     time.Time
}

func (roleAssignmentRow) TableName() string { return "role_assignments" }

// pendingStartRow is a lifecycle's workflow start, kept with its record
// until the workflow has done its work (Input is the workflow's input as
// JSON, its kind's domain type).
type pendingStartRow struct {
	SubjectSid      string `gorm:"primaryKey"`
	Kind            string
	OrganizationSid string
	Input           string
	DateCreated     time.Time
	DateStarted     *time.Time
}

func (pendingStartRow) TableName() string { return "pending_starts" }

func (r roleAssignmentRow) domain() domain.RoleAssignment {
	return domain.RoleAssignment{Sid: r.Sid, OrganizationSid: r.OrganizationSid, RoleSid: r.RoleSid, Scope: r.Scope, Identity: r.Identity, DateCreated: r.DateCreated.UTC()}
}

type credentialRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	UserSid         string
	FriendlyName    string
	SecretHash      string
	AccountSid      sql.NullString
	DateCreated     time.Time
	Personal        bool
	DateLastUsed    sql.NullTime
}

func (credentialRow) TableName() string { return "credentials" }

type accessTokenRow struct {
	TokenHash     string `gorm:"primaryKey"`
	CredentialSid string
	ExpiresAt     time.Time
	DateCreated   time.Time
}

func (accessTokenRow) TableName() string { return "access_tokens" }

type eventRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	Actor           string
	CredentialSid   string
	Type            string
	ResourceSid     string
	AccountSid      string
	Changes         string
	SourceIP        string `gorm:"column:source_ip"`
	UserAgent       string `gorm:"column:user_agent"`
	RequestID       string `gorm:"column:request_id"`
	DateCreated     time.Time
}

func (eventRow) TableName() string { return "audit_events" }

func eventRowFrom(ev domain.AuditEvent) eventRow {
	changes := "{}"
	if len(ev.Changes) > 0 {
		if b, err := json.Marshal(ev.Changes); err == nil {
			changes = string(b)
		}
	}
	return eventRow{
		Sid: ev.Sid, OrganizationSid: ev.OrganizationSid, Actor: ev.Actor, CredentialSid: ev.CredentialSid,
		Type: ev.Type, ResourceSid: ev.ResourceSid, AccountSid: ev.AccountSid, Changes: changes, SourceIP: ev.SourceIP,
		UserAgent: ev.UserAgent, RequestID: ev.RequestID, DateCreated: ev.DateCreated,
	}
}

func (r eventRow) domain() domain.AuditEvent {
	var changes map[string]any
	_ = json.Unmarshal([]byte(r.Changes), &changes)
	return domain.AuditEvent{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid, Actor: r.Actor, CredentialSid: r.CredentialSid,
		Type: r.Type, ResourceSid: r.ResourceSid, AccountSid: r.AccountSid, Changes: changes, SourceIP: r.SourceIP,
		UserAgent: r.UserAgent, RequestID: r.RequestID, DateCreated: r.DateCreated.UTC(),
	}
}

type idempotencyRow struct {
	OrganizationSid string `gorm:"primaryKey"`
	IdemKey         string `gorm:"primaryKey"`
	RequestHash     string
	StatusCode      int
	Body            string
	Headers         string
	DateCreated     time.Time
}

func (idempotencyRow) TableName() string { return "idempotency_keys" }
