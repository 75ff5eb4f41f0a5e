-- JDBC: releases one acquisition by its lock id (a no-op when it expired and someone else took it).
DELETE FROM resource_locks WHERE id = ?
