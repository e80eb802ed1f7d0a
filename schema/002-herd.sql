-- Version 2: what a member of a herd keeps beside its clients' locations.
--
-- Every write to locations takes the next number of a change sequence
-- (seq).  A peer link sends the rows above what that peer acknowledged,
-- in seq order, straight from the database: a slow or dead peer costs no
-- memory, and a member that was away catches up on reconnect.  A row
-- keeps only its latest version, which is all a peer needs.
ALTER TABLE locations ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
-- The peer an update came from; NULL for this member's own clients.  It
-- is not sent back there.
ALTER TABLE locations ADD COLUMN via TEXT;
UPDATE locations SET seq = rowid;
CREATE INDEX locations_seq ON locations (seq);

-- The identity of this database, made once.  A peer that finds a new
-- identity behind a member name knows the old data is gone and sends
-- everything again.
CREATE TABLE member (
	db_id		TEXT NOT NULL
);
INSERT INTO member (db_id) VALUES (lower(hex(randomblob(16))));

-- One row per linked peer, kept current by the member for operators.
CREATE TABLE peers (
	name		TEXT PRIMARY KEY,
	address		TEXT NOT NULL,
	state		TEXT NOT NULL,	-- up, or down (and being redialled)
	since		TEXT NOT NULL,	-- last state change, UTC
	acked		INTEGER NOT NULL DEFAULT 0, -- our seq the peer has
	peer_db		TEXT,		-- its database identity
	received	INTEGER NOT NULL DEFAULT 0, -- updates it sent us
	applied		INTEGER NOT NULL DEFAULT 0  -- of those, newer: kept
);
