package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.ProducerTemplate;
import org.springframework.jdbc.core.JdbcTemplate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * One real coordinator (embedded Artemis, embedded PostgreSQL, the engine's routes) shared by the
 * engine tests of a JVM, running the shipped workflows (routes/workflows) and the test workflows of
 * src/test/resources/engine-workflows. Each test
 * uses its own workflow and agent names, so tests don't see each other's messages.
 */
public final class TestCoordinator {
    private static RunningCoordinator shared;

    private TestCoordinator() {
    }

    public static synchronized RunningCoordinator shared() {
        if (shared == null) {
            try {
                Path workflows = Path.of("src/test/resources/engine-workflows");
                Path data = TestFolders.create("coordinator-engine-test");
                CoordinatorSettings settings = settings(data, workflows);
                List<Path> files = new ArrayList<>(WorkflowCatalog.definitionFiles(Path.of("routes/workflows")));
                files.addAll(WorkflowCatalog.definitionFiles(workflows));
                shared = CoordinatorApp.start(settings, WorkflowCatalog.load(files));
                TestFolders.closeThenDeleteAtExit(shared, data);
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the test coordinator", e);
            }
        }
        return shared;
    }

    /**
     * An engine test coordinator's settings: embedded broker and database on free ports, no demo agents, fast
     * sweeps, an event dead-lettered after its third failed delivery (the broker's backoff makes ten take 40 s), bodies of
     * at most 8 MiB (the engine tests' largest other body, a million JSON tokens, is 4 MB on the broker).
     */
    static CoordinatorSettings settings(Path dataDir, Path workflows) {
        return CoordinatorSettings.fromMap(Map.of(
                "data.dir", DatabaseTemplate.seeded(dataDir).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", workflows.toString(),
                "supervisor.period-ms", "50",
                "events.max-deliveries", "3",
                // OversizedBodyUnreadTest's bodies past it are 9 MB, not the 42 MB the default bound would take
                "input.max-message-bytes", String.valueOf(OversizedBodyUnreadTest.BOUND),
                // LockedStepTest's waiters of two priorities
                "locks.priorities", dev.agentcoordinator.locks.LockPriorities.SPEC_DEFAULT + ",g-lock-low:1,g-lock-mid:3"));
    }

    /** A coordinator on the broker and database of {@code owner}, with its own instance id and data folder. */
    static CoordinatorSettings sharing(RunningCoordinator owner, Path workflows, Path dataDir, String instanceId) {
        return CoordinatorSettings.fromMap(Map.of(
                "broker.url", owner.brokerUrl(),
                "db.url", owner.jdbcUrl(),
                "db.user", "postgres",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", workflows.toString(),
                "data.dir", dataDir.toString(),
                "instance-id", instanceId));
    }

    /** Drops an event on agent.events, as a user would; returns its event id. */
    public static String sendEvent(String type, String payloadJson) {
        String eventId = UUID.randomUUID().toString();
        sendRaw("{\"type\":\"" + type + "\",\"event_id\":\"" + eventId + "\",\"payload\":" + payloadJson + "}");
        return eventId;
    }

    public static void sendRaw(String body) {
        ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        try {
            producer.sendBody("jms:queue:agent.events", body);
        } finally {
            try {
                producer.stop();
            } catch (Exception ignored) {
                // nothing to release
            }
        }
    }

    /** Rows of a query against the coordinator's database. */
    public static List<Map<String, Object>> query(String sql, Object... params) {
        return new JdbcTemplate(shared().dataSource()).queryForList(sql, params);
    }

    /** The execution started by an event, or null while there is none. */
    public static String executionOf(String eventId) {
        List<Map<String, Object>> rows = query("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId);
        return rows.isEmpty() ? null : (String) rows.get(0).get("id");
    }

    public static String executionStatus(String executionId) {
        List<Map<String, Object>> rows = query("SELECT status FROM workflow_executions WHERE id = ?", executionId);
        return rows.isEmpty() ? null : (String) rows.get(0).get("status");
    }

    /** step_id → status of the latest iteration of every step. */
    public static Map<String, String> stepStatuses(String executionId) {
        Map<String, String> statuses = new LinkedHashMap<>();
        for (Map<String, Object> row : query("SELECT DISTINCT ON (step_id) step_id, status FROM workflow_step_executions "
                + "WHERE execution_id = ? AND kind = 'step' ORDER BY step_id, iteration DESC", executionId)) {
            statuses.put((String) row.get("step_id"), (String) row.get("status"));
        }
        return statuses;
    }

    public static Map<String, Object> stepRow(String executionId, String stepId) {
        List<Map<String, Object>> rows = query("SELECT status, attempt, error, output::text AS output, input::text AS input, iteration "
                + "FROM workflow_step_executions WHERE execution_id = ? AND step_id = ? AND kind = 'step' ORDER BY iteration DESC LIMIT 1",
                executionId, stepId);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Whether the step's latest row waits for its next attempt: pending, with the time it is due (V22). */
    public static boolean waitingForNextAttempt(String executionId, String stepId) {
        return !query("SELECT 1 FROM (SELECT status, next_attempt_at FROM workflow_step_executions WHERE execution_id = ? AND step_id = ? "
                + "AND kind = 'step' ORDER BY iteration DESC LIMIT 1) s WHERE s.status = 'pending' AND s.next_attempt_at IS NOT NULL",
                executionId, stepId).isEmpty();
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
