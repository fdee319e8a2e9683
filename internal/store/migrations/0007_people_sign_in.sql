-- People sign in to the console. A user's password is kept as an argon2id
-- hash with its parameters (empty: no password set yet); sessions issued
-- before sessions_valid_after are void ("sign out everywhere", a new
-- password). Console sessions live server-side in sessions, their data
-- opaque (base64) and their owner named so that they can be listed and
-- ended. Audit events keep the caller's user agent.
ALTER TABLE users ADD COLUMN password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN sessions_valid_after {{TIMESTAMP}};
ALTER TABLE audit_events ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

CREATE TABLE sessions (
    token    TEXT PRIMARY KEY,
    user_sid TEXT NOT NULL DEFAULT '',
    data     TEXT NOT NULL,
    expiry   {{TIMESTAMP}} NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);
CREATE INDEX sessions_user ON sessions (user_sid);
