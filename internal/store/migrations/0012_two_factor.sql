-- Two-factor authentication: each user's second factors (an authenticator
-- app's TOTP secret, passkeys) and single-use recovery codes, and the
-- organization-wide "every account requires two-factor authentication".
-- users.two_factor_enrolled (0001) now says "has a confirmed factor": the
-- store keeps it so in the transaction that adds or removes a factor.

ALTER TABLE organizations ADD COLUMN require_2fa {{BOOL}} NOT NULL DEFAULT FALSE;

-- A stand-in enrolment once marked users enrolled without any factor.
UPDATE users SET two_factor_enrolled = FALSE;

CREATE TABLE two_factor_factors (
    sid            TEXT PRIMARY KEY,
    user_sid       TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    friendly_name  TEXT NOT NULL,
    -- A TOTP factor's shared secret (base32); empty for a passkey.
    secret         TEXT NOT NULL DEFAULT '',
    -- A passkey's credential ID (base64url) and its record (JSON).
    credential_id  TEXT,
    credential     TEXT NOT NULL DEFAULT '',
    confirmed      {{BOOL}} NOT NULL DEFAULT FALSE,
    -- The TOTP time step of the last code accepted: each code is good once.
    last_step      BIGINT NOT NULL DEFAULT 0,
    date_created   {{TIMESTAMP}} NOT NULL,
    date_last_used {{TIMESTAMP}}
);
CREATE INDEX two_factor_factors_user ON two_factor_factors (user_sid, sid);
CREATE UNIQUE INDEX two_factor_factors_credential ON two_factor_factors (credential_id);

-- Recovery codes, as SHA-256 hashes; a used code keeps its row with the
-- time it was used.
CREATE TABLE recovery_codes (
    user_sid     TEXT NOT NULL REFERENCES users (sid) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL,
    date_created {{TIMESTAMP}} NOT NULL,
    date_used    {{TIMESTAMP}},
    PRIMARY KEY (user_sid, code_hash)
);
