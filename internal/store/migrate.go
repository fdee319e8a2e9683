package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the checked-in migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migration %s is not named NNNN_name.sql", name)
		}
		b, err := migrationFiles.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(name, ".sql"), SQL: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// The advisory lock that serializes migrations across processes on
// PostgreSQL (any constant; "orgacct" in ASCII).
const migrationLock = 0x6f72676163637400

// Migrate applies every migration not yet recorded in schema_migrations,
// each in its own transaction. Several processes may call it at once.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		done := false
		err := s.tx(ctx, func(tx *gorm.DB) error {
			if s.dialect == Postgres {
				if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLock).Error; err != nil {
					return err
				}
			}
			if err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + s.timestampType() + ` NOT NULL)`).Error; err != nil {
				return err
			}
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			for _, stmt := range splitStatements(s.render(m.SQL)) {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("migration %s: %w", m.Name, err)
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return applied, fmt.Errorf("store: %w", err)
		}
		if !done {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

// PendingMigrations lists migrations not yet applied (for readiness).
func (s *Store) PendingMigrations(ctx context.Context) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var have []int
	if err := s.db.WithContext(ctx).Raw("SELECT version FROM schema_migrations").Scan(&have).Error; err != nil {
		return nil, fmt.Errorf("store: reading schema_migrations: %w", err)
	}
	got := map[int]bool{}
	for _, v := range have {
		got[v] = true
	}
	var pending []string
	for _, m := range ms {
		if !got[m.Version] {
			pending = append(pending, m.Name)
		}
	}
	return pending, nil
}

func (s *Store) timestampType() string {
	if s.dialect == Postgres {
		return "TIMESTAMPTZ"
	}
	return "DATETIME"
}

func (s *Store) render(sql string) string {
	return strings.NewReplacer("{{TIMESTAMP}}", s.timestampType(), "{{BOOL}}", "BOOLEAN").Replace(sql)
}

// splitStatements splits a migration on semicolons that end a line, after
// dropping comment lines.
func splitStatements(sql string) []string {
	var b strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(stmt), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}
