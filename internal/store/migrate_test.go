package store_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgaccounts/orgaccounts/internal/store"
)

func TestMigrations_AreNumberedInOrderStartingWithTheInitialSchema(t *testing.T) {
	t.Parallel()
	ms, err := store.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	assert.Equal(t, 1, ms[0].Version)
	assert.Equal(t, "0001_initial", ms[0].Name)
	assert.Contains(t, ms[0].SQL, "CREATE TABLE accounts")
	for i := 1; i < len(ms); i++ {
		assert.Greater(t, ms[i].Version, ms[i-1].Version, "migrations out of order or numbered twice")
	}
}

// migrationNames lists the checked-in migrations, in order.
func migrationNames(t *testing.T) []string {
	t.Helper()
	ms, err := store.Migrations()
	require.NoError(t, err)
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestMigrate_AppliesTheInitialMigrationOnceAndRecordsIt(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, opts store.Options) {
		ctx := context.Background()
		s := openStore(t, opts)
		before := time.Now().UTC().Add(-time.Minute)

		applied, err := s.Migrate(ctx)
		require.NoError(t, err)
		assert.Equal(t, migrationNames(t), applied, "every migration, in order")
		assert.Equal(t, "0001_initial", applied[0])

		again, err := s.Migrate(ctx)
		require.NoError(t, err)
		assert.Empty(t, again, "a second Migrate must apply nothing")

		var rows []struct {
			Version   int
			Name      string
			AppliedAt time.Time
		}
		require.NoError(t, s.DB().Raw("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").Scan(&rows).Error)
		require.Len(t, rows, len(applied), "one row per migration, none twice")
		assert.Equal(t, 1, rows[0].Version)
		assert.Equal(t, "0001_initial", rows[0].Name)
		for _, r := range rows {
			assert.True(t, r.AppliedAt.After(before), "applied_at %v of %s is not the time of the migration", r.AppliedAt, r.Name)
		}

		pending, err := s.PendingMigrations(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)

		// the schema is really there
		for _, table := range []string{"organizations", "users", "accounts", "role_assignments", "audit_events", "idempotency_keys"} {
			assert.True(t, s.DB().Migrator().HasTable(table), "table %s missing", table)
		}
	})
}

func TestMigrate_OnAMigratedDatabaseFromAnotherProcessAppliesNothing(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, opts store.Options) {
		ctx := context.Background()
		first := openStore(t, opts)
		_, err := first.Migrate(ctx)
		require.NoError(t, err)
		require.NoError(t, first.Close())

		second := openStore(t, opts)
		pending, err := second.PendingMigrations(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)
		applied, err := second.Migrate(ctx)
		require.NoError(t, err)
		assert.Empty(t, applied)
	})
}

func TestMigrate_ConcurrentCallsFromSeparateStoresAllSucceed(t *testing.T) {
	t.Parallel()
	eachDatabase(t, func(t *testing.T, opts store.Options) {
		const n = 4
		stores := make([]*store.Store, n)
		for i := range stores {
			stores[i] = openStore(t, opts)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		applied := make([][]string, n)
		errs := make([]error, n)
		for i := range stores {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				applied[i], errs[i] = stores[i].Migrate(context.Background())
			}(i)
		}
		close(start)
		wg.Wait()

		var all []string
		for i := range stores {
			require.NoError(t, errs[i], "Migrate %d failed", i)
			all = append(all, applied[i]...)
		}
		sort.Strings(all)
		assert.Equal(t, migrationNames(t), all, "each migration is applied by exactly one caller")

		var count int64
		require.NoError(t, stores[0].DB().Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&count).Error)
		assert.Equal(t, int64(len(all)), count)
	})
}

// column is what the schema comparison looks at.
type column struct {
	Type     string
	Nullable bool
}

// normalType maps a dialect's spelling of a column type onto one name.
func normalType(t *testing.T, raw string) string {
	t.Helper()
	switch strings.ToLower(raw) {
	case "text", "varchar", "character varying":
		return "text"
	case "integer", "int", "int4", "int8", "bigint":
		return "integer"
	case "boolean", "bool":
		return "boolean"
	case "timestamptz", "timestamp with time zone", "datetime":
		return "timestamp"
	}
	t.Errorf("unexpected column type %q", raw)
	return raw
}

// schemaOf describes the tables of s: table -> column -> type/nullability.
func schemaOf(t *testing.T, s *store.Store) map[string]map[string]column {
	t.Helper()
	m := s.DB().Migrator()
	tables, err := m.GetTables()
	require.NoError(t, err)
	out := map[string]map[string]column{}
	for _, table := range tables {
		cols, err := m.ColumnTypes(table)
		require.NoError(t, err)
		out[table] = map[string]column{}
		for _, c := range cols {
			nullable, ok := c.Nullable()
			require.True(t, ok, "%s.%s: nullability unknown", table, c.Name())
			if pk, ok := c.PrimaryKey(); ok && pk {
				// SQLite lets a non-INTEGER primary key hold NULL unless
				// NOT NULL is spelled out; PostgreSQL never does. The store
				// never writes a NULL key, so the difference is not compared.
				nullable = false
			}
			out[table][c.Name()] = column{Type: normalType(t, c.DatabaseTypeName()), Nullable: nullable}
		}
	}
	return out
}

// indexesOf lists the named indexes per table (implicit primary key
// indexes left out).
func indexesOf(t *testing.T, s *store.Store) map[string][]string {
	t.Helper()
	var rows []struct{ Table, Name string }
	q := "SELECT tbl_name AS \"table\", name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
	if s.Dialect() == store.Postgres {
		q = "SELECT tablename AS \"table\", indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey'"
	}
	require.NoError(t, s.DB().Raw(q).Scan(&rows).Error)
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Table] = append(out[r.Table], r.Name)
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

func TestSchema_IsTheSameOnBothDialects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	schemas := map[string]map[string]map[string]column{}
	indexes := map[string]map[string][]string{}
	for _, d := range dialects {
		s := openStore(t, d.options(t))
		_, err := s.Migrate(ctx)
		require.NoError(t, err)
		schemas[d.name] = schemaOf(t, s)
		indexes[d.name] = indexesOf(t, s)
	}
	lite, pg := schemas[store.SQLite], schemas[store.Postgres]
	require.NotEmpty(t, lite)
	require.NotEmpty(t, pg)

	tableNames := func(m map[string]map[string]column) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	require.Equal(t, tableNames(lite), tableNames(pg), "the dialects have different tables")
	assert.Contains(t, tableNames(pg), "schema_migrations")
	for table := range pg {
		assert.Equal(t, lite[table], pg[table], "table %s differs between SQLite and PostgreSQL", table)
	}
	assert.Equal(t, indexes[store.SQLite], indexes[store.Postgres], "the dialects have different indexes")
	// spot checks, so that two equally broken schemas do not pass
	assert.Equal(t, column{Type: "text", Nullable: true}, pg["users"]["external_id"])
	assert.Equal(t, column{Type: "timestamp", Nullable: false}, pg["accounts"]["date_created"])
	assert.Equal(t, column{Type: "boolean", Nullable: false}, pg["accounts"]["require_2fa"])
	assert.Equal(t, column{Type: "integer", Nullable: false}, pg["users"]["version"])
	assert.Contains(t, indexes[store.Postgres]["role_assignments"], "role_assignments_one_owner")
}
