package dev.agentcoordinator.engine;

import dev.agentcoordinator.RunningCoordinator;
import org.apache.camel.ProducerTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Reads of a coordinator a test started for itself (its own data folder): events it sent, executions, steps. */
final class OwnCoordinatorProbe {
    private OwnCoordinatorProbe() {
    }

    /** Drops an event of {@code type} with an empty payload on agent.events; its event id. */
    static String send(RunningCoordinator coordinator, String type) {
        String eventId = UUID.randomUUID().toString();
        ProducerTemplate producer = coordinator.camelContext().createProducerTemplate();
        producer.sendBody("jms:queue:agent.events", "{\"type\":\"" + type + "\",\"event_id\":\"" + eventId + "\",\"payload\":{}}");
        return eventId;
    }

    static List<Map<String, Object>> query(RunningCoordinator coordinator, String sql, Object... params) {
        return new JdbcTemplate(coordinator.dataSource()).queryForList(sql, params);
    }

    /** The execution the event started, null while there is none. */
    static String executionOf(RunningCoordinator coordinator, String eventId) {
        return query(coordinator, "SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId).stream()
                .map(r -> (String) r.get("id")).findFirst().orElse(null);
    }

    static String status(RunningCoordinator coordinator, String executionId) {
        return query(coordinator, "SELECT status FROM workflow_executions WHERE id = ?", executionId).stream()
                .map(r -> (String) r.get("status")).findFirst().orElse(null);
    }

    static int version(RunningCoordinator coordinator, String executionId) {
        return ((Number) query(coordinator, "SELECT workflow_version FROM workflow_executions WHERE id = ?", executionId)
                .get(0).get("workflow_version")).intValue();
    }

    /** step:status of every step row of the execution, by step id. */
    static List<String> steps(RunningCoordinator coordinator, String executionId) {
        return query(coordinator, "SELECT step_id || ':' || status AS s FROM workflow_step_executions WHERE execution_id = ?"
                + " AND kind = 'step' ORDER BY step_id", executionId).stream().map(r -> (String) r.get("s")).toList();
    }

    /** The type of the outcome event of the execution (the latest, for one retried). */
    static String outcome(RunningCoordinator coordinator, String executionId) {
        return query(coordinator, "SELECT type FROM agent_events WHERE payload->>'execution_id' = ? AND payload->>'status' = 'completed'",
                executionId).stream().map(r -> (String) r.get("type")).findFirst().orElse(null);
    }
}
