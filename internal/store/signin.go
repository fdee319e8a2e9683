package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// personRow is the sign-in columns of a user, read apart from userRow so
// that updating a user never touches the password.
type personRow struct {
	Sid                string
	PasswordHash       string
	SessionsValidAfter sql.NullTime
}

// FindPerson implements domain.PersonStore.
func (s *Store) FindPerson(ctx context.Context, userSid string) (domain.User, error) {
	var r userRow
	err := s.db.WithContext(ctx).Where("sid = ?", userSid).Take(&r).Error
	return r.domain(), translate(err, errUserNotFound, nil)
}

// FindPersonByEmail implements domain.PersonStore.
func (s *Store) FindPersonByEmail(ctx context.Context, email string) (domain.Person, error) {
	var r userRow
	if err := s.db.WithContext(ctx).Where("user_name = ?", email).Take(&r).Error; err != nil {
		return domain.Person{}, translate(err, errUserNotFound, nil)
	}
	return s.PersonSignIn(ctx, r.Sid)
}

// PersonSignIn implements domain.PersonStore.
func (s *Store) PersonSignIn(ctx context.Context, userSid string) (domain.Person, error) {
	var r userRow
	if err := s.db.WithContext(ctx).Where("sid = ?", userSid).Take(&r).Error; err != nil {
		return domain.Person{}, translate(err, errUserNotFound, nil)
	}
	var p personRow
	if err := s.db.WithContext(ctx).Table("users").Select("sid, password_hash, sessions_valid_after").Where("sid = ?", userSid).Take(&p).Error; err != nil {
		return domain.Person{}, translate(err, errUserNotFound, nil)
	}
	out := domain.Person{User: r.domain(), PasswordHash: p.PasswordHash}
	if p.SessionsValidAfter.Valid {
		out.SessionsAfter = p.SessionsValidAfter.Time.UTC()
	}
	return out, nil
}

// SetPassword implements domain.PersonStore.
func (s *Store) SetPassword(ctx context.Context, linkHash, userSid, passwordHash string, now time.Time, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&linkRow{}).Where("token_hash = ? AND kind = ? AND subject_sid = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
			linkHash, domain.LinkPassword, userSid, now.UTC()).Update("used_at", now.UTC())
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return errLinkNotFound
		}
		res = tx.Table("users").Where("sid = ? AND active", userSid).
			Updates(map[string]any{"password_hash": passwordHash, "sessions_valid_after": now.UTC()})
		if res.Error != nil {
			return translate(res.Error, nil, nil)
		}
		if res.RowsAffected != 1 {
			return errLinkNotFound
		}
		return s.audit(tx, ev)
	})
}

// EndSessions implements domain.PersonStore.
func (s *Store) EndSessions(ctx context.Context, userSid string, at time.Time, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Table("users").Where("sid = ?", userSid).Update("sessions_valid_after", at.UTC()).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// RecordEvent implements domain.PersonStore.
func (s *Store) RecordEvent(ctx context.Context, ev domain.AuditEvent) error {
	return s.audit(s.db.WithContext(ctx), ev)
}

// HomeOrganization implements domain.PersonStore.
func (s *Store) HomeOrganization(ctx context.Context, u domain.User) (string, error) {
	if u.OrganizationSid != "" {
		return u.OrganizationSid, nil
	}
	var org string
	err := s.db.WithContext(ctx).Table("role_assignments").Select("organization_sid").Where("identity = ?", u.Sid).
		Order("date_created").Limit(1).Scan(&org).Error
	if err != nil {
		return "", translate(err, nil, nil)
	}
	if org == "" {
		return "", domain.Errorf(domain.ENotFound, domain.CodeOrganizationNotFound, "this user holds no role in any organization")
	}
	return org, nil
}

// sessionRow is one console session (alexedwards/scs data, base64).
type sessionRow struct {
	Token  string `gorm:"primaryKey"`
	Data   string
	Expiry time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// Sessions is the console's server-side session store, in the same
// database (it implements scs.CtxStore).
type Sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() Sessions { return Sessions{s: s} }

// FindCtx returns a session's data unless it is missing or expired.
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var r sessionRow
	err := ss.s.db.WithContext(ctx).Where("token = ? AND expiry > ?", token, ss.s.now().UTC()).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	b, err := base64.StdEncoding.DecodeString(r.Data)
	return b, err == nil, err
}

// CommitCtx stores a session.
func (ss Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	r := sessionRow{Token: token, Data: base64.StdEncoding.EncodeToString(b), Expiry: expiry.UTC()}
	return ss.s.db.WithContext(ctx).Save(&r).Error
}

// DeleteCtx removes a session.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	return ss.s.db.WithContext(ctx).Where("token = ?", token).Delete(&sessionRow{}).Error
}

// Find, Commit and Delete are the context-free forms scs.Store asks for.
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// DeleteExpiredSessions removes the sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := s.db.WithContext(ctx).Where("expiry <= ?", s.now().UTC()).Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}
