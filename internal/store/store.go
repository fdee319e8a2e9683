// Package store keeps orgaccounts' state in PostgreSQL or, as the embedded
// default, in a SQLite file, through GORM. Every exported method is one
// transaction; GORM and driver errors are translated into domain errors here
// and never leave the package untranslated.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// Dialects.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Store implements domain.Store.
type Store struct {
	db      *gorm.DB
	dialect string
	clock   domain.Clock
}

var _ domain.Store = (*Store)(nil)

// Options configure Open.
type Options struct {
	// DatabaseURL is a postgres:// URL, or empty for SQLite at SQLitePath.
	DatabaseURL string
	SQLitePath  string
	Clock       domain.Clock
	// MaxOpenConns caps PostgreSQL connections (default 20).
	MaxOpenConns int
}

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Clock == nil {
		opts.Clock = domain.SystemClock{}
	}
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return opts.Clock.Now() },
	}
	s := &Store{clock: opts.Clock}
	var err error
	switch {
	case strings.HasPrefix(opts.DatabaseURL, "postgres://"), strings.HasPrefix(opts.DatabaseURL, "postgresql://"):
		s.dialect = Postgres
		s.db, err = gorm.Open(postgres.Open(opts.DatabaseURL), cfg)
	case opts.DatabaseURL == "":
		s.dialect = SQLite
		if opts.SQLitePath == "" {
			return nil, errors.New("store: no DATABASE_URL and no SQLite path")
		}
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o755); err != nil {
			return nil, fmt.Errorf("store: creating the data directory: %w", err)
		}
		dsn := "file:" + opts.SQLitePath + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
		s.db, err = gorm.Open(sqlite.Open(dsn), cfg)
	default:
		return nil, fmt.Errorf("store: DATABASE_URL must start with postgres:// (or be empty for the embedded SQLite file)")
	}
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", s.dialect, err)
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	if s.dialect == SQLite {
		// One writer at a time is what SQLite allows anyway; one
		// connection avoids "database is locked" between our own calls.
		sqlDB.SetMaxOpenConns(1)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", s.dialect, err)
	}
	return s, nil
}

// Dialect names the database in use.
func (s *Store) Dialect() string { return s.dialect }

// DB exposes the connection for benchmarks and tests that compare against
// raw SQL.
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// now is the time stored, at the microsecond precision PostgreSQL keeps,
// so a value read back equals the value written.
func (s *Store) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// tx runs fn in one transaction.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}

// audit writes ev in tx.
func (s *Store) audit(tx *gorm.DB, ev domain.AuditEvent) error {
	if ev.Type == "" {
		return nil
	}
	now := s.now()
	if ev.Sid == "" {
		ev.Sid = domain.NewSIDFrom(domain.PrefixEvent, now, rand.Reader)
	}
	if ev.DateCreated.IsZero() {
		ev.DateCreated = now
	}
	if ev.Actor == "" {
		ev.Actor = domain.SystemActor.UserSid
	}
	return tx.Create(eventRowFrom(ev)).Error
}

// translate turns driver errors into domain errors where one fits.
func translate(err error, notFound, duplicate *domain.Error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound) && notFound != nil:
		return notFound
	case isDuplicate(err) && duplicate != nil:
		return duplicate
	}
	if _, ok := domain.AsError(err); ok {
		return err
	}
	return fmt.Errorf("store: %w", err)
}

func isDuplicate(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "SQLSTATE 23505")
}

// keyset applies a page request to a query over a table whose primary key
// is a time-ordered SID column.
func keyset(q *gorm.DB, col string, p domain.PageRequest) *gorm.DB {
	switch {
	case p.After != "":
		q = q.Where(col+" > ?", p.After).Order(col + " ASC")
	case p.Before != "":
		q = q.Where(col+" < ?", p.Before).Order(col + " DESC")
	default:
		q = q.Order(col + " ASC")
	}
	return q.Limit(p.Size + 1)
}
