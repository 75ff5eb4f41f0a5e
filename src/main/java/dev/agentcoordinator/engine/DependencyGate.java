package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Predicate;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowStep;

/**
 * Completion predicate of a fan-in: the join is complete when the database says every dependency
 * of the step has settled. Counting arrivals instead would be fooled by a dependency whose done
 * message is delivered twice, or by a retried execution whose other branches completed long ago.
 */
public final class DependencyGate implements Predicate {
    private static final String SETTLED_DEPENDENCIES = """
            SELECT count(*) FROM (
                SELECT DISTINCT ON (step_id) status FROM workflow_step_executions
                 WHERE execution_id = ? AND kind = 'step' AND step_id = ANY (?)
                 ORDER BY step_id, iteration DESC) latest
             WHERE status IN ('completed', 'failed', 'skipped', 'cancelled')""";

    private final DataSource dataSource;
    private final WorkflowCatalog catalog;

    public DependencyGate(DataSource dataSource, WorkflowCatalog catalog) {
        this.dataSource = dataSource;
        this.catalog = catalog;
    }

    /**
     * Whether the context an arrival carries (complete-step.sql reads it in the completing
     * transaction, after the step's own change) already shows every dependency settled. A settled
     * step stays settled, so the database would answer the same and need not be asked; "not yet"
     * may be stale (another dependency settling concurrently) and is left to {@link #matches}.
     */
    @SuppressWarnings("unchecked")
    public boolean settledInCarriedContext(Exchange exchange) {
        Object rows = exchange.getProperty(Headers.CONTEXT_ROWS);
        if (!(rows instanceof List<?> list)) {
            return false;
        }
        List<String> dependencies = dependencies(exchange);
        return !dependencies.isEmpty() && ExecutionContext.fromRows((List<java.util.Map<String, Object>>) list)
                .map(context -> dependencies.stream().allMatch(dependency -> context.step(dependency)
                        .map(state -> state.status().isSettled()).orElse(false)))
                .orElse(false);
    }

    /** Whether the arrival carries its dependency's context (a completed step's arrival does). */
    public static boolean carriesContext(Exchange exchange) {
        return exchange.getProperty(Headers.CONTEXT_ROWS) != null;
    }

    /**
     * The joined step's dependencies in the version its execution runs on. Not by the join's route key: a
     * join read back from the repository carries the key of the coordinator that stored it, which names
     * another version on this one during a rolling deployment (or after an upgrade). Empty when this
     * coordinator cannot find that version: the join is then never complete here.
     */
    private List<String> dependencies(Exchange exchange) {
        org.apache.camel.Message in = exchange.getMessage();
        String joinStep = in.getHeader(FanInRoutes.JOIN_STEP, String.class);
        Integer version = in.getHeader(Headers.WORKFLOW_VERSION, Integer.class);
        java.util.Optional<dev.agentcoordinator.definition.WorkflowDefinition> workflow = version != null
                ? catalog.forVersion(in.getHeader(Headers.WORKFLOW_ID, String.class), version)
                : catalog.resolveRouteKey(in.getHeader(Headers.ROUTE_KEY, String.class));   // a join stored before versions
        return workflow.flatMap(w -> w.step(joinStep)).map(WorkflowStep::dependsOn).orElse(List.of());
    }

    @Override
    public boolean matches(Exchange exchange) {
        String executionId = exchange.getMessage().getHeader(Headers.EXECUTION_ID, String.class);
        List<String> dependencies = dependencies(exchange);
        if (dependencies.isEmpty()) {
            return false;
        }
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(SETTLED_DEPENDENCIES)) {
            statement.setString(1, executionId);
            statement.setArray(2, connection.createArrayOf("varchar", dependencies.toArray()));
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() && rs.getInt(1) == dependencies.size();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read dependencies of execution " + executionId, e);
        }
    }
}
