-- Version 3: erasures, and the receive time that retention compares.
--
-- One row per erased client: the latest erasure of it that this member
-- has.  An update of that client whose origin received it no later than
-- erased_at is never stored again.  An erasure takes the next number of
-- the change sequence, as a location does, so that peer links send it
-- (and catch it up after a partition) in the same order; it is dropped
-- after forget_keep.
CREATE TABLE forgotten (
	client_id	TEXT PRIMARY KEY,
	erased_at	TEXT NOT NULL,	-- UTC, 2026-12-06T10:29:05.123456789Z
	origin		TEXT NOT NULL,	-- the member that took the erasure
	seq		INTEGER NOT NULL,
	via		TEXT		-- the peer it came from; NULL: here
);
CREATE INDEX forgotten_seq ON forgotten (seq);
CREATE INDEX forgotten_erased ON forgotten (erased_at);

-- When the origin received each location (client_time plus time_diff),
-- in the same UTC text, so that location_ttl finds expired rows by index.
ALTER TABLE locations ADD COLUMN received TEXT;
UPDATE locations SET received = herd_received(client_time, time_diff);
CREATE INDEX locations_received ON locations (received);

-- The last change number used: rows deleted by an erasure or by
-- retention must not let a restart number new changes again.
ALTER TABLE member ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE member SET last_seq = (SELECT coalesce(max(seq), 0) FROM locations);
