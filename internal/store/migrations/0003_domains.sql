-- Verification of further domains through a DNS TXT record: when the
-- record was last looked up, and, for a verified domain whose record
-- vanished, since when and until when it may stay.

ALTER TABLE verified_domains ADD COLUMN last_checked_at {{TIMESTAMP}};
ALTER TABLE verified_domains ADD COLUMN missing_since {{TIMESTAMP}};
ALTER TABLE verified_domains ADD COLUMN remove_after {{TIMESTAMP}};
-- One live (pending or verified) row per organization and name.
CREATE UNIQUE INDEX verified_domains_org_live ON verified_domains (organization_sid, domain_name) WHERE status IN ('pending', 'verified');
