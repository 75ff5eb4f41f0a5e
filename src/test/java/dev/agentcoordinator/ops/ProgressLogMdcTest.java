package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.infra.BrokerManagement;
import org.apache.activemq.artemis.api.core.management.ResourceNames;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Layout;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.ConfigurationSource;
import org.apache.logging.log4j.core.config.Property;
import org.apache.logging.log4j.core.config.xml.XmlConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every progress line of an execution carries its execution id (and step lines their step id) in
 * the MDC, and the JSON layout of log4j2-json.xml writes them out.
 */
class ProgressLogMdcTest {

    private final List<LogEvent> captured = new CopyOnWriteArrayList<>();
    private Capture capture;

    @BeforeEach
    void captureProgressLines() {
        OpsCoordinator.shared();
        capture = new Capture(captured);
        capture.start();
        org.apache.logging.log4j.core.Logger logger = (org.apache.logging.log4j.core.Logger) LogManager.getLogger(Endpoints.PROGRESS_LOG);
        logger.addAppender(capture);
    }

    @AfterEach
    void stopCapturing() {
        ((org.apache.logging.log4j.core.Logger) LogManager.getLogger(Endpoints.PROGRESS_LOG)).removeAppender(capture);
        capture.stop();
    }

    @Test
    void progressLinesCarryExecutionAndStepIds() throws Exception {
        HttpResponse<String> posted = OpsCoordinator.post("/api/events",
                "{\"type\":\"INTERVIEW_COMPLETED\",\"payload\":{\"interview_id\":\"i-mdc\",\"user_id\":\"u-mdc\"}}", true);
        String eventId = new ObjectMapper().readTree(posted.body()).get("event_id").asText();
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            String status = OpsDb.text("SELECT status FROM workflow_executions WHERE trigger_event_key = ?", eventId);
            return status != null && !status.equals("running");
        });
        String executionId = OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId);

        await().atMost(Duration.ofSeconds(10)).until(() -> lines(executionId).stream()
                .anyMatch(e -> e.getMessage().getFormattedMessage().startsWith("execution " + executionId + " of interview_completed ")
                        && !e.getMessage().getFormattedMessage().contains(" started by event ")));
        List<LogEvent> lines = lines(executionId);
        assertThat(lines).hasSizeGreaterThanOrEqualTo(3);
        // its start names the event that started it: a client's event_id is followed into the log
        assertThat(lines).extracting(e -> e.getMessage().getFormattedMessage())
                .contains("execution " + executionId + " of interview_completed started by event " + eventId);
        for (LogEvent line : lines) {
            assertThat(line.getContextData().<String>getValue("executionId")).as(line.getMessage().getFormattedMessage()).isEqualTo(executionId);
        }
        // its input reads the trigger and a completed output only: started by that completion's own statement
        assertThat(lines).extracting(e -> e.getMessage().getFormattedMessage())
                .anyMatch(text -> text.startsWith("step extract_skill_signals dispatched to agent.sentinel (attempt 1, started with analyze_interview)"));
        // the line of the execution's end names no step (the step whose settling ended it was left in the MDC)
        LogEvent endLine = lines.stream().filter(e -> e.getMessage().getFormattedMessage().startsWith("execution " + executionId + " of interview_completed ")
                && !e.getMessage().getFormattedMessage().contains(" started by event ")).findFirst().orElseThrow();
        assertThat(endLine.getContextData().<String>getValue("stepId")).as(endLine.getMessage().getFormattedMessage()).isNull();
        LogEvent stepLine = lines.stream().filter(e -> e.getMessage().getFormattedMessage().startsWith("step analyze_interview ")).findFirst().orElseThrow();
        assertThat(stepLine.getContextData().<String>getValue("stepId")).isEqualTo("analyze_interview");

        JsonNode json = new ObjectMapper().readTree(jsonLayout().toByteArray(stepLine.toImmutable()));
        assertThat(json.path("contextMap").path("executionId").asText()).isEqualTo(executionId);
        assertThat(json.path("contextMap").path("stepId").asText()).isEqualTo("analyze_interview");
        assertThat(json.path("loggerName").asText()).isEqualTo(Endpoints.PROGRESS_LOG);
        // a time a reader can read, the event's own
        assertThat(java.time.OffsetDateTime.parse(json.path("timestamp").asText()).toInstant().toEpochMilli())
                .isEqualTo(stepLine.getTimeMillis()).isEqualTo(json.path("timeMillis").asLong());
    }

    /** Who stopped an execution and who ran it again shows in the progress log, as its other transitions. */
    @Test
    void aCancelAndARetryByRequestEachWriteAProgressLine() throws Exception {
        HttpResponse<String> posted = OpsCoordinator.post("/api/events",
                "{\"type\":\"RESUME_UPLOADED\",\"payload\":{\"resume_id\":\"r-mdc\",\"user_id\":\"u-mdc\",\"parse_latency_ms\":2500}}", true);
        String eventId = new ObjectMapper().readTree(posted.body()).get("event_id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId) != null);
        String executionId = OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId);

        assertThat(OpsCoordinator.post("/api/executions/" + executionId + "/cancel", "", true).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines(executionId).stream()
                .anyMatch(e -> e.getMessage().getFormattedMessage().startsWith("execution " + executionId + " of resume_uploaded cancelled by request")));
        await().atMost(Duration.ofSeconds(20)).until(() -> OpsCoordinator.post("/api/executions/" + executionId + "/retry", "", true).statusCode() == 202);
        await().atMost(Duration.ofSeconds(10)).until(() -> lines(executionId).stream()
                .anyMatch(e -> e.getMessage().getFormattedMessage().matches("execution " + executionId
                        + " of resume_uploaded retried by request \\(was cancelled\\): .*parse_resume.* run again")));
        for (LogEvent line : lines(executionId)) {
            assertThat(line.getContextData().<String>getValue("executionId")).as(line.getMessage().getFormattedMessage()).isEqualTo(executionId);
        }
    }

    /** An agent that answers after its execution was cancelled did nothing wrong: its ignored reply is an INFO line. */
    @Test
    void aReplyAfterACancelIsIgnoredWithoutAWarning() throws Exception {
        String executionId = cancelledWhileParsing("r-late");

        LogEvent ignored = ignoredReplyOfAttempt1(executionId);
        assertThat(ignored.getMessage().getFormattedMessage()).endsWith("(execution cancelled by request)");
        assertThat(ignored.getLevel()).isEqualTo(org.apache.logging.log4j.Level.INFO);
    }

    /**
     * Nor did one that answers the attempt a cancel stopped, once the retry of its execution runs the next attempt: the
     * step's row names only its current attempt, and the earlier attempt's record says it was cancelled.
     */
    @Test
    void aReplyToAnAttemptCancelledBeforeTheRetryIsIgnoredWithoutAWarning() throws Exception {
        String executionId = cancelledWhileParsing("r-late-retry");
        // at once, while attempt 1's agent still works (a 409 while the cancel's outcome event is not sent yet)
        await().atMost(Duration.ofSeconds(10)).until(() -> OpsCoordinator.post("/api/executions/" + executionId + "/retry", "", true)
                .statusCode() == 202);

        LogEvent ignored = ignoredReplyOfAttempt1(executionId);
        assertThat(ignored.getMessage().getFormattedMessage()).endsWith("at attempt 2 (attempt 1: execution cancelled by request)");
        assertThat(ignored.getLevel()).isEqualTo(org.apache.logging.log4j.Level.INFO);
    }

    /** Starts a resume_uploaded whose parse_resume takes 1.5 s, and cancels it while that step runs; its id. */
    private static String cancelledWhileParsing(String resumeId) throws Exception {
        HttpResponse<String> posted = OpsCoordinator.post("/api/events", "{\"type\":\"RESUME_UPLOADED\",\"payload\":{\"resume_id\":\""
                + resumeId + "\",\"user_id\":\"u-late\",\"parse_latency_ms\":1500}}", true);
        String eventId = new ObjectMapper().readTree(posted.body()).get("event_id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(OpsDb.text(
                "SELECT s.status FROM workflow_step_executions s JOIN workflow_executions e ON e.id = s.execution_id"
                        + " WHERE e.trigger_event_key = ? AND s.step_id = 'parse_resume'", eventId)));
        String executionId = OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId);
        awaitTakenByTheAgent("agent.sentinel");
        assertThat(OpsCoordinator.post("/api/executions/" + executionId + "/cancel", "", true).statusCode()).isEqualTo(200);
        return executionId;
    }

    /**
     * Until the queue's one request is delivered to its agent: a cancel before that takes the request back off the
     * queue (QueuedRequests), and then no late reply comes (on a loaded machine the demo agent may take a while).
     */
    private static void awaitTakenByTheAgent(String queue) {
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            try (BrokerManagement management = BrokerManagement.open(OpsCoordinator.shared().connectionFactory(), 2_000)) {
                Object delivering = management.attribute(ResourceNames.QUEUE + queue, "deliveringCount")
                        .map(BrokerManagement.Answer::result).orElse(null);
                Object all = management.attribute(ResourceNames.QUEUE + queue, "messageCount")
                        .map(BrokerManagement.Answer::result).orElse(null);
                return delivering instanceof Number d && all instanceof Number m && d.longValue() >= 1 && m.longValue() == d.longValue();
            }
        });
    }

    /** The line that says the reply to parse_resume's attempt 1 of that execution was ignored. */
    private LogEvent ignoredReplyOfAttempt1(String executionId) {
        return await().atMost(Duration.ofSeconds(20)).until(() -> captured.stream()
                .filter(e -> e.getMessage().getFormattedMessage().startsWith("reply ignored: late or duplicate reply for attempt 1 of step parse_resume")
                        && executionId.equals(e.getContextData().<String>getValue("executionId"))).findFirst(), java.util.Optional::isPresent).get();
    }

    /** The execution's own transition lines (not, e.g., the outcome event that names it in its key). */
    private List<LogEvent> lines(String executionId) {
        return captured.stream().filter(e -> {
            String line = e.getMessage().getFormattedMessage();
            return line.startsWith("execution " + executionId) || line.endsWith("[execution " + executionId + "]");
        }).toList();
    }

    /** The console layout of log4j2-json.xml, the configuration coordinator.log.format=json switches to. */
    private static Layout<?> jsonLayout() throws Exception {
        try (InputStream in = ProgressLogMdcTest.class.getClassLoader().getResourceAsStream("log4j2-json.xml")) {
            XmlConfiguration configuration = new XmlConfiguration(new LoggerContext("json-layout-test"), new ConfigurationSource(in));
            configuration.initialize();
            return configuration.getAppender("console").getLayout();
        }
    }

    private static final class Capture extends AbstractAppender {
        private final List<LogEvent> events;

        Capture(List<LogEvent> events) {
            super("progress-capture", null, null, true, Property.EMPTY_ARRAY);
            this.events = events;
        }

        @Override
        public void append(LogEvent event) {
            events.add(event.toImmutable());
        }
    }
}
