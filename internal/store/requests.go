package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

type accountRequestRow struct {
	Sid             string `gorm:"primaryKey"`
	OrganizationSid string
	AccountSid      string
	Kind            string
	RequesterSid    string
	OwnerSid        string
	OwnerEmail      string
	AccountName     string
	Grants          string
	Status          string
	ExpiresAt       time.Time
	SentCount       int
	RemindedAt      *time.Time
	DateCreated     time.Time
	DateEnded       *time.Time
}

func (accountRequestRow) TableName() string { return "account_requests" }

func (r accountRequestRow) domain() domain.AccountRequest {
	var grants []domain.Grant
	_ = json.Unmarshal([]byte(r.Grants), &grants)
	return domain.AccountRequest{
		Sid: r.Sid, OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, Kind: r.Kind, RequesterSid: r.RequesterSid,
		OwnerSid: r.OwnerSid, OwnerEmail: r.OwnerEmail, AccountName: r.AccountName, Grants: grants, Status: r.Status,
		ExpiresAt: r.ExpiresAt.UTC(), SentCount: r.SentCount, RemindedAt: utcPtr(r.RemindedAt), DateCreated: r.DateCreated.UTC(),
		DateEnded: utcPtr(r.DateEnded),
	}
}

var (
	errRequestNotFound = domain.Errorf(domain.ENotFound, 20404, "no such import or share request in this organization")
	errAnyAccount      = domain.Errorf(domain.ENotFound, domain.CodeAccountNotFound, "no account has this SID")
)

// SignUp implements domain.AccountRequestStore.
func (s *Store) SignUp(ctx context.Context, a domain.Account, owner domain.User, authTokenHash string, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		now := s.now()
		owner.DateCreated, owner.DateUpdated, owner.Version = now, now, 1
		u := userRowFrom(owner)
		if err := tx.Create(&u).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeDuplicateUser, "a user with the email %s exists already", owner.UserName))
		}
		a.DateCreated, a.DateUpdated, a.Version = now, now, 1
		r := accountRowFrom(a)
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := tx.Model(&accountRow{}).Where("sid = ?", a.Sid).Update("auth_token_hash", authTokenHash).Error; err != nil {
			return translate(err, nil, nil)
		}
		return s.audit(tx, ev)
	})
}

// FindAnyAccount implements domain.AccountRequestStore.
func (s *Store) FindAnyAccount(ctx context.Context, sid string) (domain.Account, domain.User, error) {
	var a accountRow
	if err := s.db.WithContext(ctx).Where("sid = ?", sid).Take(&a).Error; err != nil {
		return domain.Account{}, domain.User{}, translate(err, errAnyAccount, nil)
	}
	var u userRow
	if err := s.db.WithContext(ctx).Where("sid = ?", a.OwnerSid).Take(&u).Error; err != nil {
		return domain.Account{}, domain.User{}, translate(err, errAnyAccount, nil)
	}
	return a.domain(), u.domain(), nil
}

// lockAnyAccount locks an account row (in any organization or none) for the rest of tx on PostgreSQL
// (SQLite transactions are serialized already).
func (s *Store) lockAnyAccount(tx *gorm.DB, sid string) (accountRow, error) {
	var a accountRow
	q := tx
	if s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Where("sid = ?", sid).Take(&a).Error
	return a, translate(err, errAnyAccount, nil)
}

// CreateAccountRequest implements domain.AccountRequestStore.
func (s *Store) CreateAccountRequest(ctx context.Context, r domain.AccountRequest, ev domain.AuditEvent) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		a, err := s.lockAnyAccount(tx, r.AccountSid)
		if err != nil {
			return err
		}
		if a.OrganizationSid.Valid || a.Kind != domain.AccountStandalone {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "account %s already belongs to an organization", r.AccountSid)
		}
		grants, err := json.Marshal(r.Grants)
		if err != nil {
			return err
		}
		if r.Grants == nil {
			grants = []byte("[]")
		}
		row := accountRequestRow{
			Sid: r.Sid, OrganizationSid: r.OrganizationSid, AccountSid: r.AccountSid, Kind: r.Kind, RequesterSid: r.RequesterSid,
			OwnerSid: r.OwnerSid, OwnerEmail: r.OwnerEmail, AccountName: a.FriendlyName, Grants: string(grants),
			Status: domain.RequestPending, ExpiresAt: r.ExpiresAt.UTC(), DateCreated: s.now(),
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "account %s already has a pending import or share request; it must be answered, cancelled or expire first", r.AccountSid))
		}
		return s.audit(tx, ev)
	})
}

// FindAccountRequest implements domain.AccountRequestStore.
func (s *Store) FindAccountRequest(ctx context.Context, orgSid, sid string) (domain.AccountRequest, error) {
	var r accountRequestRow
	q := s.db.WithContext(ctx).Where("sid = ?", sid)
	if orgSid != "" {
		q = q.Where("organization_sid = ?", orgSid)
	}
	err := q.Take(&r).Error
	return r.domain(), translate(err, errRequestNotFound, nil)
}

// ListAccountRequests implements domain.AccountRequestStore.
func (s *Store) ListAccountRequests(ctx context.Context, f domain.AccountRequestFilter) ([]domain.AccountRequest, error) {
	q := s.db.WithContext(ctx).Model(&accountRequestRow{}).Where("organization_sid = ?", f.OrganizationSid).
		Where("(status = ? OR date_ended > ?)", domain.RequestPending, f.EndedAfter.UTC())
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	var rows []accountRequestRow
	if err := keyset(q, "sid", f.Page).Find(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := make([]domain.AccountRequest, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// MarkRequestSent implements domain.AccountRequestStore.
func (s *Store) MarkRequestSent(ctx context.Context, sid string, sentCount int, at time.Time, reminder bool) error {
	set := map[string]any{"sent_count": sentCount}
	if reminder {
		set["reminded_at"] = at.UTC()
	}
	return translate(s.db.WithContext(ctx).Model(&accountRequestRow{}).Where("sid = ? AND sent_count < ?", sid, sentCount).Updates(set).Error, nil, nil)
}

// endRequest moves a pending request to status in tx and retires its links.
// It reports false when the request already had that status.
func (s *Store) endRequest(tx *gorm.DB, cur *accountRequestRow, status string) (bool, error) {
	if cur.Status == status {
		return false, nil
	}
	if cur.Status != domain.RequestPending {
		return false, domain.Errorf(domain.EConflict, domain.CodeInvalidState, "the request is already %s", cur.Status)
	}
	now := s.now()
	cur.Status, cur.DateEnded = status, &now
	if err := tx.Model(&accountRequestRow{}).Where("sid = ?", cur.Sid).Updates(map[string]any{"status": status, "date_ended": now}).Error; err != nil {
		return false, translate(err, nil, nil)
	}
	col := "revoked_at"
	if status == domain.RequestAccepted || status == domain.RequestDeclined {
		col = "used_at"
	}
	if err := tx.Model(&linkRow{}).Where("subject_sid = ? AND used_at IS NULL AND revoked_at IS NULL", cur.Sid).Update(col, now).Error; err != nil {
		return false, translate(err, nil, nil)
	}
	return true, nil
}

// FinishAccountRequest implements domain.AccountRequestStore.
func (s *Store) FinishAccountRequest(ctx context.Context, sid, status string, ev domain.AuditEvent) (domain.AccountRequest, error) {
	var out domain.AccountRequest
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRequestRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errRequestNotFound, nil)
		}
		changed, err := s.endRequest(tx, &cur, status)
		out = cur.domain()
		if err != nil || !changed {
			return err
		}
		return s.audit(tx, ev)
	})
	return out, err
}

// AcceptAccountRequest implements domain.AccountRequestStore.
func (s *Store) AcceptAccountRequest(ctx context.Context, sid string, ev domain.AuditEvent) (domain.AccountRequest, error) {
	var out domain.AccountRequest
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur accountRequestRow
		if err := tx.Where("sid = ?", sid).Take(&cur).Error; err != nil {
			return translate(err, errRequestNotFound, nil)
		}
		if cur.Status == domain.RequestAccepted {
			out = cur.domain()
			return nil
		}
		a, err := s.lockAnyAccount(tx, cur.AccountSid)
		if err != nil {
			return err
		}
		if a.OrganizationSid.Valid || a.Kind != domain.AccountStandalone {
			return domain.Errorf(domain.EConflict, domain.CodeInvalidState, "account %s joined an organization meanwhile", cur.AccountSid)
		}
		if _, err := s.endRequest(tx, &cur, domain.RequestAccepted); err != nil {
			return err
		}
		req := cur.domain()
		now := s.now()
		kind := domain.AccountManaged
		if req.Kind == domain.RequestShare {
			kind = domain.AccountIndependent
		}
		if err := tx.Model(&accountRow{}).Where("sid = ?", a.Sid).Updates(map[string]any{
			"organization_sid": req.OrganizationSid, "kind": kind, "date_updated": now, "version": a.Version + 1,
		}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if req.Kind == domain.RequestImport {
			// The owner becomes a managed user of the organization.
			if err := tx.Model(&userRow{}).Where("sid = ?", a.OwnerSid).Updates(map[string]any{
				"organization_sid": req.OrganizationSid, "managed": true, "org_role": string(domain.OrgRoleStandard), "date_updated": now,
				"version": gorm.Expr("version + 1"),
			}).Error; err != nil {
				return translate(err, nil, domain.Errorf(domain.EConflict, domain.CodeDuplicateUser, "the owner's external id is taken in this organization"))
			}
		}
		grant := func(role, identity string) error {
			ra := roleAssignmentRow{Sid: domain.NewSIDFrom(domain.PrefixRoleAssignment, now, rand.Reader), OrganizationSid: req.OrganizationSid,
				RoleSid: role, Scope: a.Sid, Identity: identity, DateCreated: now}
			return translate(tx.Create(&ra).Error, nil, nil)
		}
		if err := grant(domain.RoleOwner, a.OwnerSid); err != nil {
			return err
		}
		var granted, skipped []string
		for _, g := range req.Grants {
			var u userRow
			err := tx.Where("sid = ? AND organization_sid = ? AND managed = ? AND active = ?", g.Identity, req.OrganizationSid, true, true).Take(&u).Error
			if errors.Is(err, gorm.ErrRecordNotFound) || g.Identity == a.OwnerSid {
				skipped = append(skipped, g.Identity) // left the organization meanwhile
				continue
			} else if err != nil {
				return translate(err, nil, nil)
			}
			for _, role := range g.Roles {
				if err := grant(role, g.Identity); err != nil {
					return err
				}
			}
			granted = append(granted, g.Identity)
		}
		// The auth token given at sign-up becomes the owner's credential
		// for the account in the organization.
		var hashes []sql.NullString
		if err := tx.Model(&accountRow{}).Where("sid = ?", a.Sid).Pluck("auth_token_hash", &hashes).Error; err != nil {
			return translate(err, nil, nil)
		}
		if len(hashes) == 1 && hashes[0].Valid {
			cred := credentialRow{Sid: domain.AuthTokenCredentialSid(a.Sid), OrganizationSid: req.OrganizationSid, UserSid: a.OwnerSid,
				FriendlyName: "auth token", SecretHash: hashes[0].String, AccountSid: nullable(a.Sid), DateCreated: now}
			if err := tx.Create(&cred).Error; err != nil && !isDuplicate(err) {
				return translate(err, nil, nil)
			}
		}
		if ev.Changes == nil {
			ev.Changes = map[string]any{}
		}
		ev.Changes["request_sid"], ev.Changes["kind"], ev.Changes["owner_sid"] = req.Sid, kind, a.OwnerSid
		if req.Kind == domain.RequestShare {
			ev.Changes["granted"], ev.Changes["skipped"] = granted, skipped
		}
		out = req
		return s.audit(tx, ev)
	})
	return out, err
}

// Relinquish implements domain.AccountRequestStore.
func (s *Store) Relinquish(ctx context.Context, orgSid, accountSid string, ev domain.AuditEvent) (domain.Account, error) {
	var out domain.Account
	err := s.tx(ctx, func(tx *gorm.DB) error {
		a, err := s.lockAnyAccount(tx, accountSid)
		if err != nil || a.OrganizationSid.String != orgSid {
			return errAccountNotFound
		}
		if err := domain.CheckRelinquish(a.domain()); err != nil {
			return err
		}
		var had []roleAssignmentRow
		if err := tx.Where("scope = ?", accountSid).Order("sid").Find(&had).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := tx.Where("scope = ?", accountSid).Delete(&roleAssignmentRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		// The organization's credentials for the account go with its
		// access (the owner's auth token among them: it works again if the
		// account is shared again).
		if err := tx.Where("credential_sid IN (SELECT sid FROM credentials WHERE account_sid = ? AND organization_sid = ?)", accountSid, orgSid).
			Delete(&accessTokenRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		if err := tx.Where("account_sid = ? AND organization_sid = ?", accountSid, orgSid).Delete(&credentialRow{}).Error; err != nil {
			return translate(err, nil, nil)
		}
		now := s.now()
		if err := tx.Model(&accountRow{}).Where("sid = ?", accountSid).Updates(map[string]any{
			"organization_sid": nil, "kind": domain.AccountStandalone, "date_updated": now, "version": a.Version + 1,
		}).Error; err != nil {
			return translate(err, nil, nil)
		}
		access := make([]map[string]string, len(had))
		for i, r := range had {
			access[i] = map[string]string{"identity": r.Identity, "role_sid": r.RoleSid}
		}
		ev.Changes = map[string]any{"removed_access": access, "owner_sid": a.OwnerSid}
		a.OrganizationSid, a.Kind, a.DateUpdated, a.Version = nullable(""), domain.AccountStandalone, now, a.Version+1
		out = a.domain()
		return s.audit(tx, ev)
	})
	return out, err
}

// CountAccountRequests implements domain.AccountRequestStore.
func (s *Store) CountAccountRequests(ctx context.Context) (map[[2]string]int64, error) {
	var rows []struct {
		Kind   string
		Status string
		N      int64
	}
	if err := s.db.WithContext(ctx).Model(&accountRequestRow{}).Select("kind, status, COUNT(*) AS n").Group("kind, status").Scan(&rows).Error; err != nil {
		return nil, translate(err, nil, nil)
	}
	out := map[[2]string]int64{}
	for _, r := range rows {
		out[[2]string{r.Kind, r.Status}] = r.N
	}
	return out, nil
}
