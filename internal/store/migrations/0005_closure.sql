-- Closing an account: what an account owns (phone numbers and short codes
-- from an inventory, recurring charges, account-scoped credentials), the
-- record of each release and charge stop, and the closure's dates.

ALTER TABLE accounts ADD COLUMN date_closure_requested {{TIMESTAMP}};
ALTER TABLE accounts ADD COLUMN date_closed {{TIMESTAMP}};
ALTER TABLE accounts ADD COLUMN purge_after {{TIMESTAMP}};
CREATE INDEX accounts_org_status ON accounts (organization_sid, status);

-- An API credential may be scoped to one account: a client of that account
-- uses it, and it stops working the moment the account starts closing.
ALTER TABLE credentials ADD COLUMN account_sid TEXT;
CREATE INDEX credentials_account ON credentials (account_sid);

-- Phone numbers and short codes. A row without an account is in the
-- inventory, free to be acquired again.
CREATE TABLE numbers (
    sid              TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    value            TEXT NOT NULL,
    organization_sid TEXT REFERENCES organizations (sid),
    account_sid      TEXT REFERENCES accounts (sid),
    date_created     {{TIMESTAMP}} NOT NULL,
    date_updated     {{TIMESTAMP}} NOT NULL
);
CREATE UNIQUE INDEX numbers_value ON numbers (kind, value);
CREATE INDEX numbers_account ON numbers (account_sid, kind, sid);

-- Recurring charges.
CREATE TABLE subscriptions (
    sid              TEXT PRIMARY KEY,
    organization_sid TEXT NOT NULL REFERENCES organizations (sid),
    account_sid      TEXT NOT NULL REFERENCES accounts (sid) ON DELETE CASCADE,
    description      TEXT NOT NULL,
    monthly_price    TEXT NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL,
    date_created     {{TIMESTAMP}} NOT NULL,
    date_stopped     {{TIMESTAMP}}
);
CREATE INDEX subscriptions_account ON subscriptions (account_sid, sid);

-- One row per release of a number or stop of a charge, keyed by the
-- idempotency key the closure passed: a retried call finds its row and
-- does nothing. Kept after the account is purged.
CREATE TABLE resource_releases (
    idem_key         TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    resource_sid     TEXT NOT NULL,
    account_sid      TEXT NOT NULL,
    organization_sid TEXT NOT NULL,
    date_created     {{TIMESTAMP}} NOT NULL
);
CREATE INDEX resource_releases_account ON resource_releases (account_sid, kind);
