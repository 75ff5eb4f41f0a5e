package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An attempt that a sweep or an HTTP call started has no message whose redelivery would send its request
 * again: its request carries a lease (V27) that the send clears, and the retry sweep sends once more the
 * request of a running attempt whose lease ran out. A send that fails makes the lease due at once: the request
 * goes at the next sweep that can send it, not when its lease would have run out.
 */
class UnsentRequestTest {
    private static final String LEASE_AGENT = "f-lease-agent";
    /** The lease of the f_lease_* workflows' attempts: a third of their 90 s timeout, at most 30 s. */
    private static final Duration LEASE = Duration.ofSeconds(30);
    /** Far less than the lease, yet many sweep periods (50 ms in the engine tests) and a slow machine's pauses. */
    private static final Duration SENT_AGAIN_WITHIN = Duration.ofSeconds(5);

    private static ScriptedAgents agents;
    /** The refusal of the f-lease-agent's requests, from the first request of a test's execution on. */
    private static volatile RefusedSends refused;

    @BeforeAll
    static void agents() throws Exception {
        // the first attempt of "quiet" is never answered: only a request sent again for a later attempt is
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-unsent-agent", r -> {
            int attempt = r.request().path("attempt").asInt();
            if ("quiet".equals(r.action()) && attempt == 1) {
                return List.of();
            }
            if ("unconfirmed".equals(r.action())) {
                // attempt 1 fails for a retry; attempt 2 is answered only when its request comes a second time
                long deliveries = requests(agents, r.request().path("execution_id").asText(), "unconfirmed").stream()
                        .filter(earlier -> earlier.request().path("attempt").asInt() == 2).count();
                return attempt == 1 ? List.of(Reply.error("busy", true)) : deliveries < 2 ? List.of() : List.of(Reply.ok(Map.of("ok", true)));
            }
            return List.of(Reply.ok(Map.of("ran", r.action())));
        }).agent(LEASE_AGENT, r -> {
            boolean first = requests(agents, r.request().path("execution_id").asText(), r.stepId()).stream()
                    .filter(earlier -> earlier.action().equals(r.action())).count() == 1;
            switch (r.action()) {
                case "refused", "again" -> {
                    if (!first) {
                        return List.of(Reply.ok(Map.of("ran", r.action())));
                    }
                    // from now on the broker refuses this agent's requests; the step retries ("refused") or fails ("again")
                    refuseLeaseAgentRequests();
                    return List.of(Reply.error("busy", "refused".equals(r.action())));
                }
                case "hold" -> {
                    return List.of();   // the test cancels the execution meanwhile
                }
                default -> {
                    return List.of(Reply.ok(Map.of("ran", r.action())));
                }
            }
        });
    }

    private static void refuseLeaseAgentRequests() {
        try {
            refused = RefusedSends.to(Endpoints.agentQueue(LEASE_AGENT));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends go through again; returns when. */
    private static long acceptLeaseAgentRequests() throws Exception {
        RefusedSends refusal = refused;
        refused = null;
        if (refusal != null) {
            refusal.close();
        }
        return System.nanoTime();
    }

    @AfterAll
    static void stop() throws Exception {
        acceptLeaseAgentRequests();
        agents.close();
    }

    @Test
    void aRunningAttemptWhoseRequestNeverLeftIsSentAgainWhenItsLeaseRunsOut() {
        String eventId = sendEvent("F_UNSENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "quiet").size() == 1);
        String executionId = executionOf(eventId);
        // started by a message (the event): its redelivery would re-send it, so it carries no lease
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND request_due_at IS NOT NULL",
                executionId)).isEmpty();

        // what a stop between the retry sweep's commit of attempt 2 and its send leaves behind
        new JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions SET attempt = 2, "
                + "dispatched_by = NULL, request_due_at = now() - interval '1 second', updated_at = now() "
                + "WHERE execution_id = ? AND step_id = 'quiet'", executionId);

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "quiet"))
                .extracting(r -> r.request().path("attempt").asInt())
                .containsExactly(1, 2);
        assertThat(stepRow(executionId, "quiet")).containsEntry("status", "completed").containsEntry("attempt", 2);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
    }

    /**
     * The retry sweep starts attempt 2 with a lease on its request; the statement that would clear it after the
     * send fails (PostgreSQL refuses it here): the request is sent again once the lease (a third of the 3 s
     * timeout) ran out, well before the attempt would time out.
     */
    @Test
    void aRetryWhoseRequestIsNotConfirmedSentIsSentAgainWhenItsLeaseRunsOut() {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            created.create("""
                    CREATE FUNCTION test_refuse_lease_clearing() RETURNS trigger AS $$
                    BEGIN
                        RAISE EXCEPTION 'lease clearing refused by the test';
                    END;
                    $$ LANGUAGE plpgsql""", "DROP FUNCTION IF EXISTS test_refuse_lease_clearing()");
            created.create("CREATE TRIGGER test_refused_lease_clearing BEFORE UPDATE ON workflow_step_executions FOR EACH ROW "
                    + "WHEN (NEW.step_id = 'unconfirmed' AND NEW.status = 'running' AND OLD.request_due_at IS NOT NULL "
                    + "AND NEW.request_due_at IS NULL) EXECUTE FUNCTION test_refuse_lease_clearing()",
                    "DROP TRIGGER IF EXISTS test_refused_lease_clearing ON workflow_step_executions");
            String executionId = awaitExecution(sendEvent("F_UNSENT_RETRY", "{}"), "completed");
            assertThat(requests(agents, executionId, "unconfirmed"))
                    .extracting(r -> r.request().path("attempt").asInt())
                    .containsExactly(1, 2, 2);
            assertThat(requests(agents, executionId, "unconfirmed").get(1).correlationId())
                    .isEqualTo(requests(agents, executionId, "unconfirmed").get(2).correlationId());
            assertThat(stepRow(executionId, "unconfirmed")).containsEntry("status", "completed").containsEntry("attempt", 2);
        }
    }

    /**
     * A request whose lease ran out after its attempt's deadline is not sent again: the agent would get it with no
     * time left (a 1 s timeout has a 1 s lease; another coordinator re-sent five such requests 0.6 to 1.2 s past their
     * deadline in a tester's run). The timeout sweep settles the attempt. The sweep runs here in a transaction of the
     * test's, rolled back, so that the coordinator's own sweeps neither see nor race the row.
     */
    @Test
    void aRequestWhoseLeaseRanOutPastItsDeadlineIsLeftToTheTimeout() throws Exception {
        String eventId = sendEvent("F_UNSENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "quiet").size() == 1);
        String executionId = executionOf(eventId);
        String sweep = java.nio.file.Files.readString(java.nio.file.Path.of("src/main/resources/sql/start-due-retries.sql"))
                .replace(":#sweepLimit", "1000");
        try (java.sql.Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try (java.sql.PreparedStatement lapsed = connection.prepareStatement("UPDATE workflow_step_executions SET attempt = 2,"
                    + " dispatched_by = NULL, request_due_at = now() - interval '1 second', deadline = now() - interval '100 milliseconds'"
                    + " WHERE execution_id = ? AND step_id = 'quiet'")) {
                lapsed.setString(1, executionId);
                assertThat(lapsed.executeUpdate()).isEqualTo(1);
            }
            List<String> resent = new java.util.ArrayList<>();
            try (java.sql.PreparedStatement swept = connection.prepareStatement(sweep); java.sql.ResultSet rows = swept.executeQuery()) {
                while (rows.next()) {
                    if (executionId.equals(rows.getString("execution_id"))) {
                        resent.add(rows.getString("step_id") + " attempt " + rows.getInt("attempt"));
                    }
                }
            }
            try (java.sql.PreparedStatement lease = connection.prepareStatement("SELECT request_due_at FROM workflow_step_executions"
                    + " WHERE execution_id = ? AND step_id = 'quiet'")) {
                lease.setString(1, executionId);
                try (java.sql.ResultSet row = lease.executeQuery()) {
                    row.next();
                    assertThat(row.getTimestamp(1)).as("its lease is cleared").isNull();
                }
            }
            connection.rollback();
            assertThat(resent).as("sent again past its deadline").isEmpty();
        }
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
    }

    @Test
    void aRequestThatLeftIsNotSentAgain() {
        String eventId = sendEvent("F_UNSENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "quiet").size() == 1);
        String executionId = executionOf(eventId);

        // the attempt timed out: the retry sweep starts attempt 2, sends it and clears its lease
        new JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions SET deadline = now() "
                + "WHERE execution_id = ? AND step_id = 'quiet'", executionId);

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "quiet"))
                .extracting(r -> r.request().path("attempt").asInt())
                .containsExactly(1, 2);
        assertThat(query("SELECT step_id FROM workflow_step_executions WHERE execution_id = ? AND request_due_at IS NOT NULL",
                executionId)).isEmpty();
    }

    /**
     * The retry sweep starts attempt 2 (a lease of 30 s on its request) while the broker refuses the agent's requests:
     * the send fails, and is reported as before. The failure makes the lease due at once, so once the broker takes the
     * request again the next sweep sends it, within a few sweep periods, not when the lease runs out. Before, the
     * request waited for its lease: 30 s of an attempt's time lost after a broker crash under a sweep's dispatch.
     */
    @Test
    void aRetryWhoseSendFailedIsSentAgainAtTheNextSweepOnceTheBrokerTakesIt() throws Exception {
        org.apache.logging.log4j.Level progressLevel = org.apache.logging.log4j.LogManager.getLogger(Endpoints.PROGRESS_LOG).getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, org.apache.logging.log4j.Level.DEBUG);
        try (CapturedLog log = CapturedLog.ofRoot(); CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            String eventId = sendEvent("F_LEASE_RETRY", "{}");
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                    && Integer.valueOf(2).equals(stepRow(executionOf(eventId), "refused").get("attempt")));
            String executionId = executionOf(eventId);
            awaitFailedSend(log, "coordinator.retries");
            // sent again at every sweep while refused, but reported as a failure once: before, an ERROR with its stack
            // trace and a WARN "sent again" every sweep period (50 ms here, 200 ms by default) until the deadline
            await().atMost(Duration.ofSeconds(20)).until(() -> progress.lines().stream()
                    .filter(line -> line.startsWith("DEBUG step refused (attempt 2) [execution " + executionId + "]: sent again")).count() >= 5);
            assertThat(log.linesWithCauses().stream().filter(line -> line.startsWith("ERROR") && line.contains("coordinator.retries")))
                    .singleElement().asString().startsWith("ERROR Failed delivery").contains("Address \"agent.f-lease-agent\" is full");
            assertThat(progress.lines().stream().filter(line -> line.contains("its request was not known to have left; sent again")
                    && line.contains(executionId)).count()).as("once refused: told by the refusals' own line").isZero();

            assertSentAgainSoonAfterTheBrokerTakesIt(executionId, "refused");
            awaitExecution(eventId, "completed");
            assertThat(requests(agents, executionId, "refused"))
                    .extracting(r -> r.request().path("attempt").asInt())
                    .as("attempt 2 once: the refused sends left nothing").containsExactly(1, 2);
        } finally {
            acceptLeaseAgentRequests();
            org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, progressLevel);
        }
    }

    /** As above, for a step that POST .../retry runs again (its step route sends the request, a lease on it). */
    @Test
    void aStepRunAgainOverHttpWhoseSendFailedIsSentAgainAtTheNextSweepOnceTheBrokerTakesIt() throws Exception {
        try (CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_LEASE_API", "{}");
            String executionId = awaitExecution(eventId, "failed");
            HttpResponse<String> retried = post("/api/executions/" + executionId + "/retry");
            assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
            awaitFailedSend(log, "wf.f_lease_api");
            assertThat(stepRow(executionId, "again")).containsEntry("status", "running").containsEntry("attempt", 2);

            assertSentAgainSoonAfterTheBrokerTakesIt(executionId, "again");
            awaitExecution(eventId, "completed");
            assertThat(requests(agents, executionId, "again")).extracting(r -> r.request().path("attempt").asInt())
                    .containsExactly(1, 2);
        } finally {
            acceptLeaseAgentRequests();
        }
    }

    /** As above, for the compensation a cancel over HTTP starts (the compensate route sends it, a lease on it). */
    @Test
    void aCompensationWhoseSendFailedIsSentAgainAtTheNextSweepOnceTheBrokerTakesIt() throws Exception {
        try (CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_LEASE_COMPENSATION", "{}");
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                    && requests(agents, executionOf(eventId), "held").size() == 1);
            String executionId = executionOf(eventId);
            refuseLeaseAgentRequests();
            HttpResponse<String> cancelled = post("/api/executions/" + executionId + "/cancel");
            assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
            awaitFailedSend(log, "wf.f_lease_compensation~compen");   // (the log cuts route ids at 30 characters)

            long accepted = acceptLeaseAgentRequests();
            await().atMost(SENT_AGAIN_WITHIN).until(() -> requests(agents, executionId, "booked").stream()
                    .anyMatch(r -> r.action().equals("unbook")));
            sentAgainSoonAfter(accepted, requests(agents, executionId, "booked").stream()
                    .filter(r -> r.action().equals("unbook")).findFirst().orElseThrow());
            awaitExecution(eventId, "compensated");
            assertThat(requests(agents, executionId, "booked")).extracting(ScriptedAgents.Received::action)
                    .containsExactly("book", "unbook");
        } finally {
            acceptLeaseAgentRequests();
        }
    }

    /** The refused send was reported as a failure of the route that sent it, as any failed send is. */
    private static void awaitFailedSend(CapturedLog log, String route) {
        await().atMost(Duration.ofSeconds(20)).until(() -> log.linesWithCauses().stream()
                // the client's AMQ219058 or the broker's AMQ229102, as the refusal is found first on one side or the other
                .anyMatch(line -> line.startsWith("ERROR Failed delivery") && line.contains(route)
                        && line.contains("Address \"agent.f-lease-agent\" is full")));
    }

    private static void assertSentAgainSoonAfterTheBrokerTakesIt(String executionId, String stepId) throws Exception {
        assertThat(requests(agents, executionId, stepId)).as("refused by the broker: not sent yet").hasSize(1);
        long accepted = acceptLeaseAgentRequests();
        await().atMost(SENT_AGAIN_WITHIN).until(() -> requests(agents, executionId, stepId).size() == 2);
        sentAgainSoonAfter(accepted, requests(agents, executionId, stepId).get(1));
    }

    private static void sentAgainSoonAfter(long acceptedAtNanos, ScriptedAgents.Received request) {
        Duration after = Duration.ofNanos(request.receivedAtNanos() - acceptedAtNanos);
        System.out.println("UnsentRequestTest: request sent again " + after.toMillis() + " ms after the broker took requests again (lease "
                + LEASE.toSeconds() + " s)");
        assertThat(after).isLessThan(SENT_AGAIN_WITHIN);
    }

    private static HttpResponse<String> post(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + path))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
