"""Course set-up: the course file an instructor edits, the course stored in the database,
and the roster import."""
