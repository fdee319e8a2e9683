package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

type invitationRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	AccountSid      string
	Email           string
	Roles           string
	InviterSid      string
	Status          string
	SentCount       int
	LastSentAt      *time.Time
	ExpiresAt       *time.Time
	UserSid         sql.NullString
	DateCreated     time.Time
	DateAnswered    *time.Time
}

func (invitationRow) TableName() string { return "invitations" }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func (r invitationRow) domain() domain.Invitation {
	return domain.Invitation{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, Email: r.Email,
		Roles: strings.Split(r.Roles, ","), InviterSid: r.InviterSid, Status: r.Status, SentCount: r.SentCount,
		LastSentAt: utcPtr(r.LastSentAt), ExpiresAt: utcPtr(r.ExpiresAt), UserSid: r.UserSid.String,
		DateCreated: r.DateCreated.UTC(), DateAnswered: utcPtr(r.DateAnswered),
	}
}

type linkRow struct {
	TokenHash   string `gorm:"primaryKey"`
	Kind        string
	SubjectSid  string
	Version     int
	ExpiresAt   time.Time
	UsedAt      *time.Time
	RevokedAt   *time.Time
	DateCreated time.Time
}

func (linkRow) TableName() string { return "confirmation_links" }

type sentEmailRow struct {
	Sid             string `gorm:"primaryKey"`
	IdemKey         string
	OrganizationSid string
	ToAddress       string
	Template        string
	Subject         string
	BodyText        string
	Transport       string
	WorkflowID      string
	RelatedSid      string
	DateCreated     time.Time
}

func (sentEmailRow) TableName() string { return "sent_emails" }

var errInvitationNotFound = domain.Errorf(domain.ENotFound, 20404, "invitation not found on this account")

// CreateInvitation implements domain.InvitationStore (25101, and 25019
// unless the account accepts new requests).
func (s *Store) CreateInvitation(ctx context.Context, inv domain.Invitation, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		// Under the account's lock: an invitation racing with a closure
		// either commits first (and the closure cancels it) or is refused.
		if _, err := s.openAccountTx(tx, inv.OrganizationSid, inv.AccountSid); err != nil {
			return err
		}
		r := invitationRow{
			Sid: inv.Sid, OrganizationSid: inv.OrganizationSid, AccountSid: inv.AccountSid, Email: inv.Email,
			Roles: strings.Join(inv.Roles, ","), InviterSid: inv.InviterSid, Status: domain.InvitationPending,
			ExpiresAt: inv.ExpiresAt, DateCreated: s.now(),
		}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "%s already has a pending invitation to this account; resend it instead", inv.Email))
		}
		return s.audit(tx, ev)
	})
}

// FindInvitation implements domain.InvitationStore.
func (s *Store) FindInvitation(ctx context.Context, accountSid, sid string) (domain.Invitation, error) {
	var r invitationRow
	q := s.db.WithContext(ctx).Where("sid = ?", sid)
	if accountSid != "" {
		q = q.Where("account_sid = ?", accountSid)
	}
	err := q.Take(&r).Error
	return r.domain(), translate(err, errInvitationNotFound, nil)
}

// ListInvitations implements domain.InvitationStore.
func (s *Store) ListInvitations(ctx context.Context, f domain.InvitationFilter) ([]domain.Invitation, error) {
	status := f.Status
	if status == "" {
		status = domain.InvitationPending
	}
	q := s.db.WithContext(ctx).Model(&invitationRow{}).Where("account_sid = ? AND status = ?", f.AccountSid, status)
	var rows []invitationRow
	if err := keyset(q, "sid", f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.Invitation, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkInvitationSent implements domain.InvitationStore.
func (s *Store) MarkInvitationSent(ctx context.Context, sid string, sentCount int, at, expires time.Time) error {
	at, expires = at.UTC(), expires.UTC()
	return translate(s.db.WithContext(ctx).Model(&invitationRow{}).Where("sid = ?", sid).
		Updates(map[string]any{"sent_count": sentCount, "last_sent_at": at, "expires_at": expires}).Error, nil, nil)
}

// FinishInvitation implements domain.InvitationStore.
func (s *Store) FinishInvitation(ctx context.Context, sid, status, userSid string, ev domain.AuditEvent) (domain.Invitation, error) {
	var out domain.Invitation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur invitationRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errInvitationNotFound, nil)
		}
		if cur.Status == status {
			out = cur.domain()
			return nil
		}
		if cur.Status != domain.InvitationPending {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the invitation is already %s", cur.Status)
		}
		now := s.now()
		cur.Status, cur.DateAnswered, cur.UserSid = status, &now, nullable(userSid)
		if err := tx.Model(&invitationRow{}).Where("sid = ?", sid).
			Updates(map[string]any{"status": status, "date_answered": now, "user_sid": cur.UserSid}).Error; err != nil {
			return translate(err, nil, nil)
		}
		col := "revoked_at"
		if status == domain.InvitationAccepted || status == domain.InvitationDeclined {
			col = "used_at"
		}
		if err := tx.Model(&linkRow{}).Where("subject_sid = ? AND used_at IS NULL AND revoked_at IS NULL", sid).Update(col, now).Error; err != nil {
			return translate(err, nil, nil)
		}
		out = cur.domain()
		return s.audit(tx, ev)
	})
	return out, err
}

// linkVersionLock is the first key of the advisory locks that make
// concurrent next-version issues of one subject's links take turns on
// PostgreSQL (the second key is a hash of the subject's SID).
const linkVersionLock = 0x6c6e6b76 // "lnkv"

var errLinkNotFound = domain.Errorf(domain.ENotFound, 20404, "this link is not valid")

// IssueLink implements domain.InvitationStore. Issuing the same version
// again (a retried activity) changes nothing.
func (s *Store) IssueLink(ctx context.Context, l domain.ConfirmationLink) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if l.Version == 0 {
			// The next version of the subject's links (password links
			// take one each time they are issued). Two issues at once (an
			// operator's link while a workflow emails one) take turns, so
			// each gets its own version and the later supersedes the
			// earlier; SQLite's writers take turns anyway.
			if s.dialect == Postgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?, hashtext(?))", linkVersionLock, l.SubjectSid).Error; err != nil {
					return translate(err, nil, nil)
				}
			}
			var last sql.NullInt64
			if err := tx.Model(&linkRow{}).Where("subject_sid = ?", l.SubjectSid).Select("MAX(version)").Scan(&last).Error; err != nil {
				return translate(err, nil, nil)
			}
			l.Version = int(last.Int64) + 1
		}
		var cur linkRow
		err := tx.Where("subject_sid = ? AND version = ?", l.SubjectSid, l.Version).Take(&cur).Error
		if err == nil {
			if cur.TokenHash != l.TokenHash {
				// A retry with a fresh token: the new one replaces it.
				if err := tx.Model(&linkRow{}).Where("token_hash = ?", cur.TokenHash).Update("token_hash", l.TokenHash).Error; err != nil {
					return translate(err, nil, nil)
				}
			}
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return translate(err, nil, nil)
		}
		now := s.now()
		if err := tx.Model(&linkRow{}).Where("subject_sid = ? AND version < ? AND revoked_at IS NULL AND used_at IS NULL", l.SubjectSid, l.Version).
			Update("revoked_at", now).Error; err != nil {
			return translate(err, nil, nil)
		}
		r := linkRow{TokenHash: l.TokenHash, Kind: l.Kind, SubjectSid: l.SubjectSid, Version: l.Version, ExpiresAt: l.ExpiresAt.UTC(), DateCreated: now}
		return translate(tx.Create(&r).Error, nil, nil)
	})
}

// FindLink implements domain.InvitationStore.
func (s *Store) FindLink(ctx context.Context, tokenHash string) (domain.ConfirmationLink, error) {
	var r linkRow
	if err := s.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&r).Error; err != nil {
		return domain.ConfirmationLink{}, translate(err, errLinkNotFound, nil)
	}
	return domain.ConfirmationLink{
		TokenHash: r.TokenHash, Kind: r.Kind, SubjectSid: r.SubjectSid, Version: r.Version, ExpiresAt: r.ExpiresAt.UTC(),
		UsedAt: utcPtr(r.UsedAt), RevokedAt: utcPtr(r.RevokedAt), DateCreated: r.DateCreated.UTC(),
	}, nil
}

// EmailSent implements domain.InvitationStore.
func (s *Store) EmailSent(ctx context.Context, key string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&sentEmailRow{}).Where("idem_key = ?", key).Count(&n).Error
	return n > 0, translate(err, nil, nil)
}

// RecordEmail implements domain.InvitationStore; recording the same key
// twice keeps the first record.
func (s *Store) RecordEmail(ctx context.Context, e domain.SentEmail) error {
	if e.Sid == "" {
		e.Sid = domain.NewSIDFrom("EM", s.now(), rand.Reader)
	}
	r := sentEmailRow{
		Sid: e.Sid, IdemKey: e.Key, OrganizationSid: e.OrganizationSid, ToAddress: e.To, Template: e.Template,
		Subject: e.Subject, BodyText: e.BodyText, Transport: e.Transport, WorkflowID: e.WorkflowID, RelatedSid: e.RelatedSid,
		DateCreated: s.now(),
	}
	err := s.db.WithContext(ctx).Create(&r).Error
	if err != nil && isDuplicate(err) {
		return nil
	}
	return translate(err, nil, nil)
}

// ListEmails implements domain.InvitationStore.
func (s *Store) ListEmails(ctx context.Context, relatedSid string) ([]domain.SentEmail, error) {
	var rows []sentEmailRow
	if err := s.db.WithContext(ctx).Where("related_sid = ?", relatedSid).Order("sid ASC").Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.SentEmail, len(rows))
	for i, r := range rows {
		out[i] = domain.SentEmail{Sid: r.Sid, Key: r.IdemKey, OrganizationSid: r.OrganizationSid, To: r.ToAddress, Template: r.Template,
			Subject: r.Subject, BodyText: r.BodyText, Transport: r.Transport, WorkflowID: r.WorkflowID, RelatedSid: r.RelatedSid, DateCreated: r.DateCreated.UTC()}
	}
	return out, nil
}

// FindUserByEmailAnywhere implements domain.InvitationStore.
func (s *Store) FindUserByEmailAnywhere(ctx context.Context, email string) (domain.User, error) {
	var r userRow
	err := s.db.WithContext(ctx).Where("user_name = ?", email).Take(&r).Error
	return r.domain(), translate(err, errUserNotFound, nil)
}

// CountInvitationsByStatus implements domain.InvitationStore.
func (s *Store) CountInvitationsByStatus(ctx context.Context) (map[string]int64, error) {
	return s.countByStatus(ctx, &invitationRow{})
}
