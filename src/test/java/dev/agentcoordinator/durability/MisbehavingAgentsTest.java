package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.Tag;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.durability.RecordingAgents.Reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Case 4, against a coordinator in its own JVM: agents that die holding a request, reply twice, reply
 * after the attempt timed out, reply with malformed JSON or a wrong correlation id. Each execution
 * ends completed and the rows say what happened (step_attempts, ignored_replies). The in-process
 * variants of the reply cases are in the engine's failure tests; these go through real processes.
 */
@Tag("durability")
@EnabledIfSystemProperty(named = "durability.heavy", matches = "true")
@StartsChildProcesses
class MisbehavingAgentsTest {
    private static final OwnedInfrastructure infra = OwnedInfrastructure.shared();
    private static RecordingAgents moody;
    private static EventSender sender;

    @BeforeAll
    static void start() throws Exception {
        CoordinatorProcess.serving(infra);
        moody = new RecordingAgents(infra.connectionFactory()).agent("d-moody", 4, MisbehavingAgentsTest::moodyReply);
        sender = new EventSender(infra.connectionFactory());
    }

    @AfterAll
    static void stop() throws Exception {
        sender.close();
        moody.close();
    }

    /** What d-moody answers, by the mode in the trigger and the attempt. */
    private static List<Reply> moodyReply(RecordingAgents.Request r) {
        Reply ok = Reply.ok(0, Map.of("mode", r.input().path("mode").asText()));
        if (r.stepId().equals("after")) {
            return List.of(ok);
        }
        boolean first = r.attempt() == 1;
        return switch (r.input().path("mode").asText()) {
            case "twice" -> List.of(ok, new Reply(100, ok.body(), null));
            case "late" -> first ? List.of(new Reply(3500, ok.body(), null)) : List.of(ok);
            case "malformed" -> first ? List.of(Reply.raw(0, "{\"status\": \"ok\", \"output\": {")) : List.of(ok);
            case "wrong-correlation" -> List.of(new Reply(0, ok.body(), "not-a-step:1"), new Reply(200, ok.body(), null));
            default -> List.of(ok);
        };
    }

    @Test
    void anAgentThatRepliesTwiceCompletesTheStepOnceAndTheSecondReplyIsRecorded() throws Exception {
        String execution = runToCompletion("twice");
        assertThat(attempts(execution)).containsExactly("1:completed");
        await().atMost(Duration.ofSeconds(20)).until(() -> ignored(execution).size() == 1);
        assertThat(ignored(execution).get(0)).contains("late or duplicate reply for attempt 1");
        assertThat(requests(execution, "after")).isEqualTo(1);
    }

    @Test
    void aReplyAfterTheTimeoutIsIgnoredAndTheRetryCompletes() throws Exception {
        String execution = runToCompletion("late");
        assertThat(attempts(execution)).containsExactly("1:timed_out", "2:completed");
        await().atMost(Duration.ofSeconds(20)).until(() -> ignored(execution).size() == 1);
        assertThat(ignored(execution).get(0)).contains("late or duplicate reply for attempt 1");
    }

    @Test
    void aMalformedReplyFailsTheAttemptAndTheRetryCompletes() throws Exception {
        String execution = runToCompletion("malformed");
        assertThat(attempts(execution)).containsExactly("1:failed", "2:completed");
        // the misbehaving step's attempt 1: the step after it has an attempt 1 too, and no order tells them apart
        assertThat(infra.query("SELECT error FROM step_attempts WHERE execution_id = ? AND step_id IN ('answer', 'work') AND attempt = 1",
                execution).get(0).get("error"))
                .asString().contains("malformed JSON");
    }

    @Test
    void aReplyWithAWrongCorrelationIdIsRecordedAndChangesNothing() throws Exception {
        long before = infra.count("SELECT count(*) FROM ignored_replies WHERE correlation_id = 'not-a-step:1'");
        String execution = runToCompletion("wrong-correlation");
        assertThat(attempts(execution)).containsExactly("1:completed");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                infra.count("SELECT count(*) FROM ignored_replies WHERE correlation_id = 'not-a-step:1'") > before);
        assertThat(infra.query("SELECT reason FROM ignored_replies WHERE correlation_id = 'not-a-step:1' ORDER BY id DESC LIMIT 1")
                .get(0).get("reason")).asString().contains("no step attempt not-a-step:1 exists");
    }

    /** The agent takes the request and dies without acknowledging it; a second instance comes up and answers. */
    @Test
    void anAgentThatDiesHoldingARequestIsReplacedByTheNextInstance() throws Exception {
        String eventId = "mortal-" + UUID.randomUUID();
        Connection doomed = infra.connectionFactory().createConnection();
        Message taken;
        try {
            doomed.start();
            Session session = doomed.createSession(false, Session.CLIENT_ACKNOWLEDGE);
            var consumer = session.createConsumer(session.createQueue("agent.d-mortal"));
            sender.text("agent.events", "{\"type\":\"D_MORTAL\",\"event_id\":\"" + eventId + "\",\"payload\":{}}");
            taken = consumer.receive(30_000);
            assertThat(taken).as("the first agent received the request").isNotNull();
        } finally {
            doomed.close();   // dies: the unacknowledged request goes back to the queue
        }
        try (RecordingAgents successor = new RecordingAgents(infra.connectionFactory()).agent("d-mortal", 1, RecordingAgents.okAfter(0))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(status(eventId)));
            String execution = executionOf(eventId);
            assertThat(attempts(execution)).containsExactly("1:completed");
            assertThat(successor.requests()).singleElement().satisfies(r -> {
                assertThat(r.correlationId()).isEqualTo(taken.getJMSCorrelationID());
                assertThat(r.redelivered()).isTrue();
            });
            System.out.printf("DURABILITY case 4 (agent died holding a request): redelivered to the next instance, "
                    + "step completed at attempt 1, execution %s completed%n", execution);
        }
    }

    private String runToCompletion(String mode) throws Exception {
        String eventId = "moody-" + mode + "-" + UUID.randomUUID();
        sender.text("agent.events", "{\"type\":\"D_AGENTS\",\"event_id\":\"" + eventId + "\",\"payload\":{\"mode\":\"" + mode + "\"}}");
        await().atMost(Duration.ofSeconds(40)).until(() -> "completed".equals(status(eventId)));
        return executionOf(eventId);
    }

    private static String status(String eventId) {
        return infra.query("SELECT status FROM workflow_executions WHERE trigger_event_key = ?", eventId).stream()
                .map(r -> (String) r.get("status")).findFirst().orElse(null);
    }

    private static String executionOf(String eventId) {
        return (String) infra.query("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId).get(0).get("id");
    }

    /** "attempt:status" of the first step's attempts, in order. */
    private static List<String> attempts(String execution) {
        return infra.query("SELECT attempt, status FROM step_attempts WHERE execution_id = ? AND step_id IN ('answer', 'work') "
                + "ORDER BY attempt", execution).stream().map(r -> r.get("attempt") + ":" + r.get("status")).toList();
    }

    private static List<String> ignored(String execution) {
        return infra.query("SELECT reason FROM ignored_replies WHERE execution_id = ?", execution).stream()
                .map(r -> (String) r.get("reason")).toList();
    }

    private static long requests(String execution, String step) {
        return moody.requests("d-moody").stream().filter(r -> r.executionId().equals(execution) && r.stepId().equals(step)).count();
    }
}
