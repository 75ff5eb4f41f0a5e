package dev.agentcoordinator.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;

import java.util.List;
import java.util.Map;

/**
 * Execution and step counters, fed by watching the engine's state statements complete (Camel sends
 * an {@code ExchangeSentEvent} after each {@code sql:classpath:sql/<name>.sql} call). A transition
 * counts only when its guarded statement reports that it applied, so a redelivered message or a
 * duplicate reply is not counted twice, and the engine's routes need no metrics code. (A step with
 * locks starts over JDBC: {@link #startedWithLocks}.)
 *
 * <p>Meters: {@code coordinator_executions_started_total{workflow}},
 * {@code coordinator_executions_finished_total{workflow,status}},
 * {@code coordinator_steps_dispatched_total{workflow,step}},
 * {@code coordinator_steps_settled_total{workflow,step,outcome}},
 * {@code coordinator_step_retries_total{workflow,step}}, {@code coordinator_timeouts_total{workflow,kind}}
 * and, through {@link StepLatencyRecorder}, {@code coordinator_step_duration_seconds{agent,action,outcome}}.
 */
public final class WorkflowMetrics extends EventNotifierSupport implements dev.agentcoordinator.engine.LockedStartListener {

    private static final String SQL_PREFIX = "sql://classpath:sql/";
    private static final String SQL_PREFIX_SHORT = "sql:classpath:sql/";

    /** The statements that settle a compensation's attempt as a step's (its reply, {@code kind} = compensation). */
    private static final java.util.Set<String> COMPENSATION_REPLIES = java.util.Set.of("complete-step", "fail-step", "retry-step-later");

    private final MeterRegistry registry;
    private final java.util.concurrent.ConcurrentMap<String, Counter> counters = new java.util.concurrent.ConcurrentHashMap<>();
    /** Statement name per endpoint URI (null entries are kept as "" for non-statements). */
    private final java.util.concurrent.ConcurrentMap<String, String> statements = new java.util.concurrent.ConcurrentHashMap<>();
    private final StepLatencyRecorder latencies;

    public WorkflowMetrics(MeterRegistry registry, StepLatencyRecorder latencies) {
        this.registry = registry;
        this.latencies = latencies;
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        // Camel times a send, and so sends its ExchangeSentEvent, only when some notifier took the
        // ExchangeSendingEvent before it: taken here (and dropped) for that reason alone
        setIgnoreExchangeSendingEvents(false);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeSentEvent || event instanceof CamelEvent.ExchangeSendingEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (!(event instanceof CamelEvent.ExchangeSentEvent sent)) {
            return;
        }
        String statement = statements.computeIfAbsent(sent.getEndpoint().getEndpointUri(),
                uri -> java.util.Objects.requireNonNullElse(statementName(uri), ""));
        if (!statement.isEmpty() && sent.getExchange().getException() == null) {
            onStatement(statement, sent.getExchange());
        }
    }

    /** {@code start-execution} for {@code sql://classpath:sql/start-execution.sql?outputType=…}; null otherwise. */
    static String statementName(String uri) {
        if (uri.startsWith(dev.agentcoordinator.engine.Sql.API_COMPONENT + ":")) {   // the HTTP API's (a cancel)
            uri = uri.substring(dev.agentcoordinator.engine.Sql.API_COMPONENT.length() - "sql".length());
        }
        String rest = uri.startsWith(SQL_PREFIX) ? uri.substring(SQL_PREFIX.length())
                : uri.startsWith(SQL_PREFIX_SHORT) ? uri.substring(SQL_PREFIX_SHORT.length()) : null;
        if (rest == null) {
            return null;
        }
        int end = rest.indexOf(".sql");
        return end < 0 ? null : rest.substring(0, end);
    }

    @SuppressWarnings("unchecked")
    void onStatement(String statement, Exchange exchange) {
        Message in = exchange.getMessage();
        String workflow = in.getHeader("workflowId", String.class);
        String step = in.getHeader("stepId", String.class);
        Object body = in.getBody();
        if (COMPENSATION_REPLIES.contains(statement) && "compensation".equals(in.getHeader(dev.agentcoordinator.engine.Headers.KIND))) {
            // a compensation's reply (CompensationRoutes) settles no step attempt: a compensation is no step, and
            // its start is no dispatch (mark-compensation-running, start-due-retries and expire-attempts leave it out)
            return;
        }
        switch (statement) {
            case "start-execution" -> {
                if (in.getHeader("CamelSqlRowCount", 0, Integer.class) > 0) {
                    counter("coordinator_executions_started", "executions started", "workflow", workflow).increment();
                    for (Map<String, Object> row : rows(body)) {
                        if ("running".equals(row.get("status"))) {   // a root that started with its execution
                            counter("coordinator_steps_dispatched", "step attempts sent to agents",
                                    "workflow", workflow, "step", (String) row.get("step_id")).increment();
                        }
                    }
                }
            }
            case "finish-execution", "settle-compensation" -> {
                if (body instanceof Map<?, ?> row) {
                    finished(firstNonNull((String) row.get("workflow_id"), workflow), (String) row.get("status"));
                }
            }
            case "cancel-execution" -> {
                if (body instanceof Map<?, ?> row) {
                    String wf = firstNonNull((String) row.get("workflow_id"), workflow);
                    finished(wf, (String) row.get("status"));
                    stoppedInFlight(wf, row.get("in_flight"), "cancelled");
                }
            }
            case "expire-executions" -> {
                for (Map<String, Object> row : rows(body)) {
                    String wf = (String) row.get("workflow_id");
                    counter("coordinator_timeouts", "attempts and executions past their deadline", "workflow", wf, "kind", "execution").increment();
                    finished(wf, firstNonNull((String) row.get("status"), "failed"));
                    stoppedInFlight(wf, row.get("in_flight"), "execution_timed_out");
                }
            }
            case "delete-expired-executions", "delete-expired-events" -> retentionDeleted(
                    statement.equals("delete-expired-executions") ? "executions" : "events",
                    in.getHeader("CamelSqlUpdateCount", 0, Integer.class));
            case "delete-expired-records" -> {
                if (body instanceof Number deleted) {   // camel-sql's SelectOne of one column: the value itself
                    retentionDeleted("records", deleted.intValue());
                }
            }
            case "mark-running", "mark-running-with-context" -> {
                if (body instanceof Map<?, ?>) {
                    counter("coordinator_steps_dispatched", "step attempts sent to agents", "workflow", workflow, "step", step).increment();
                }
            }
            case "start-due-retries" -> {
                for (Map<String, Object> row : rows(body)) {
                    // a request sent again (its lease ran out, V27) is no new attempt; a compensation is no step
                    if (Boolean.TRUE.equals(row.get("resent")) || "compensation".equals(row.get("kind"))) {
                        continue;
                    }
                    counter("coordinator_steps_dispatched", "step attempts sent to agents",
                            "workflow", (String) row.get("workflow_id"), "step", (String) row.get("step_id")).increment();
                }
            }
            case "complete-step", "complete-and-start", "complete-and-iterate", "complete-and-iterate-steps" -> {
                if (body instanceof Map<?, ?> || (body instanceof List<?> l && !l.isEmpty())) {
                    settled(workflow, step, in, "completed");
                    dispatchedWithCompletion(workflow, body);
                    if (body instanceof Map<?, ?> next && "running".equals(next.get("status"))) {
                        // a loop's next iteration, started by the statement: at its own step, or at its repeat_from
                        counter("coordinator_steps_dispatched", "step attempts sent to agents", "workflow", workflow,
                                "step", firstNonNull(in.getHeader(dev.agentcoordinator.engine.Headers.REPEAT_FROM, String.class), step)).increment();
                    }
                    if (body instanceof List<?> rows && rows.get(0) instanceof Map<?, ?> first && first.get("finished_status") != null) {
                        finished(workflow, (String) first.get("finished_status"));
                    }
                }
            }
            case "fail-step" -> {
                if (body instanceof Map<?, ?>) {
                    settled(workflow, step, in, "failed");
                }
            }
            case "retry-step-later" -> {
                if (body instanceof Map<?, ?>) {
                    retried(workflow, step);
                    settled(workflow, step, in, "retry");
                }
            }
            case "extend-attempt" -> {
                // a loop's or a compensation's correlation id names no workflow: the extended row does
                Map<?, ?> extended = body instanceof Map<?, ?> row ? row : Map.of();
                counter("coordinator_heartbeats", "agents' heartbeats: extended an attempt in flight, or dropped",
                        "workflow", firstNonNull((String) extended.get("workflow_id"), workflow),
                        "step", firstNonNull((String) extended.get("step_id"), step),
                        "outcome", body instanceof Map<?, ?> ? "extended" : "dropped").increment();
            }
            case "find-stopped-attempt" -> {
                if (body instanceof Map<?, ?> row) {
                    counter("coordinator_heartbeat_stops", "agents told to stop an attempt no longer in flight (their heartbeat's answer)",
                            "workflow", firstNonNull((String) row.get("workflow_id"), workflow),
                            "step", firstNonNull((String) row.get("step_id"), step)).increment();
                }
            }
            case "expire-attempts" -> {
                for (Map<String, Object> row : rows(body)) {
                    if (!"step".equals(firstNonNull((String) row.get("kind"), "step"))) {
                        continue;
                    }
                    String wf = (String) row.get("workflow_id");
                    String st = (String) row.get("step_id");
                    counter("coordinator_timeouts", "attempts and executions past their deadline", "workflow", wf, "kind", "attempt").increment();
                    if (Boolean.TRUE.equals(row.get("retries_later"))) {   // pending until its next attempt
                        retried(wf, st);
                    }
                    settled(wf, st, (String) row.get("row_id"), "timed_out");
                }
            }
            default -> {
                // statements that are no transition of interest here
            }
        }
    }

    /** A step with locks started its attempt (it starts over JDBC, see {@link dev.agentcoordinator.engine.LockedStartListener}). */
    @Override
    public void startedWithLocks(String workflowId, String stepId) {
        counter("coordinator_steps_dispatched", "step attempts sent to agents", "workflow", workflowId, "step", stepId).increment();
    }

    /** Dependents complete-and-start.sql started (its "started" column: a JSON list with their step ids). */
    private void dispatchedWithCompletion(String workflow, Object body) {
        if (body instanceof List<?> rows && rows.get(0) instanceof Map<?, ?> first && first.get("started") instanceof String started) {
            for (com.fasterxml.jackson.databind.JsonNode row : dev.agentcoordinator.engine.Json.parse(started)) {
                counter("coordinator_steps_dispatched", "step attempts sent to agents",
                        "workflow", workflow, "step", row.path("step_id").asText()).increment();
            }
        }
    }

    /**
     * The attempts a cancel or an execution timeout ended: its statement's {@code in_flight} column, the step
     * attempts that were running as it found them (a JSON list of {@code {"step_id", "request"}}, V23's
     * requests_in_flight, which leaves compensations out). Their rows end failed, with the execution's error.
     */
    private void stoppedInFlight(String workflow, Object inFlight, String outcome) {
        if (inFlight instanceof String attempts) {
            for (com.fasterxml.jackson.databind.JsonNode attempt : dev.agentcoordinator.engine.Json.parse(attempts)) {
                countSettled(workflow, attempt.path("step_id").asText(), outcome);
            }
        }
    }

    private void finished(String workflow, String status) {
        if ("compensating".equals(status)) {
            return;   // not an end: settle-compensation counts the execution's end (compensated, compensation_failed)
        }
        counter("coordinator_executions_finished", "executions that ended, by final status",
                "workflow", workflow, "status", firstNonNull(status, "unknown")).increment();
    }

    private void retried(String workflow, String step) {
        counter("coordinator_step_retries", "step attempts that will be retried", "workflow", workflow, "step", step).increment();
    }

    /**
     * A reply settled the attempt: its start came back from the transition's statement (or with the
     * reply's step row), no query needed.
     */
    private void settled(String workflow, String step, Message reply, String outcome) {
        java.sql.Timestamp started = attemptStart(reply);
        String agent = reply.getHeader("agent", String.class);
        String action = reply.getHeader("action", String.class);
        if (started != null && agent != null && action != null) {
            countSettled(workflow, step, outcome);
            latencies.record(agent, action, outcome, java.time.Duration.between(started.toInstant(), java.time.Instant.now()));
        } else {
            settled(workflow, step, reply.getHeader("rowId", String.class), outcome);
        }
    }

    private static java.sql.Timestamp attemptStart(Message reply) {
        Object body = reply.getBody();
        Object row = body instanceof List<?> list && !list.isEmpty() ? list.get(0) : body;
        if (row instanceof Map<?, ?> map && map.get("attempt_started_at") instanceof java.sql.Timestamp started) {
            return started;
        }
        return reply.getHeader("attemptStartedAt", java.sql.Timestamp.class);
    }

    private void countSettled(String workflow, String step, String outcome) {
        counter("coordinator_steps_settled", "step attempts that ended, by outcome",
                "workflow", workflow, "step", step, "outcome", outcome).increment();
    }

    private void settled(String workflow, String step, String rowId, String outcome) {
        countSettled(workflow, step, outcome);
        if (rowId != null) {
            latencies.record(rowId, outcome);
        }
    }

    /**
     * The counter of {@code name} with {@code tags}, from a cache: building and registering a meter
     * id on every statement sorted its tags and searched the registry each time.
     */
    /** Rows the retention sweep deleted (RetentionRoutes): executions (with their steps), events, other records. */
    private void retentionDeleted(String what, int rows) {
        if (rows > 0) {
            counter("coordinator_retention_deleted", "rows the retention sweep deleted", "what", what).increment(rows);
        }
    }

    private Counter counter(String name, String description, String... tags) {
        StringBuilder key = new StringBuilder(name);
        for (int i = 1; i < tags.length; i += 2) {
            tags[i] = firstNonNull(tags[i], "unknown");
            key.append('\u0000').append(tags[i - 1]).append('=').append(tags[i]);
        }
        return counters.computeIfAbsent(key.toString(),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rows(Object body) {
        return body instanceof List<?> list ? (List<Map<String, Object>>) list : List.of();
    }

    private static String firstNonNull(String a, String b) {
        return a != null ? a : b;
    }
}
