package dev.agentcoordinator.engine;

import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * An agent that takes longer than its step's timeout_ms keeps its attempt in time with heartbeats
 * ({"status": "running"}); the same work without them times out.
 */
class HeartbeatTest {
    private static final int REPLY_AFTER_MS = 2_500;   // the step's timeout is 1,000 ms
    private static ScriptedAgents agents;
    private static AgentService sdkAgent;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-heartbeat-agent", r -> {
                    if (!"work".equals(r.action())) {
                        return List.of(Reply.ok(Map.of("ran", r.action())));
                    }
                    List<Reply> replies = new ArrayList<>();
                    if ("beat".equals(r.input().path("mode").asText())) {
                        for (int at = 250; at < REPLY_AFTER_MS; at += 250) {
                            replies.add(Reply.heartbeat().after(at));
                        }
                    }
                    replies.add(Reply.ok(Map.of("worked_ms", REPLY_AFTER_MS)).after(REPLY_AFTER_MS));
                    return replies;
                });
        sdkAgent = AgentService.builder(shared().connectionFactory(), "f-heartbeat-sdk-agent")
                .heartbeatEvery(Duration.ofMillis(250))
                .handle("work", request -> {
                    Thread.sleep(REPLY_AFTER_MS);
                    return AgentReply.ok(Map.of("worked_ms", REPLY_AFTER_MS));
                })
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
        sdkAgent.close();
    }

    @Test
    void heartbeatsMoveTheAttemptsDeadlineSoTheLongAttemptCompletes() {
        String eventId = sendEvent("F_HEARTBEAT", "{\"mode\":\"beat\"}");
        // while it works, the deadline moves on past the 1,000 ms its attempt started with
        await().atMost(Duration.ofSeconds(20)).until(() -> !query("SELECT 1 FROM workflow_step_executions s"
                + " JOIN workflow_executions e ON e.id = s.execution_id WHERE e.trigger_event_key = ? AND s.step_id = 'work'"
                + " AND s.status = 'running' AND s.deadline > s.started_at + interval '1500 milliseconds'", eventId).isEmpty());
        // and the step's lock, taken for 1,000 ms, is renewed with it
        await().atMost(Duration.ofSeconds(5)).until(() -> !query("SELECT 1 FROM resource_locks l JOIN workflow_executions e"
                + " ON e.id = l.execution_id WHERE e.trigger_event_key = ? AND l.step_id = 'work'"
                + " AND l.expires_at > l.locked_at + interval '1500 milliseconds'", eventId).isEmpty());
        String executionId = awaitExecution(eventId, "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(query("SELECT 1 FROM resource_locks WHERE execution_id = ?", executionId)).isEmpty();
        assertThat(requests(agents, executionId, "work")).hasSize(1);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).isEmpty();
    }

    @Test
    void theAgentSdksHeartbeatsKeepAHandlerThatOutlastsTheTimeoutInTime() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT_SDK", "{}"), "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(stepRow(executionId, "work").get("output").toString()).contains("\"worked_ms\": " + REPLY_AFTER_MS);
    }

    @Test
    void withoutHeartbeatsTheSameWorkTimesOutAndItsLateReplyIsIgnored() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT", "{\"mode\":\"silent\"}"), "failed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"));
        assertThat(stepRow(executionId, "after")).containsEntry("status", "skipped");
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ?"
                + " AND step_id = 'work'", executionId).isEmpty());
    }
}
