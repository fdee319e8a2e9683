-- The initial schema. {{TIMESTAMP}} and {{BOOL}} are replaced per dialect
-- (TIMESTAMPTZ/BOOLEAN on PostgreSQL, DATETIME/BOOLEAN on SQLite); the rest
-- is SQL both understand, so both produce the same tables and indexes.

CREATE TABLE organizations (
    sid           TEXT PRIMARY KEY,
    friendly_name TEXT NOT NULL,
    owner_sid     TEXT NOT NULL,
    date_created  {{TIMESTAMP}} NOT NULL,
    date_updated  {{TIMESTAMP}} NOT NULL
);

CREATE TABLE users (
    sid                 TEXT PRIMARY KEY,
    organization_sid    TEXT REFERENCES organizations (sid),
    user_name           TEXT NOT NULL,
    external_id         TEXT,
    given_name          TEXT NOT NULL DEFAULT '',
    family_name         TEXT NOT NULL DEFAULT '',
    display_name        TEXT NOT NULL DEFAULT '',
    managed             {{BOOL}} NOT NULL,
    org_role            TEXT NOT NULL DEFAULT '',
    two_factor_enrolled {{BOOL}} NOT NULL DEFAULT FALSE,
    active              {{BOOL}} NOT NULL DEFAULT TRUE,
    locale              TEXT NOT NULL DEFAULT '',
    timezone            TEXT NOT NULL DEFAULT '',
    date_created        {{TIMESTAMP}} NOT NULL,
    date_updated        {{TIMESTAMP}} NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_user_name ON users (user_name);
CREATE UNIQUE INDEX users_org_external_id ON users (organization_sid, external_id);
CREATE INDEX users_org_sid ON users (organization_sid, sid);

CREATE TABLE verified_domains (
    sid                TEXT PRIMARY KEY,
    organization_sid   TEXT NOT NULL REFERENCES organizations (sid),
    domain_name        TEXT NOT NULL,
    status             TEXT NOT NULL,
    verification_token TEXT NOT NULL,
    date_created       {{TIMESTAMP}} NOT NULL,
    date_verified      {{TIMESTAMP}}
);
-- A domain is verified for at most one organization at a time.
CREATE UNIQUE INDEX verified_domains_verified ON verified_domains (domain_name) WHERE status = 'verified';
CREATE INDEX verified_domains_org ON verified_domains (organization_sid);

CREATE TABLE accounts (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT REFERENCES organizations (sid),
    friendly_name    TEXT NOT NULL,
    status           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    owner_sid        TEXT NOT NULL REFERENCES users (sid),
    parent_sid       TEXT REFERENCES accounts (sid),
    flex             {{BOOL}} NOT NULL DEFAULT FALSE,
    require_2fa      {{BOOL}} NOT NULL DEFAULT FALSE,
    date_created     {{TIMESTAMP}} NOT NULL,
    date_updated     {{TIMESTAMP}} NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX accounts_org_sid ON accounts (organization_sid, sid);
CREATE INDEX accounts_owner ON accounts (owner_sid);
CREATE INDEX accounts_parent ON accounts (parent_sid);

CREATE TABLE account_resources (
    account_sid  TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    resource_sid TEXT NOT NULL,
    date_created {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (account_sid, kind)
);

CREATE TABLE role_assignments (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL REFERENCES organizations (sid),
    role_sid         TEXT NOT NULL,
    scope            TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    identity         TEXT NOT NULL REFERENCES users (sid),
    date_created     {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX role_assignments_grant ON role_assignments (scope, identity, role_sid);
-- Exactly one Owner per account.
CREATE UNIQUE INDEX role_assignments_one_owner ON role_assignments (scope) WHERE role_sid = 'IX00000000000000000000000000000101';
CREATE INDEX role_assignments_identity ON role_assignments (identity, sid);
CREATE INDEX role_assignments_org_scope ON role_assignments (organization_sid, scope, sid);

CREATE TABLE credentials (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL REFERENCES organizations (sid),
    user_sid         TEXT NOT NULL REFERENCES users (sid),
    friendly_name    TEXT NOT NULL DEFAULT '',
    secret_hash      TEXT NOT NULL,
    date_created     {{TIMESTAMP}} NOT NULL
);

CREATE TABLE access_tokens (
    token_hash     TEXT PRIMARY KEY,
    credential_sid TEXT NOT NULL REFERENCES credentials (sid) ON DELETE CASCADE,
    expires_at     {{TIMESTAMP}} NOT NULL,
    date_created   {{TIMESTAMP}} NOT NULL
);
CREATE INDEX access_tokens_expiry ON access_tokens (expires_at);

CREATE TABLE audit_events (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL,
    actor            TEXT NOT NULL,
    credential_sid   TEXT NOT NULL DEFAULT '',
    type             TEXT NOT NULL,
    resource_sid     TEXT NOT NULL,
    changes          TEXT NOT NULL DEFAULT '{}',
    source_ip        TEXT NOT NULL DEFAULT '',
    request_id       TEXT NOT NULL DEFAULT '',
    date_created     {{TIMESTAMP}} NOT NULL
);
CREATE INDEX audit_events_org_sid ON audit_events (organization_sid, sid);
CREATE INDEX audit_events_org_resource ON audit_events (organization_sid, resource_sid, sid);
CREATE INDEX audit_events_org_actor ON audit_events (organization_sid, actor, sid);

CREATE TABLE idempotency_keys (
    organization_sid TEXT NOT NULL,
    idem_key         TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    status_code      INTEGER NOT NULL DEFAULT 0,
    body             TEXT NOT NULL DEFAULT '',
    date_created     {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (organization_sid, idem_key)
);
