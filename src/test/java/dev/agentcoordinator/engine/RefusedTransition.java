package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import org.springframework.jdbc.core.JdbcTemplate;

import java.util.UUID;

/**
 * A real fault for one execution, for the duration of a test: PostgreSQL refuses to move its step rows
 * of one kind to one status (a trigger raises), as a broken statement or a lost connection would fail
 * the coordinator's update. Other executions are untouched.
 */
final class RefusedTransition implements AutoCloseable {
    private final JdbcTemplate jdbc = new JdbcTemplate(TestCoordinator.shared().dataSource());
    private final String trigger = "test_refused_" + UUID.randomUUID().toString().replace("-", "");
    /** Counts the refusals: a sequence is not rolled back with the refused statement's transaction. */
    private final String refusals = trigger + "_count";
    /** Its sequence, function and trigger, each of its own: what the database had before comes back at close. */
    private final DroppedAtClose created = new DroppedAtClose(jdbc);

    private RefusedTransition(String executionId, String stepId, String kind, String status) {
        if (!((executionId == null ? "" : executionId) + (stepId == null ? "" : stepId) + kind + status).matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("not an id: " + executionId + ", " + stepId + ", " + kind + ", " + status);
        }
        try {
            created.create("CREATE SEQUENCE " + refusals, "DROP SEQUENCE IF EXISTS " + refusals);
            created.create("CREATE FUNCTION " + trigger + "() RETURNS trigger AS $$ BEGIN PERFORM nextval(TG_ARGV[0]);"
                    + " RAISE EXCEPTION 'transition refused by the test'; END; $$ LANGUAGE plpgsql",
                    "DROP FUNCTION IF EXISTS " + trigger + "()");
            created.create("CREATE TRIGGER " + trigger + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW "
                    + "WHEN (" + (executionId == null ? "" : "NEW.execution_id = '" + executionId + "' AND ")
                    + (stepId == null ? "" : "NEW.step_id = '" + stepId + "' AND ")
                    + "NEW.kind = '" + kind + "' AND NEW.status = '" + status
                    + "' AND OLD.status <> '" + status + "') EXECUTE FUNCTION " + trigger + "('" + refusals + "')",
                    "DROP TRIGGER IF EXISTS " + trigger + " ON workflow_step_executions");
        } catch (RuntimeException e) {   // no caller's try-with-resources holds it yet
            created.closeAfter(e);
            throw e;
        }
    }

    /** {@code kind} rows ("step", "compensation") of the execution cannot become {@code status} until closed. */
    static RefusedTransition of(String executionId, String kind, String status) {
        return new RefusedTransition(executionId, null, kind, status);
    }

    /** As {@link #of}, for the {@code kind} row of one step only. */
    static RefusedTransition ofStep(String executionId, String stepId, String kind, String status) {
        return new RefusedTransition(executionId, stepId, kind, status);
    }

    /** As {@link #ofStep}, in whichever execution: for a step id no other test's workflow has (an execution not started yet). */
    static RefusedTransition ofStepOfAnyExecution(String stepId, String kind, String status) {
        return new RefusedTransition(null, stepId, kind, status);
    }

    /** How many updates were refused so far. */
    long refusals() {
        Long count = jdbc.queryForObject("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM " + refusals, Long.class);
        return count == null ? 0 : count;
    }

    @Override
    public void close() {
        created.close();
    }
}
