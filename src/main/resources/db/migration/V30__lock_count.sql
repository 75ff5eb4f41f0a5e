-- How many locks a step's running attempt took (mark-running-with-locks.sql): a loop's iteration renews them
-- for the next one and compares (complete-and-iterate.sql). It compared with the number of lock entries the
-- step declares, so two entries naming one resource in an execution (one lock row) read as a lost lock at
-- every iteration, and the loop gave its lock up between iterations. NULL on rows started before this
-- version: those still compare with the declared number.
ALTER TABLE workflow_step_executions ADD COLUMN lock_count smallint;
