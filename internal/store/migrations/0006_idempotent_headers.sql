-- A replayed answer carries the headers of the first one that a client
-- reads (Content-Type, Location, ETag), as a JSON object.
ALTER TABLE idempotency_keys ADD COLUMN headers TEXT NOT NULL DEFAULT '{}';
