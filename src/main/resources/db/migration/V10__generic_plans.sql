-- The statements inside the transition functions are planned once per session, not on every call
-- (issue 7). PL/pgSQL caches their plans, but PostgreSQL's plan cache keeps choosing a custom plan
-- (planned anew for each call's values) when a custom plan looks cheaper than the generic one: for
-- the context read, which a custom plan folds down by its p_with_signals / p_with_signal_list
-- CASE branches, that was every call, 2 ms of planning each. The generic plans use the same indexes,
-- and a CASE branch not taken is not evaluated in either.
ALTER FUNCTION complete_attempt_and_start(varchar, varchar, integer, jsonb, jsonb, jsonb, boolean, boolean, boolean,
                                          jsonb, varchar, boolean, boolean, jsonb)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION finish_execution(varchar, boolean, jsonb) SET plan_cache_mode = force_generic_plan;
