-- Version 1: the locations table that operators query.
-- Text columns hold the exact wire text; latitude and longitude are
-- decoded from location for queries such as "who is near here".
CREATE TABLE locations (
	client_id	TEXT PRIMARY KEY,
	server_id	TEXT NOT NULL,	-- member that received the IAMAT
	time_diff	TEXT NOT NULL,	-- as in its AT line
	location	TEXT NOT NULL,	-- ISO 6709, as sent
	latitude	REAL NOT NULL,
	longitude	REAL NOT NULL,
	client_time	TEXT NOT NULL	-- POSIX seconds, as sent
);
