-- The chain depth of the execution whose onSuccess / onFailure event is being received (V42); no row
-- when that execution is gone (the retention sweep deleted it): the event is then refused (ChainDepthGuard).
SELECT chain_depth FROM workflow_executions WHERE id = :#chainCause
