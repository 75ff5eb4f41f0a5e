package dev.agentcoordinator.durability;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The accounting of a fault-injection run, from the database and the agents' request log: what was
 * lost, what was dispatched more than once, and whether anything was dispatched after its result
 * had been recorded.
 */
public final class Audit {
    private final OwnedInfrastructure infra;

    public Audit(OwnedInfrastructure infra) {
        this.infra = infra;
    }

    /** status → number of executions of the workflow. */
    public Map<String, Long> executionsByStatus(String workflowId) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Map<String, Object> row : infra.query("SELECT status, count(*) AS n FROM workflow_executions WHERE workflow_id = ? "
                + "GROUP BY status ORDER BY status", workflowId)) {
            counts.put((String) row.get("status"), ((Number) row.get("n")).longValue());
        }
        return counts;
    }

    public long completed(String workflowId) {
        return executionsByStatus(workflowId).getOrDefault("completed", 0L);
    }

    /** Events sent that have no completed execution. */
    public long lost(List<String> eventIds) {
        Set<String> completed = infra.query("SELECT trigger_event_key FROM workflow_executions e WHERE e.status = 'completed' "
                        + "AND e.trigger_event_key = ANY (?)", (Object) eventIds.toArray(String[]::new)).stream()
                .map(r -> (String) r.get("trigger_event_key")).collect(Collectors.toSet());
        return eventIds.stream().filter(id -> !completed.contains(id)).count();
    }

    /** Fan-in joins still waiting or not yet confirmed. */
    public long openJoins() {
        return infra.count("SELECT (SELECT count(*) FROM step_joins) + (SELECT count(*) FROM step_joins_completed)");
    }

    /** The joins left in the repository, with the state of their execution and step, for failure messages. */
    public List<Map<String, Object>> openJoinDetails() {
        return infra.query("SELECT j.tbl, j.id, j.version, e.status AS execution, s.status AS step FROM ("
                + " SELECT 'step_joins' AS tbl, id, version FROM step_joins"
                + " UNION ALL SELECT 'step_joins_completed', id, version FROM step_joins_completed) j"
                + " LEFT JOIN workflow_executions e ON e.id = split_part(j.id, ':', 1)"
                + " LEFT JOIN workflow_step_executions s ON s.execution_id = e.id AND s.step_id = split_part(j.id, ':', 2)"
                + " LIMIT 20");
    }

    /** What the agents' request log says about dispatching. */
    /**
     * {@code resent}: requests the coordinator sent more than once for one attempt (distinct message
     * ids); {@code redeliveredToAgents}: the broker delivering one request message again.
     */
    public record Dispatches(long requests, long distinctAttempts, long resent, long redeliveredToAgents,
                             long afterResultRecorded, List<String> afterResultExamples) {
    }

    /**
     * A request is "after result recorded" when the agent received it after the database had
     * recorded the completion of that step row: the guarantee is that this never happens. A request
     * message counts at its first delivery: these agents acknowledge a request when it arrives and
     * reply later, so a broker restart that loses the acknowledgement delivers the same message again
     * after its reply completed the step. That is the broker's redelivery (counted in
     * {@code redeliveredToAgents}), not the coordinator dispatching again.
     */
    public Dispatches dispatches(List<RecordingAgents.Request> requests, String workflowId) {
        Map<String, Instant> completedAt = new HashMap<>();
        for (Map<String, Object> row : infra.query("SELECT s.id, s.completed_at FROM workflow_step_executions s "
                + "JOIN workflow_executions e ON e.id = s.execution_id WHERE e.workflow_id = ? AND s.status = 'completed'", workflowId)) {
            completedAt.put((String) row.get("id"), ((Timestamp) row.get("completed_at")).toInstant());
        }
        Map<String, Long> perAttempt = requests.stream().collect(Collectors.groupingBy(RecordingAgents.Request::correlationId,
                Collectors.mapping(RecordingAgents.Request::messageId, Collectors.collectingAndThen(Collectors.toSet(), set -> (long) set.size()))));
        long messages = requests.stream().map(RecordingAgents.Request::messageId).distinct().count();
        Map<String, RecordingAgents.Request> firstDeliveries = requests.stream().collect(Collectors.toMap(
                RecordingAgents.Request::messageId, r -> r, (a, b) -> a.receivedAt().isAfter(b.receivedAt()) ? b : a));
        List<String> late = firstDeliveries.values().stream()
                .filter(r -> {
                    Instant done = completedAt.get(rowId(r.correlationId()));
                    return done != null && r.receivedAt().isAfter(done);
                })
                .map(r -> r.stepId() + " of " + r.executionId() + " attempt " + r.attempt() + " received " + r.receivedAt()
                        + " after completion at " + completedAt.get(rowId(r.correlationId())))
                .toList();
        long resent = perAttempt.values().stream().mapToLong(n -> n - 1).sum();
        return new Dispatches(requests.size(), perAttempt.size(), resent, requests.size() - messages, late.size(),
                late.stream().limit(5).toList());
    }

    private static String rowId(String correlationId) {
        return correlationId.substring(0, correlationId.lastIndexOf(':'));
    }

    /**
     * Every attempt that ended timed out, with what the agents saw of it: whether its request
     * arrived and when its reply was sent. Tells a lost request from a lost reply.
     */
    public List<String> timedOutAttempts(String workflowId, RecordingAgents agents) {
        Map<String, RecordingAgents.Request> received = firstRequestPerAttempt(agents);
        return timedOutRows(workflowId).stream()
                .map(row -> {
                    RecordingAgents.Request request = received.get(row.get("row_id") + ":" + row.get("attempt"));
                    return row.get("step_id") + " of " + row.get("execution_id") + " attempt " + row.get("attempt")
                            + " started " + ((Timestamp) row.get("started_at")).toInstant()
                            + (request == null ? " request NOT received" : " request received " + request.receivedAt()
                            + (request.redelivered() ? " (redelivered)" : "") + ", reply sent "
                            + agents.replySentAt(request.correlationId()));
                })
                .toList();
    }

    /**
     * Timed-out attempts whose agent sent the reply before the attempt's deadline: the reply waited
     * in the queue (through an outage, or behind a backlog) and the attempt was called timed out anyway.
     * Attempts the agents answered after their deadline (their own queue was long) are real timeouts.
     */
    public List<String> answeredInTimeButTimedOut(String workflowId, RecordingAgents agents, long timeoutMs) {
        Map<String, RecordingAgents.Request> received = firstRequestPerAttempt(agents);
        return timedOutRows(workflowId).stream()
                .map(row -> {
                    RecordingAgents.Request request = received.get(row.get("row_id") + ":" + row.get("attempt"));
                    Instant sent = request == null ? null : agents.replySentAt(request.correlationId());
                    Instant deadline = ((Timestamp) row.get("started_at")).toInstant().plusMillis(timeoutMs);
                    return sent == null || !sent.isBefore(deadline) ? null
                            : row.get("step_id") + " of " + row.get("execution_id") + " attempt " + row.get("attempt")
                            + ": deadline " + deadline + ", reply sent " + sent
                            + ", timed out " + ((Timestamp) row.get("completed_at")).toInstant();
                })
                .filter(java.util.Objects::nonNull)
                .toList();
    }

    private List<Map<String, Object>> timedOutRows(String workflowId) {
        return infra.query("SELECT a.step_execution_id AS row_id, a.attempt, a.step_id, a.execution_id, a.started_at, a.completed_at "
                + "FROM step_attempts a JOIN workflow_executions e ON e.id = a.execution_id "
                + "WHERE e.workflow_id = ? AND a.status = 'timed_out' ORDER BY a.started_at", workflowId);
    }

    /** attempt key (row id and attempt) -> the first request the agents received for it. */
    private static Map<String, RecordingAgents.Request> firstRequestPerAttempt(RecordingAgents agents) {
        Map<String, RecordingAgents.Request> received = new HashMap<>();
        for (RecordingAgents.Request request : agents.requests()) {
            received.putIfAbsent(attemptKey(request.correlationId()), request);
        }
        return received;
    }

    private static String attemptKey(String correlationId) {
        int at = correlationId.indexOf('@');
        return at < 0 ? correlationId : correlationId.substring(0, at);
    }

    /** Steps handled per coordinator instance (the handled_by column written at dispatch). */
    public Map<String, Long> stepsByInstance(String workflowId) {
        Map<String, Long> split = new LinkedHashMap<>();
        for (Map<String, Object> row : infra.query("SELECT COALESCE(s.handled_by, '?') AS instance, count(*) AS n "
                + "FROM workflow_step_executions s JOIN workflow_executions e ON e.id = s.execution_id "
                + "WHERE e.workflow_id = ? GROUP BY 1 ORDER BY 1", workflowId)) {
            split.put((String) row.get("instance"), ((Number) row.get("n")).longValue());
        }
        return split;
    }
}
