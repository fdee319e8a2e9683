package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Two-factor authentication: factors, recovery codes, and the users'
// enrolled flag, which every method here keeps equal to "has a confirmed
// factor" in the same transaction.

type factorRow struct {
	Sid          string `gorm:"primaryKey"`
	UserSid      string
	Kind         string
	FriendlyName string
	Secret       string
	CredentialID sql.NullString `gorm:"column:credential_id"`
	Credential   string
	Confirmed    bool
	LastStep     int64
	DateCreated  time.Time
	DateLastUsed *time.Time
}

func (factorRow) TableName() string { return "two_factor_factors" }

func factorRowFrom(f domain.Factor) factorRow {
	return factorRow{
		Sid: f.Sid, UserSid: f.UserSid, Kind: f.Kind, FriendlyName: f.FriendlyName, Secret: f.Secret,
		CredentialID: nullable(f.CredentialID), Credential: string(f.Credential), Confirmed: f.Confirmed,
		LastStep: f.LastStep, DateCreated: f.DateCreated, DateLastUsed: f.DateLastUsed,
	}
}

func (r factorRow) domain() domain.Factor {
	f := domain.Factor{
		Sid: r.Sid, UserSid: r.UserSid, Kind: r.Kind, FriendlyName: r.FriendlyName, Secret: r.Secret,
		CredentialID: r.CredentialID.String, Confirmed: r.Confirmed, LastStep: r.LastStep,
		DateCreated: r.DateCreated.UTC(),
	}
	if r.Credential != "" {
		f.Credential = []byte(r.Credential)
	}
	if r.DateLastUsed != nil {
		t := r.DateLastUsed.UTC()
		f.DateLastUsed = &t
	}
	return f
}

type recoveryCodeRow struct {
	UserSid     string `gorm:"primaryKey"`
	CodeHash    string `gorm:"primaryKey"`
	DateCreated time.Time
	DateUsed    *time.Time
}

func (recoveryCodeRow) TableName() string { return "recovery_codes" }

var (
	errFactorNotFound = domain.Errorf(domain.ENotFound, 20404, "you have no such second factor")
	errPasskeyTaken   = domain.Errorf(domain.EConflict, domain.CodeInvalidState, "this passkey is already registered")
)

// TwoFactorStatus returns a user, its confirmed factors (oldest first) and
// how many unused recovery codes it holds (25008 for no such user).
func (s *Store) TwoFactorStatus(ctx context.Context, userSid string) (domain.TwoFactorStatus, error) {
	var st domain.TwoFactorStatus
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("sid = ?", userSid).Take(&u).Error; err != nil {
			return translate(err, errUserNotFound, nil)
		}
		st.User = u.domain()
		var rows []factorRow
		if err := tx.Where("user_sid = ? AND confirmed = ?", userSid, true).Order("sid ASC").Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			st.Factors = append(st.Factors, r.domain())
		}
		var n int64
		if err := tx.Model(&recoveryCodeRow{}).Where("user_sid = ? AND date_used IS NULL", userSid).Count(&n).Error; err != nil {
			return err
		}
		st.RecoveryCodesLeft = int(n)
		return nil
	})
	return st, translate(err, nil, nil)
}

// FindFactor returns a factor of the user, confirmed or not (20404).
func (s *Store) FindFactor(ctx context.Context, userSid, sid string) (domain.Factor, error) {
	var r factorRow
	err := s.db.WithContext(ctx).Where("sid = ? AND user_sid = ?", sid, userSid).Take(&r).Error
	return r.domain(), translate(err, errFactorNotFound, nil)
}

// FindPendingTOTP returns the user's unconfirmed TOTP factor (20404).
func (s *Store) FindPendingTOTP(ctx context.Context, userSid string) (domain.Factor, error) {
	var r factorRow
	err := s.db.WithContext(ctx).Where("user_sid = ? AND kind = ? AND confirmed = ?", userSid, domain.FactorTOTP, false).
		Order("sid DESC").Take(&r).Error
	return r.domain(), translate(err, errFactorNotFound, nil)
}

// StartTOTP stores an unconfirmed TOTP factor in place of the user's
// previous unconfirmed one: 25019 when it already has a confirmed TOTP
// factor (remove that one first).
func (s *Store) StartTOTP(ctx context.Context, f domain.Factor) error {
	f.DateCreated, f.Confirmed = s.now(), false
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockUser(tx, f.UserSid); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&factorRow{}).Where("user_sid = ? AND kind = ? AND confirmed = ?", f.UserSid, domain.FactorTOTP, true).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "you already have an authenticator app: remove it before adding another")
		}
		if err := tx.Where("user_sid = ? AND kind = ? AND confirmed = ?", f.UserSid, domain.FactorTOTP, false).Delete(&factorRow{}).Error; err != nil {
			return err
		}
		r := factorRowFrom(f)
		return tx.Create(&r).Error
	})
}

// ConfirmTOTP confirms the user's pending TOTP factor sid, recording the
// time step of the code that confirmed it, and enrols the user. When
// recoveryHashes are given and the user holds no unused recovery code,
// they become its codes (false is returned when they were not used). ev
// is written in the same transaction. 20404 when there is no such pending
// factor, 25019 when a TOTP factor was confirmed meanwhile.
func (s *Store) ConfirmTOTP(ctx context.Context, userSid, sid string, step int64, recoveryHashes []string, ev domain.AuditEvent) (codesStored bool, err error) {
	now := s.now()
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockUser(tx, userSid); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&factorRow{}).Where("user_sid = ? AND kind = ? AND confirmed = ?", userSid, domain.FactorTOTP, true).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "you already have an authenticator app")
		}
		res := tx.Model(&factorRow{}).Where("sid = ? AND user_sid = ? AND kind = ? AND confirmed = ?", sid, userSid, domain.FactorTOTP, false).
			Updates(map[string]any{"confirmed": true, "last_step": step, "date_last_used": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errFactorNotFound
		}
		codesStored, err = s.enrol(tx, userSid, recoveryHashes, now)
		if err != nil {
			return err
		}
		return s.audit(tx, ev)
	})
	return codesStored, translate(err, nil, nil)
}

// AddPasskey stores a passkey that came out of a registration ceremony, as
// a confirmed factor, and enrols the user (recoveryHashes as for
// ConfirmTOTP). 25019 when the credential is registered already.
func (s *Store) AddPasskey(ctx context.Context, f domain.Factor, recoveryHashes []string, ev domain.AuditEvent) (codesStored bool, err error) {
	now := s.now()
	f.DateCreated, f.Confirmed, f.Kind = now, true, domain.FactorPasskey
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockUser(tx, f.UserSid); err != nil {
			return err
		}
		r := factorRowFrom(f)
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, errPasskeyTaken)
		}
		codesStored, err = s.enrol(tx, f.UserSid, recoveryHashes, now)
		if err != nil {
			return err
		}
		return s.audit(tx, ev)
	})
	return codesStored, translate(err, nil, errPasskeyTaken)
}

// enrol marks the user enrolled and gives it recoveryHashes as its
// recovery codes when it holds no unused one.
func (s *Store) enrol(tx *gorm.DB, userSid string, recoveryHashes []string, now time.Time) (bool, error) {
	if err := tx.Model(&userRow{}).Where("sid = ?", userSid).Updates(map[string]any{"two_factor_enrolled": true, "date_updated": now}).Error; err != nil {
		return false, err
	}
	if len(recoveryHashes) == 0 {
		return false, nil
	}
	var n int64
	if err := tx.Model(&recoveryCodeRow{}).Where("user_sid = ? AND date_used IS NULL", userSid).Count(&n).Error; err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	return true, replaceCodes(tx, userSid, recoveryHashes, now)
}

func replaceCodes(tx *gorm.DB, userSid string, hashes []string, now time.Time) error {
	if err := tx.Where("user_sid = ?", userSid).Delete(&recoveryCodeRow{}).Error; err != nil {
		return err
	}
	rows := make([]recoveryCodeRow, len(hashes))
	for i, h := range hashes {
		rows[i] = recoveryCodeRow{UserSid: userSid, CodeHash: h, DateCreated: now}
	}
	return tx.Create(&rows).Error
}

// ReplaceRecoveryCodes gives an enrolled user new recovery codes; the old
// ones, used or not, stop working. 25019 when the user is not enrolled.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userSid string, hashes []string, ev domain.AuditEvent) error {
	now := s.now()
	return translate(s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockUser(tx, userSid); err != nil {
			return err
		}
		var n int64
		if err := tx.Model(&factorRow{}).Where("user_sid = ? AND confirmed = ?", userSid, true).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "recovery codes come with a second factor: add an authenticator app or a passkey first")
		}
		if err := replaceCodes(tx, userSid, hashes, now); err != nil {
			return err
		}
		return s.audit(tx, ev)
	}), nil, nil)
}

// UseRecoveryCode spends the user's unused recovery code with this hash,
// writing ev; false when it has none such (wrong, or used already).
func (s *Store) UseRecoveryCode(ctx context.Context, userSid, hash string, ev domain.AuditEvent) (bool, error) {
	used := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&recoveryCodeRow{}).Where("user_sid = ? AND code_hash = ? AND date_used IS NULL", userSid, hash).
			Update("date_used", s.now())
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		used = true
		return s.audit(tx, ev)
	})
	return used, translate(err, nil, nil)
}

// UseTOTPStep records step as the last accepted time step of a confirmed
// TOTP factor; false when a code of this step or a later one was accepted
// already (a replay).
func (s *Store) UseTOTPStep(ctx context.Context, sid string, step int64) (bool, error) {
	res := s.db.WithContext(ctx).Model(&factorRow{}).
		Where("sid = ? AND kind = ? AND confirmed = ? AND last_step < ?", sid, domain.FactorTOTP, true, step).
		Updates(map[string]any{"last_step": step, "date_last_used": s.now()})
	return res.RowsAffected == 1, translate(res.Error, nil, nil)
}

// UpdatePasskey keeps a passkey's record as it is after an assertion (its
// signature counter) and when it was used.
func (s *Store) UpdatePasskey(ctx context.Context, sid string, credential []byte) error {
	return translate(s.db.WithContext(ctx).Model(&factorRow{}).Where("sid = ? AND kind = ?", sid, domain.FactorPasskey).
		Updates(map[string]any{"credential": string(credential), "date_last_used": s.now()}).Error, nil, nil)
}

// RemoveFactor deletes a factor of the user (20404). Without a confirmed
// factor left, the user is no longer enrolled and its recovery codes go.
func (s *Store) RemoveFactor(ctx context.Context, userSid, sid string, ev domain.AuditEvent) error {
	now := s.now()
	return translate(s.tx(ctx, func(tx *gorm.DB) error {
		if err := lockUser(tx, userSid); err != nil {
			return err
		}
		res := tx.Where("sid = ? AND user_sid = ?", sid, userSid).Delete(&factorRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errFactorNotFound
		}
		var n int64
		if err := tx.Model(&factorRow{}).Where("user_sid = ? AND confirmed = ?", userSid, true).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := tx.Where("user_sid = ?", userSid).Delete(&recoveryCodeRow{}).Error; err != nil {
				return err
			}
			if err := tx.Model(&userRow{}).Where("sid = ?", userSid).Updates(map[string]any{"two_factor_enrolled": false, "date_updated": now}).Error; err != nil {
				return err
			}
		}
		return s.audit(tx, ev)
	}), nil, nil)
}

// UpdateOrganization sets whether every account of the organization
// requires two-factor authentication, writing ev only when it changes
// (25100).
func (s *Store) UpdateOrganization(ctx context.Context, sid string, require2FA bool, ev domain.AuditEvent) (domain.Organization, error) {
	var org domain.Organization
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r organizationRow
		q := tx
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Where("sid = ?", sid).Take(&r).Error; err != nil {
			return translate(err, errOrgNotFound, nil)
		}
		if r.Require2FA == require2FA {
			org = r.domain()
			return nil
		}
		ev.Changes = map[string]any{"require_2fa": map[string]any{"from": r.Require2FA, "to": require2FA}}
		r.Require2FA, r.DateUpdated = require2FA, s.now()
		if err := tx.Model(&organizationRow{}).Where("sid = ?", sid).
			Updates(map[string]any{"require_2fa": require2FA, "date_updated": r.DateUpdated}).Error; err != nil {
			return err
		}
		org = r.domain()
		return s.audit(tx, ev)
	})
	return org, translate(err, nil, nil)
}

// lockUser takes the user's row lock (PostgreSQL; SQLite has one writer
// at a time anyway), so changes to one user's factors are serialized:
// 25008 when there is no such user.
func lockUser(tx *gorm.DB, userSid string) error {
	q := tx
	if tx.Name() == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r userRow
	return translate(q.Select("sid").Where("sid = ?", userSid).Take(&r).Error, errUserNotFound, nil)
}
