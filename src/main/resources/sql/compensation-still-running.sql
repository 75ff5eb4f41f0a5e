-- Just before the request of a compensation that a redelivery sends again (load-compensations.sql read it running,
-- started by this very message) leaves: it still runs that attempt. Its reply may have settled it since the read
-- (another consumer took it while this message planned and sent the undos before it), and an undo request was then
-- sent after its compensation was recorded done. Returns the row as mark-compensation-running.sql does; none: not sent.
SELECT attempt, iteration, deadline, agent, action
  FROM workflow_step_executions
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running' AND kind = 'compensation'
