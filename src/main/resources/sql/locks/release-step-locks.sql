-- JDBC: releases what a holder (execution + step) holds.
DELETE FROM resource_locks WHERE execution_id = ? AND step_id = ?
