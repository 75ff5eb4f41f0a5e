package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import dev.agentcoordinator.definition.WorkflowCatalog;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Case 5: the bad-input corpus of src/test/resources/durability/bad-input (cases.tsv says what each
 * case is and what must become of it). Events accepted before the corpus must all complete, and a
 * valid event after it too: the coordinator keeps serving and loses nothing it had accepted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@StartsChildProcesses
class BadInputCorpusTest {
    static final Path CORPUS = Path.of("src/test/resources/durability/bad-input");
    private static final Duration OUTCOME_WITHIN = Duration.ofSeconds(30);

    private static final OwnedInfrastructure infra = OwnedInfrastructure.shared();
    private static final Map<String, String> replyBodies = new ConcurrentHashMap<>();
    private static CoordinatorProcess coordinator;
    private static RecordingAgents agents;
    private static EventSender sender;
    private static Connection dlqConnection;
    private static Session dlqSession;
    private static List<String> acceptedBefore;

    record Case(int line, String kind, String source, String outcome, String detail) {
        String name() {
            return kind + " " + source + " -> " + outcome + (detail.isEmpty() ? "" : " (" + detail + ")");
        }
    }

    @BeforeAll
    static void start() throws Exception {
        coordinator = CoordinatorProcess.serving(infra);
        agents = new RecordingAgents(infra.connectionFactory())
                .agent("d-bad-echo", 4, r -> List.of(RecordingAgents.Reply.ok(0, Map.of("case", r.input().path("case").asText()))))
                .agent("d-replier", 4, r -> List.of(RecordingAgents.Reply.raw(0, replyBodies.get(r.input().path("case").asText()))));
        sender = new EventSender(infra.connectionFactory());
        // a client of its own, as an operator's tool: the coordinator's clients deserialize no object (Messaging), and a
        // StreamMessage's dead letter holds its elements as a list in an ObjectMessage
        dlqConnection = new org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory(infra.brokerUrl()).createConnection();
        dlqConnection.start();
        dlqSession = dlqConnection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        acceptedBefore = sender.events("D_BAD", 20);
    }

    @AfterAll
    static void stop() throws Exception {
        sender.close();
        dlqConnection.close();
        agents.close();
    }

    @TestFactory
    @Order(1)
    Stream<DynamicTest> eachCaseEndsInAClearErrorOrTheDeadLetterQueue() throws IOException {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> run(c)));
    }

    @Test
    @Order(2)
    void theCoordinatorKeepsServingAndLosesNothingItHadAccepted() throws Exception {
        List<String> after = sender.events("D_BAD", 1);
        Audit audit = new Audit(infra);
        await().atMost(OUTCOME_WITHIN).until(() -> audit.lost(acceptedBefore) == 0 && audit.lost(after) == 0);
        assertThat(coordinator.isAlive()).isTrue();
        System.out.printf("DURABILITY case 5 (bad input): %d corpus cases; %d events accepted before all completed, "
                + "the valid event after completed; coordinator alive%n", cases().size(), acceptedBefore.size());
    }

    static List<Case> cases() throws IOException {
        List<String> lines = Files.readAllLines(CORPUS.resolve("cases.tsv"), StandardCharsets.UTF_8);
        List<Case> cases = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            cases.add(new Case(i + 1, f[0], f[1], f[2], f.length > 3 ? f[3] : ""));
        }
        return cases;
    }

    private void run(Case c) throws Exception {
        String caseId = "case-" + c.line() + "-" + UUID.randomUUID();
        switch (c.kind()) {
            case "event", "event-bytes", "event-map", "event-stream", "event-object", "event-no-body" -> event(c, caseId);
            case "reply" -> reply(c, caseId);
            case "stray-reply" -> strayReply(c);
            case "definition" -> definition(c);
            default -> throw new IllegalArgumentException("cases.tsv line " + c.line() + ": unknown kind " + c.kind());
        }
    }

    private void event(Case c, String caseId) throws Exception {
        byte[] body = c.source().endsWith(".bin") ? Files.readAllBytes(CORPUS.resolve(c.source()))
                : source(c.source()).replace("@CASE@", caseId).getBytes(StandardCharsets.UTF_8);
        jakarta.jms.Session session = sender.session();
        String text = new String(body, StandardCharsets.UTF_8);
        Message message = switch (c.kind()) {
            case "event-bytes" -> {
                jakarta.jms.BytesMessage bytes = session.createBytesMessage();
                bytes.writeBytes(body);
                yield bytes;
            }
            case "event-map" -> {
                jakarta.jms.MapMessage map = session.createMapMessage();
                map.setString("type", "D_BAD");
                map.setString("text", text);
                yield map;
            }
            case "event-stream" -> {
                jakarta.jms.StreamMessage stream = session.createStreamMessage();
                stream.writeString(text);
                yield stream;
            }
            case "event-object" -> session.createObjectMessage(text);
            case "event-no-body" -> session.createMessage();
            default -> session.createTextMessage(text);
        };
        message.setStringProperty("corpus_case", caseId);
        sender.send("agent.events", message, null);
        switch (c.outcome()) {
            case "dlq" -> {
                try (MessageConsumer dlq = dlqSession.createConsumer(dlqSession.createQueue("agent.events.DLQ"), "corpus_case = '" + caseId + "'")) {
                    Message dead = dlq.receive(OUTCOME_WITHIN.toMillis());
                    assertThat(dead).as("dead-lettered within %s", OUTCOME_WITHIN).isNotNull();
                    assertThat(dead.getStringProperty("dead_letter_reason")).contains(c.detail());
                    // nothing is lost: what came is what the dead letter holds
                    switch (c.kind()) {
                        case "event-map" -> assertThat(((jakarta.jms.MapMessage) dead).getString("text")).isEqualTo(text);
                        case "event-stream" -> assertThat(((jakarta.jms.ObjectMessage) dead).getObject()).isEqualTo(List.of(text));
                        case "event-object" -> assertThat(((jakarta.jms.ObjectMessage) dead).getObject()).isEqualTo(text);
                        default -> { }
                    }
                }
            }
            case "completes" -> await().atMost(OUTCOME_WITHIN).until(() -> infra.count(
                    "SELECT count(*) FROM workflow_executions WHERE trigger_payload->>'case' = ? AND status = 'completed'", caseId) == 1);
            case "stored" -> {
                await().atMost(OUTCOME_WITHIN).until(() -> infra.count(
                        "SELECT count(*) FROM agent_events WHERE payload->>'case' = ?", caseId) == 1);
                assertThat(infra.count("SELECT count(*) FROM workflow_executions WHERE trigger_payload->>'case' = ?", caseId)).isZero();
            }
            default -> throw new IllegalArgumentException("cases.tsv line " + c.line() + ": outcome " + c.outcome() + " is not one of an event's");
        }
    }

    private void reply(Case c, String caseId) throws Exception {
        replyBodies.put(caseId, source(c.source()));
        sender.text("agent.events", "{\"type\":\"D_REPLY\",\"event_id\":\"" + caseId + "\",\"payload\":{\"case\":\"" + caseId + "\"}}");
        String expected = switch (c.outcome()) {
            case "step-failed" -> "failed";
            case "step-completed" -> "completed";
            default -> throw new IllegalArgumentException("cases.tsv line " + c.line() + ": outcome " + c.outcome() + " is not one of a reply's");
        };
        await().atMost(OUTCOME_WITHIN).until(() -> infra.count("SELECT count(*) FROM workflow_step_executions s "
                + "JOIN workflow_executions e ON e.id = s.execution_id WHERE e.trigger_event_key = ? AND s.status = ?", caseId, expected) == 1);
        if (!c.detail().isEmpty()) {
            String error = (String) infra.query("SELECT s.error FROM workflow_step_executions s JOIN workflow_executions e "
                    + "ON e.id = s.execution_id WHERE e.trigger_event_key = ?", caseId).get(0).get("error");
            assertThat(error).contains(c.detail());
        }
    }

    private void strayReply(Case c) throws Exception {
        String[] parts = c.detail().split(" \\| ", 2);
        String correlationId = parts[0].equals("none") ? null : parts[0];
        String countSql = correlationId == null
                ? "SELECT count(*) FROM ignored_replies WHERE correlation_id IS NULL AND reason LIKE ?"
                : "SELECT count(*) FROM ignored_replies WHERE correlation_id = '" + correlationId.replace("'", "''") + "' AND reason LIKE ?";
        String reason = "%" + parts[1] + "%";
        long before = infra.count(countSql, reason);
        sender.text("coordinator.replies", source(c.source()), correlationId);
        await().atMost(OUTCOME_WITHIN).until(() -> infra.count(countSql, reason) == before + 1);
    }

    private void definition(Case c) {
        assertThatThrownBy(() -> WorkflowCatalog.load(List.of(CORPUS.resolve(c.source()))))
                .isInstanceOf(InvalidDefinitionsException.class)
                .hasMessageContaining(c.detail());
    }

    private static String source(String source) throws IOException {
        if (!source.startsWith("gen:")) {
            return Files.readString(CORPUS.resolve(source), StandardCharsets.UTF_8);
        }
        String[] gen = source.split(":");
        int size = Integer.parseInt(gen[2]);
        return switch (gen[1]) {
            case "big-payload" -> "{\"type\":\"D_BAD\",\"payload\":{\"case\":\"@CASE@\",\"data\":\"" + "x".repeat(size) + "\"}}";
            case "deep-payload" -> "{\"type\":\"D_BAD\",\"payload\":{\"case\":\"@CASE@\",\"data\":" + "[".repeat(size) + "]".repeat(size) + "}}";
            case "big-output" -> "{\"status\":\"ok\",\"output\":{\"blob\":\"" + "x".repeat(size) + "\"}}";
            case "deep-output" -> "{\"status\":\"ok\",\"output\":{\"d\":" + "[".repeat(size) + "]".repeat(size) + "}}";
            default -> throw new IllegalArgumentException("unknown generator " + source);
        };
    }
}
