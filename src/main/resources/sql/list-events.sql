-- One page of the events received, newest first, optionally of one type, after the cursor of the page before
-- (afterMicros and afterId, or NULL for the first page; list_events, V36: planned for each call's values).
SELECT * FROM list_events(CAST(:#typeFilter AS varchar), CAST(:#limit AS integer), CAST(:#afterMicros AS bigint),
                          CAST(:#afterId AS varchar))
