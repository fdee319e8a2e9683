-- The account an audit event concerns when its resource is something on
-- that account (a role assignment), so GET …/Events?Resource=AC… lists
-- the grants and removals of roles on it.
ALTER TABLE audit_events ADD COLUMN account_sid TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_org_account ON audit_events (organization_sid, account_sid, sid);
-- Earlier role events: the assignment's account while it exists, else the
-- scope recorded in the event's changes.
UPDATE audit_events SET account_sid = (SELECT r.scope FROM role_assignments r WHERE r.sid = audit_events.resource_sid)
    WHERE type IN ('role_assignment.created', 'role_assignment.deleted')
    AND EXISTS (SELECT 1 FROM role_assignments r WHERE r.sid = audit_events.resource_sid);
UPDATE audit_events SET account_sid = (SELECT a.sid FROM accounts a WHERE audit_events.changes LIKE '%"scope":"' || a.sid || '"%')
    WHERE type IN ('role_assignment.created', 'role_assignment.deleted') AND account_sid = ''
    AND EXISTS (SELECT 1 FROM accounts a WHERE audit_events.changes LIKE '%"scope":"' || a.sid || '"%');
