-- The error an earlier attempt of a step ended with (step_attempts): a reply to it is ignored, and the
-- log says whether that was to be expected (the attempt was cancelled by request, then the execution retried).
SELECT error FROM step_attempts WHERE step_execution_id = :#rowId AND attempt = CAST(:#replyAttempt AS integer)
