package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** /observe/metrics after a real execution, and the counters for retries and timeouts. */
class MetricsTest {

    @Test
    void executionAndStepMetricsAfterAWorkflowRun() throws Exception {
        HttpResponse<String> posted = OpsCoordinator.post("/api/events",
                "{\"type\":\"INTERVIEW_COMPLETED\",\"payload\":{\"interview_id\":\"i-metrics\",\"user_id\":\"u-metrics\"}}", true);
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        String eventId = new ObjectMapper().readTree(posted.body()).get("event_id").asText();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            String status = OpsDb.text("SELECT status FROM workflow_executions WHERE trigger_event_key = ?", eventId);
            return status != null && !status.equals("running");
        });
        String status = OpsDb.text("SELECT status FROM workflow_executions WHERE trigger_event_key = ?", eventId);

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            String metrics = OpsCoordinator.get("/observe/metrics", true).body();
            assertThat(value(metrics, "coordinator_executions_started_total", "workflow=\"interview_completed\"")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "coordinator_executions_finished_total", "status=\"" + status + "\"", "workflow=\"interview_completed\""))
                    .isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "coordinator_steps_settled_total", "outcome=\"completed\"", "step=\"analyze_interview\"")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "coordinator_steps_dispatched_total", "step=\"analyze_interview\"")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "coordinator_step_duration_seconds_count", "action=\"analyze_transcript\"", "agent=\"interviewer\"",
                    "outcome=\"completed\"")).isGreaterThanOrEqualTo(1);
            assertThat(value(metrics, "coordinator_executions_in_flight", "workflow=\"interview_completed\"")).isGreaterThanOrEqualTo(0);
            assertThat(value(metrics, "coordinator_steps_waiting", "agent=\"interviewer\"")).isGreaterThanOrEqualTo(0);
            assertThat(value(metrics, "coordinator_queue_depth", "queue=\"agent.events\"")).isGreaterThanOrEqualTo(0);
            // what the broker gave up delivering waits for an operator there: an alert needs it
            assertThat(value(metrics, "coordinator_queue_depth", "queue=\"DLA\"")).isGreaterThanOrEqualTo(0);
            // Camel's own per-route meters, named after the workflow's routes
            assertThat(value(metrics, "camel_exchanges_total", "routeId=\"wf.interview_completed~start\"")).isGreaterThanOrEqualTo(1);
        });
    }

    /**
     * A standalone broker made by {@code artemis create} dead-letters to {@code DLQ}, not to the embedded broker's
     * {@code DLA}: its depth is reported too once the broker has it, so that the README's alert on dead letters fires
     * in the production shape (the operator found it missing).
     */
    @Test
    void aStandaloneBrokersDeadLetterQueueIsReportedOnceItExists() throws Exception {
        try (jakarta.jms.Connection connection = OpsCoordinator.shared().connectionFactory().createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            session.createProducer(session.createQueue("DLQ")).send(session.createTextMessage("{\"given up\": true}"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(value(OpsCoordinator.get("/observe/metrics", true).body(),
                    "coordinator_queue_depth", "queue=\"DLQ\"")).isGreaterThanOrEqualTo(1));
            connection.start();
            try (jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue("DLQ"))) {
                assertThat(consumer.receive(5_000)).isNotNull();
            }
        }
    }

    @Test
    void retriesAndTimeoutsAreCounted() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StepLatencyRecorder latencies = new StepLatencyRecorder(OpsCoordinator.shared().dataSource(), registry)) {
            WorkflowMetrics metrics = new WorkflowMetrics(registry, latencies);
            Exchange retry = exchange(Map.of("execution_id", "e1"), Map.of("workflowId", "wf1", "stepId", "s1", "rowId", "no-such-row"));
            metrics.onStatement("retry-step-later", retry);
            Exchange expired = exchange(List.of(
                    Map.of("row_id", "r1", "workflow_id", "wf1", "step_id", "s2", "kind", "step", "status", "pending", "retries_later", true),
                    Map.of("row_id", "r2", "workflow_id", "wf1", "step_id", "s3", "kind", "step", "status", "failed", "retries_later", false)), Map.of());
            metrics.onStatement("expire-attempts", expired);
            Exchange executionTimeout = exchange(List.of(Map.of("execution_id", "e1", "workflow_id", "wf1", "status", "failed")), Map.of());
            metrics.onStatement("expire-executions", executionTimeout);
            Exchange notApplied = exchange(null, Map.of("workflowId", "wf1", "stepId", "s1"));
            metrics.onStatement("retry-step-later", notApplied);
            metrics.onStatement("extend-attempt", exchange(Map.of("execution_id", "e1", "step_id", "s1"), Map.of("workflowId", "wf1", "stepId", "s1")));
            metrics.onStatement("extend-attempt", exchange(null, Map.of("workflowId", "wf1", "stepId", "s1")));
            // a compensation's (or a loop's) correlation id names no workflow: the extended row does
            metrics.onStatement("extend-attempt", exchange(Map.of("execution_id", "e2", "step_id", "s2", "workflow_id", "wf2"), Map.of()));
            metrics.onStatement("find-stopped-attempt", exchange(Map.of("execution_id", "e1", "workflow_id", "wf1", "step_id", "s1",
                    "status", "failed", "attempt", 1), Map.of()));
            // a saga: the failure's finish moves to compensating, which is no end; settling the compensations is
            metrics.onStatement("finish-execution", exchange(Map.of("workflow_id", "wf2", "status", "compensating"), Map.of()));
            metrics.onStatement("settle-compensation", exchange(Map.of("workflow_id", "wf2", "status", "compensated"), Map.of()));

            assertThat(registry.find("coordinator_executions_finished").tags("workflow", "wf2", "status", "compensating").counter()).isNull();
            assertThat(registry.get("coordinator_executions_finished").tags("workflow", "wf2", "status", "compensated").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_step_retries").tags("workflow", "wf1", "step", "s1").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_step_retries").tags("workflow", "wf1", "step", "s2").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_timeouts").tags("workflow", "wf1", "kind", "attempt").counter().count()).isEqualTo(2);
            assertThat(registry.get("coordinator_timeouts").tags("workflow", "wf1", "kind", "execution").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_executions_finished").tags("workflow", "wf1", "status", "failed").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_steps_settled").tags("step", "s3", "outcome", "timed_out").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_heartbeats").tags("workflow", "wf1", "step", "s1", "outcome", "extended").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_heartbeats").tags("workflow", "wf1", "step", "s1", "outcome", "dropped").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_heartbeats").tags("workflow", "wf2", "step", "s2", "outcome", "extended").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_heartbeat_stops").tags("workflow", "wf1", "step", "s1").counter().count()).isEqualTo(1);
        }
    }

    /** The loop step of a loop over several steps completes each iteration but its last in complete-and-iterate-steps.sql. */
    @Test
    void anIterationOfALoopOverSeveralStepsIsASettledAttempt() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StepLatencyRecorder latencies = new StepLatencyRecorder(OpsCoordinator.shared().dataSource(), registry)) {
            WorkflowMetrics metrics = new WorkflowMetrics(registry, latencies);
            metrics.onStatement("complete-and-iterate-steps", exchange(Map.of("iteration", 1, "status", "running"),
                    Map.of("workflowId", "wf3", "stepId", "review", "rowId", "no-such-row", "repeatFrom", "write")));
            assertThat(registry.get("coordinator_steps_settled").tags("workflow", "wf3", "step", "review", "outcome", "completed")
                    .counter().count()).isEqualTo(1);
            // and the next iteration's first step was sent to its agent
            assertThat(registry.get("coordinator_steps_dispatched").tags("workflow", "wf3", "step", "write").counter().count()).isEqualTo(1);
        }
    }

    /** A compensation's start is no step's dispatch (mark-compensation-running is not counted): nor is its reply a settled attempt. */
    @Test
    void aCompensationsReplySettlesNoAttemptOfTheStepItUndoes() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StepLatencyRecorder latencies = new StepLatencyRecorder(OpsCoordinator.shared().dataSource(), registry)) {
            WorkflowMetrics metrics = new WorkflowMetrics(registry, latencies);
            Map<String, Object> compensation = Map.of("workflowId", "wf4", "stepId", "adjust", "rowId", "no-such-row", "kind", "compensation");
            metrics.onStatement("complete-step", exchange(List.of(Map.of("execution_id", "e4")), compensation));
            metrics.onStatement("retry-step-later", exchange(Map.of("execution_id", "e4"), compensation));
            metrics.onStatement("fail-step", exchange(Map.of("execution_id", "e4"), compensation));
            assertThat(registry.find("coordinator_steps_settled").tag("workflow", "wf4").counters()).isEmpty();
            assertThat(registry.find("coordinator_step_retries").tag("workflow", "wf4").counters()).isEmpty();

            // the step's own reply is
            metrics.onStatement("complete-step", exchange(List.of(Map.of("execution_id", "e4")),
                    Map.of("workflowId", "wf4", "stepId", "adjust", "rowId", "no-such-row", "kind", "step")));
            assertThat(registry.get("coordinator_steps_settled").tags("workflow", "wf4", "step", "adjust", "outcome", "completed")
                    .counter().count()).isEqualTo(1);
        }
    }

    /** The attempts in flight a cancel or the workflow's timeout ended: the in_flight column of their statements. */
    @Test
    void attemptsACancelOrTheWorkflowsTimeoutEndedAreSettled() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StepLatencyRecorder latencies = new StepLatencyRecorder(OpsCoordinator.shared().dataSource(), registry)) {
            WorkflowMetrics metrics = new WorkflowMetrics(registry, latencies);
            metrics.onStatement("cancel-execution", exchange(Map.of("execution_id", "e5", "workflow_id", "wf5", "status", "cancelled",
                    "in_flight", "[{\"step_id\": \"hold\", \"request\": \"r5:1\"}]"), Map.of()));
            metrics.onStatement("expire-executions", exchange(List.of(
                    Map.of("execution_id", "e6", "workflow_id", "wf5", "status", "compensating",
                            "in_flight", "[{\"step_id\": \"hold\", \"request\": \"r6:2\"}, {\"step_id\": \"side\", \"request\": \"r7:1\"}]"),
                    Map.of("execution_id", "e7", "workflow_id", "wf5", "status", "failed", "in_flight", "[]")), Map.of()));

            assertThat(registry.get("coordinator_steps_settled").tags("workflow", "wf5", "step", "hold", "outcome", "cancelled")
                    .counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_steps_settled").tags("workflow", "wf5", "step", "hold", "outcome", "execution_timed_out")
                    .counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_steps_settled").tags("workflow", "wf5", "step", "side", "outcome", "execution_timed_out")
                    .counter().count()).isEqualTo(1);
            assertThat(registry.find("coordinator_steps_settled").tag("workflow", "wf5").counters()).hasSize(3);
            assertThat(registry.get("coordinator_executions_finished").tags("workflow", "wf5", "status", "cancelled").counter().count()).isEqualTo(1);
            assertThat(registry.get("coordinator_executions_finished").tags("workflow", "wf5", "status", "failed").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void statementNamesFromSqlEndpointUris() {
        assertThat(WorkflowMetrics.statementName("sql://classpath:sql/start-execution.sql?outputType=SelectList")).isEqualTo("start-execution");
        assertThat(WorkflowMetrics.statementName("sql:classpath:sql/fail-step.sql")).isEqualTo("fail-step");
        assertThat(WorkflowMetrics.statementName("jms://queue:agent.events")).isNull();
    }

    private static Exchange exchange(Object body, Map<String, Object> headers) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody(body);
        exchange.getMessage().setHeaders(new java.util.HashMap<>(headers));
        return exchange;
    }

    /** The value of the first Prometheus sample of {@code name} whose labels contain all of {@code labels}; -1 if none. */
    static double value(String metrics, String name, String... labels) {
        Matcher line = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)} (\\S+)$").matcher(metrics);
        while (line.find()) {
            String found = line.group(1);
            if (List.of(labels).stream().allMatch(found::contains)) {
                return Double.parseDouble(line.group(2));
            }
        }
        return -1;
    }
}
