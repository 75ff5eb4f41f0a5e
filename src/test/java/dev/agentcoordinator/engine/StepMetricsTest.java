package dev.agentcoordinator.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * coordinator_steps_dispatched_total and coordinator_steps_settled_total agree on a real coordinator: every
 * attempt sent ends once, so once nothing is in flight, what was dispatched has settled. Each method runs one
 * execution of a workflow of its own (m_metrics_*), whose counters start at nothing.
 */
class StepMetricsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("m-metrics-agent", r -> switch (r.action()) {
            case "publish_fails" -> List.of(Reply.error("publisher refused", false));
            case "hold" -> List.of();   // never answers: a cancel or the workflow's timeout ends the attempt
            default -> List.of(Reply.ok(Map.of("done", r.action())));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    /** The operator's case: a compensation's reply was counted as a completed attempt of the step it undoes. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCompensationIsNeitherDispatchedNorSettledAsItsStep() {
        String executionId = ExecutionProbe.awaitExecution(sendEvent("M_METRICS_SAGA", "{}"), "compensated");
        assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'", executionId))
                .extracting(r -> r.get("status")).containsExactly("completed");

        // settle-compensation ended the execution after the compensation's reply was counted, on the same exchange
        assertThat(count("coordinator_steps_dispatched", "m_metrics_saga", "adjust", null)).isEqualTo(1);
        assertThat(count("coordinator_steps_settled", "m_metrics_saga", "adjust", "completed")).isEqualTo(1);
        assertThat(count("coordinator_steps_dispatched", "m_metrics_saga", "publish", null)).isEqualTo(1);
        assertThat(count("coordinator_steps_settled", "m_metrics_saga", "publish", "failed")).isEqualTo(1);
        assertThat(total("coordinator_steps_settled", "m_metrics_saga")).isEqualTo(total("coordinator_steps_dispatched", "m_metrics_saga"));
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anAttemptACancelEndedIsSettledCancelled() {
        String executionId = holding("M_METRICS_CANCEL");

        HttpResponse<String> cancelled = ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null);
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(executionStatus(executionId)).isEqualTo("cancelled");

        // counted as the cancel's statement returned, before the HTTP answer
        assertThat(count("coordinator_steps_settled", "m_metrics_cancel", "hold", "cancelled")).isEqualTo(1);
        assertThat(count("coordinator_steps_dispatched", "m_metrics_cancel", "hold", null)).isEqualTo(1);
        assertThat(count("coordinator_steps_dispatched", "m_metrics_cancel", "after", null)).isZero();   // skipped, never sent
        assertThat(total("coordinator_steps_dispatched", "m_metrics_cancel")).isEqualTo(2);
        assertThat(total("coordinator_steps_settled", "m_metrics_cancel")).isEqualTo(2);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anAttemptTheWorkflowsTimeoutEndedIsSettledExecutionTimedOut() {
        String executionId = holding("M_METRICS_TIMEOUT");

        // its deadline passes now: the execution-timeout sweep ends it, and the attempt with it (the attempt's own is a minute off)
        query("UPDATE workflow_executions SET deadline = now() WHERE id = ? RETURNING id", executionId);
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionId)));

        // the sweep counts once its statement returned, which may come just after the test reads the status
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(count("coordinator_steps_settled", "m_metrics_timeout", "hold", "execution_timed_out")).isEqualTo(1));
        assertThat(count("coordinator_steps_dispatched", "m_metrics_timeout", "hold", null)).isEqualTo(1);
        assertThat(total("coordinator_steps_dispatched", "m_metrics_timeout")).isEqualTo(2);
        assertThat(total("coordinator_steps_settled", "m_metrics_timeout")).isEqualTo(2);
    }

    /** An execution whose first step completed and whose second (hold) runs: its agent has its request. */
    private static String holding(String trigger) {
        String eventId = sendEvent(trigger, "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && ExecutionProbe.requests(agents, executionOf(eventId), "hold").size() == 1);
        return executionOf(eventId);
    }

    private static MeterRegistry meters() {
        return shared().camelContext().getRegistry()
                .lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY, MeterRegistry.class);
    }

    /** The counter of a workflow's step (with an outcome, or any); 0 when it has counted nothing. */
    private static double count(String name, String workflow, String step, String outcome) {
        var search = meters().find(name).tags("workflow", workflow, "step", step);
        if (outcome != null) {
            search = search.tag("outcome", outcome);
        }
        return search.counters().stream().mapToDouble(Counter::count).sum();
    }

    /** The counter summed over a workflow's steps (and outcomes). */
    private static double total(String name, String workflow) {
        return meters().find(name).tag("workflow", workflow).counters().stream().mapToDouble(Counter::count).sum();
    }
}
