package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Destination;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The SDK against a real (embedded, in-vm) Artemis broker. */
class AgentServiceTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(41);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "test");

    private final ConnectionFactory connectionFactory = clients.connectionFactory();
    private final StepRequestClient coordinator = clients.coordinator();
    private final String agent = clients.agent();

    @Test
    void repliesWithOutputSignalsAndSharedMemory() throws Exception {
        AtomicReference<AgentRequest> received = new AtomicReference<>();
        clients.start(AgentService.builder(connectionFactory, agent).handle("analyze", request -> {
            received.set(request);
            return AgentReply.ok(Map.of("score", 80, "user", request.inputString("user_id")))
                    .withSignal("SKILL_GAP_CRITICAL", Map.of("skill", "sql"))
                    .withSharedMemory("last_skill_update", request.inputString("user_id"));
        }));

        String correlationId = coordinator.send(agent, "analyze", Map.of("user_id", "u-1", "count", 3));
        JsonNode reply = coordinator.awaitReply(correlationId);

        assertThat(reply.get("status").asText()).isEqualTo("ok");
        assertThat(reply.at("/output/score").asInt()).isEqualTo(80);
        assertThat(reply.at("/output/user").asText()).isEqualTo("u-1");
        assertThat(reply.at("/signals/0/signal_type").asText()).isEqualTo("SKILL_GAP_CRITICAL");
        assertThat(reply.at("/signals/0/data/skill").asText()).isEqualTo("sql");
        assertThat(reply.at("/shared_memory/last_skill_update").asText()).isEqualTo("u-1");
        assertThat(reply.has("error")).isFalse();

        AgentRequest request = received.get();
        assertThat(request.executionId()).isEqualTo("exec-1");
        assertThat(request.workflowId()).isEqualTo("wf-test");
        assertThat(request.stepId()).isEqualTo("step-analyze");
        assertThat(request.attempt()).isEqualTo(1);
        assertThat(request.deadline()).isEqualTo(Instant.parse("2026-11-25T10:00:30Z"));
        assertThat(request.inputLong("count", 0)).isEqualTo(3);
    }

    @Test
    void heartbeatsLeaveWhileTheHandlerWorksAndOnlyWhenAskedFor() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        ActionHandler slow = request -> {
            release.await(20, TimeUnit.SECONDS);
            return AgentReply.ok(Map.of("done", true));
        };
        clients.start(AgentService.builder(connectionFactory, agent).heartbeatEvery(Duration.ofMillis(100)).handle("long", slow));
        clients.start(AgentService.builder(connectionFactory, agent + "-plain").handle("long", slow));

        String beating = coordinator.send(agent, "long", Map.of());
        String plain = coordinator.send(agent + "-plain", "long", Map.of());
        // both handlers work until the first has sent two heartbeats
        coordinator.awaitHeartbeats(beating, (count, latest) -> count >= 2);
        release.countDown();

        assertThat(coordinator.awaitReply(beating).path("output").path("done").asBoolean()).isTrue();
        assertThat(coordinator.awaitReply(plain).path("output").path("done").asBoolean()).isTrue();
        assertThat(coordinator.heartbeats(plain)).isZero();
        assertThatThrownBy(() -> AgentService.builder(connectionFactory, agent).heartbeatEvery(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 ms");
    }

    @Test
    void aStopAnswerToAHeartbeatInterruptsTheHandlerAndItsReplyIsNotSent() throws Exception {
        CountDownLatch interrupted = new CountDownLatch(1);
        clients.start(AgentService.builder(connectionFactory, agent).concurrency(1).heartbeatEvery(Duration.ofMillis(100))
                .handle("long", request -> {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw e;
                    }
                    return AgentReply.ok(Map.of("done", true));
                })
                .handleOutput("ping", request -> Map.of("pong", true)));

        String stopped = coordinator.send(agent, "long", Map.of());
        Destination stopsTo = coordinator.awaitHeartbeat(stopped);
        coordinator.answerHeartbeat(stopsTo, stopped, "{\"status\":\"continue\"}");   // not a stop: ignored
        coordinator.answerHeartbeat(stopsTo, "another-attempt", "{\"status\":\"stop\",\"reason\":\"not this one\"}");
        coordinator.answerHeartbeat(stopsTo, stopped, "{\"status\":\"stop\",\"reason\":\"attempt 1 of step s is cancelled\"}");

        assertThat(interrupted.await(10, TimeUnit.SECONDS)).isTrue();
        // one consumer: the next request is handled once the stopped one is consumed, without a reply
        String ping = coordinator.send(agent, "ping", Map.of());
        assertThat(coordinator.awaitReply(ping).at("/output/pong").asBoolean()).isTrue();
        assertThat(coordinator.hasReply(stopped)).isFalse();
        assertThat(coordinator.heartbeats(stopped)).isGreaterThanOrEqualTo(1);
    }

    /**
     * A request delivered again (its agent died holding it) is heartbeat at once, not one interval later: its attempt may
     * be over, and the stop answering the heartbeat ends the work within milliseconds (the protocol's advice).
     */
    @Test
    void aRequestDeliveredAgainIsHeartbeatAtOnce() throws Exception {
        String again = coordinator.send(agent, "long", Map.of());
        try (jakarta.jms.Connection died = connectionFactory.createConnection()) {   // taken, then rolled back
            died.start();
            jakarta.jms.Session session = died.createSession(true, jakarta.jms.Session.SESSION_TRANSACTED);
            assertThat(session.createConsumer(session.createQueue(AgentService.queueName(agent))).receive(10_000)).isNotNull();
            session.rollback();
        }
        CountDownLatch release = new CountDownLatch(1);
        clients.start(AgentService.builder(connectionFactory, agent).heartbeatEvery(Duration.ofSeconds(60))
                .handle("long", request -> {
                    release.await(20, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("done", true));
                }));
        try {
            coordinator.awaitHeartbeat(again);   // an interval is 60 s
        } finally {
            release.countDown();
        }
        assertThat(coordinator.awaitReply(again).path("output").path("done").asBoolean()).isTrue();
    }

    /** A stop that asks for the reply all the same (a cancel's undo waits to learn what was done): the handler's is sent. */
    @Test
    void aStopThatWantsTheReplyInterruptsTheHandlerAndSendsWhatItReturns() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).concurrency(1).heartbeatEvery(Duration.ofMillis(100))
                .handle("long", request -> {
                    try {
                        Thread.sleep(60_000);
                        return AgentReply.ok(Map.of("done", "all"));
                    } catch (InterruptedException e) {
                        return AgentReply.ok(Map.of("done", "half"));
                    }
                }));

        String stopped = coordinator.send(agent, "long", Map.of());
        Destination stopsTo = coordinator.awaitHeartbeat(stopped);
        coordinator.answerHeartbeat(stopsTo, stopped, "{\"status\":\"stop\",\"reason\":\"cancelled\",\"reply_wanted\":true}");

        assertThat(coordinator.awaitReply(stopped).at("/output/done").asText()).isEqualTo("half");
    }

    @Test
    void progressTheHandlerReportsRidesOnTheHeartbeatsAndALaterAttemptReadsIt() throws Exception {
        AtomicReference<Map<String, Object>> resumedFrom = new AtomicReference<>();
        CountDownLatch release = new CountDownLatch(1);
        clients.start(AgentService.builder(connectionFactory, agent).heartbeatEvery(Duration.ofMillis(50))
                .handle("long", request -> {
                    resumedFrom.set(request.progressMap());
                    AgentProgress.report(Map.of("pages_done", 40));
                    release.await(20, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("done", true));
                }));
        AgentProgress.report(Map.of("outside", "a handler"));   // no request on this thread: nothing happens

        String correlationId = coordinator.sendText(agent,
                StepRequestClient.requestBody(agent, "long", Map.of(), Map.of("pages_done", 12)), true);
        // the handler works until a heartbeat has carried its progress
        coordinator.awaitHeartbeats(correlationId, (count, latest) -> latest != null && latest.at("/progress/pages_done").asInt() == 40);
        release.countDown();

        assertThat(coordinator.awaitReply(correlationId).at("/output/done").asBoolean()).isTrue();
        assertThat(resumedFrom.get()).containsEntry("pages_done", 12);
        assertThat(coordinator.lastHeartbeat(correlationId).at("/progress/pages_done").asInt()).isEqualTo(40);
        assertThat(coordinator.lastHeartbeat(correlationId).path("status").asText()).isEqualTo("running");
    }

    @Test
    void aStopAfterTheHandlerReturnedChangesNothing() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        clients.start(AgentService.builder(connectionFactory, agent).concurrency(1).heartbeatEvery(Duration.ofMillis(50))
                .handle("long", request -> {
                    release.await(10, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("done", true));
                })
                .handleOutput("ping", request -> Map.of("interrupted", Thread.currentThread().isInterrupted())));

        String first = coordinator.send(agent, "long", Map.of());
        Destination stopsTo = coordinator.awaitHeartbeat(first);
        release.countDown();
        assertThat(coordinator.awaitReply(first).at("/output/done").asBoolean()).isTrue();
        coordinator.answerHeartbeat(stopsTo, first, "{\"status\":\"stop\",\"reason\":\"late\"}");

        String ping = coordinator.send(agent, "ping", Map.of());
        assertThat(coordinator.awaitReply(ping).at("/output/interrupted").asBoolean()).isFalse();
    }

    @Test
    void outputOnlyHandlerAndBytesBodyAsStompClientsSendIt() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent)
                .handleOutput("echo", request -> Map.of("echo", request.inputString("text"))));

        String correlationId = coordinator.sendBytes(agent,
                StepRequestClient.requestBody(agent, "echo", Map.of("text", "grüße")));

        JsonNode reply = coordinator.awaitReply(correlationId);
        assertThat(reply.get("status").asText()).isEqualTo("ok");
        assertThat(reply.at("/output/echo").asText()).isEqualTo("grüße");
        assertThat(reply.has("signals")).isFalse();
        assertThat(reply.has("shared_memory")).isFalse();
    }

    @Test
    void handlerExceptionIsARetryableError() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("flaky", request -> {
            throw new IllegalStateException("model endpoint unavailable");
        }));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "flaky", Map.of()));

        assertThat(reply.get("status").asText()).isEqualTo("error");
        assertThat(reply.get("error").asText()).isEqualTo("model endpoint unavailable");
        assertThat(reply.get("retryable").asBoolean()).isTrue();
        assertThat(reply.has("output")).isFalse();
    }

    /** Rolled back, it ran again up to the broker's delivery limit and was never answered. */
    @Test
    void aHandlerErrorIsARetryableErrorReplyToo() throws Exception {
        java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
        clients.start(AgentService.builder(connectionFactory, agent).handle("broken", request -> {
            runs.incrementAndGet();
            throw new AssertionError("invariant broken");
        }));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "broken", Map.of()));

        assertThat(reply.get("status").asText()).isEqualTo("error");
        assertThat(reply.get("error").asText()).isEqualTo("invariant broken");
        assertThat(reply.get("retryable").asBoolean()).isTrue();
        assertThat(runs.get()).as("run once, not redelivered").isEqualTo(1);
        // a message handler's the same way
        String response = new MessageDispatcher(agent, Map.of("question", message -> {
            throw new NoClassDefFoundError("com/example/Missing");
        })).dispatch(new AgentMessage("m-1", "other", agent, "question", Map.of(), true, null));
        assertThat(response).contains("\"status\":\"error\"").contains("com/example/Missing");
    }

    /** The flag left set made every send, commit and receive after it fail at once, for good. */
    @Test
    void aHandlerThatLeavesItsThreadInterruptedStillRepliesAndTheAgentTakesTheNextRequest() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("interrupted", request -> {
            Thread.currentThread().interrupt();   // as a watchdog of the handler's own would
            return AgentReply.ok(Map.of("n", request.inputString("n")));
        }));

        assertThat(coordinator.awaitReply(coordinator.send(agent, "interrupted", Map.of("n", "1"))).at("/output/n").asText()).isEqualTo("1");
        assertThat(coordinator.awaitReply(coordinator.send(agent, "interrupted", Map.of("n", "2"))).at("/output/n").asText()).isEqualTo("2");
    }

    @Test
    void nonRetryableExceptionIsAFinalError() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent)
                .handle("analyze", request -> AgentReply.ok(Map.of("id", request.requiredInputString("interview_id")))));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "analyze", Map.of()));

        assertThat(reply.get("status").asText()).isEqualTo("error");
        assertThat(reply.get("error").asText()).contains("input 'interview_id' is missing");
        assertThat(reply.get("retryable").asBoolean()).isFalse();
    }

    @Test
    void explicitErrorReplyIsSentAsIs() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent)
                .handle("analyze", request -> AgentReply.error("transcript not found", false)));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "analyze", Map.of()));

        assertThat(reply.get("error").asText()).isEqualTo("transcript not found");
        assertThat(reply.get("retryable").asBoolean()).isFalse();
    }

    @Test
    void unknownActionIsAFinalError() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("known", request -> AgentReply.ok(Map.of())));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "unknown", Map.of()));

        assertThat(reply.get("status").asText()).isEqualTo("error");
        assertThat(reply.get("error").asText()).startsWith("agent " + agent + " has no handler for action unknown");
        assertThat(reply.get("retryable").asBoolean()).isFalse();
    }

    @Test
    void malformedBodyIsAnsweredWhenItHasAReplyTo() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("known", request -> AgentReply.ok(Map.of())));

        JsonNode notJson = coordinator.awaitReply(coordinator.sendText(agent, "{not json", true));
        JsonNode noAction = coordinator.awaitReply(coordinator.sendText(agent, "{\"input\": {}}", true));

        assertThat(notJson.get("status").asText()).isEqualTo("error");
        assertThat(notJson.get("error").asText())
                .contains("agent." + agent).contains("not a valid step request JSON object");
        assertThat(notJson.get("retryable").asBoolean()).isFalse();
        assertThat(noAction.get("error").asText()).contains("request has no 'action'");
    }

    @Test
    void requestWithoutReplyToIsDroppedAndTheAgentCarriesOn() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("known", request -> AgentReply.ok(Map.of("n", 1))));

        coordinator.sendText(agent, "{not json", false);
        JsonNode next = coordinator.awaitReply(coordinator.send(agent, "known", Map.of()));

        assertThat(next.get("status").asText()).isEqualTo("ok");
        await().atMost(5, TimeUnit.SECONDS)
                .until(() -> BROKER.getMessageCount(AgentService.queueName(agent)) == 0);
    }

    @Test
    void consumersHandleRequestsInParallel() throws Exception {
        CountDownLatch allStarted = new CountDownLatch(4);
        CountDownLatch release = new CountDownLatch(1);
        clients.start(AgentService.builder(connectionFactory, agent).concurrency(4).handle("slow", request -> {
            allStarted.countDown();
            // only returns once all four requests are in a handler at the same time
            boolean released = release.await(10, TimeUnit.SECONDS);
            return AgentReply.ok(Map.of("released", released));
        }));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(coordinator.send(agent, "slow", Map.of("i", i)));
        }

        assertThat(allStarted.await(10, TimeUnit.SECONDS)).as("4 handlers running at once").isTrue();
        release.countDown();
        for (String id : ids) {
            assertThat(coordinator.awaitReply(id).at("/output/released").asBoolean()).isTrue();
        }
    }

    @Test
    void closeLetsTheInFlightRequestFinishAndTakesNoNewOnes() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AgentService service = clients.start(AgentService.builder(connectionFactory, agent).handle("slow", request -> {
            started.countDown();
            release.await(10, TimeUnit.SECONDS);
            return AgentReply.ok(Map.of("finished", request.inputString("n")));
        }));
        String inFlight = coordinator.send(agent, "slow", Map.of("n", "1"));
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        Thread closer = new Thread(service::close, "test-closer");
        closer.start();
        await().atMost(5, TimeUnit.SECONDS).until(() -> !service.isRunning());
        coordinator.send(agent, "slow", Map.of("n", "2"));
        assertThat(closer.isAlive()).as("close() waits for the in-flight handler").isTrue();

        release.countDown();
        closer.join(TimeUnit.SECONDS.toMillis(10));

        assertThat(closer.isAlive()).isFalse();
        assertThat(coordinator.awaitReply(inFlight).at("/output/finished").asText()).isEqualTo("1");
        assertThat(BROKER.getMessageCount(AgentService.queueName(agent)))
                .as("the request sent while closing stays on the queue for another instance").isEqualTo(1);
    }

    /** A handler that closes its own service (a "shut down" action) still gets its reply out. */
    @Test
    void aHandlerThatClosesItsServiceStillReplies() throws Exception {
        AtomicReference<AgentService> self = new AtomicReference<>();
        AgentService service = clients.start(AgentService.builder(connectionFactory, agent)
                .shutdownTimeout(Duration.ofMillis(200))
                .handle("shutdown", request -> {
                    self.get().close();
                    return AgentReply.ok(Map.of("closed", true));
                }));
        self.set(service);
        String request = coordinator.send(agent, "shutdown", Map.of());

        assertThat(coordinator.awaitReply(request).at("/output/closed").asBoolean()).isTrue();
        assertThat(service.isRunning()).isFalse();
    }

    @Test
    void closeRollsBackARequestStillRunningAfterTheTimeoutSoAnotherInstanceGetsIt() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        AgentService stuck = clients.start(AgentService.builder(connectionFactory, agent)
                .shutdownTimeout(Duration.ofMillis(100))
                .handle("slow", request -> {
                    started.countDown();
                    never.await(10, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("by", "stuck"));
                }));
        String request = coordinator.send(agent, "slow", Map.of());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        stuck.close();
        clients.start(AgentService.builder(connectionFactory, agent)
                .handle("slow", r -> AgentReply.ok(Map.of("by", "successor"))));

        JsonNode reply = coordinator.awaitReply(request);
        assertThat(reply.at("/output/by").asText()).isEqualTo("successor");
    }

    @Test
    void startFailsClearlyWithoutHandlers() {
        AgentService.Builder builder = AgentService.builder(connectionFactory, agent);
        org.assertj.core.api.Assertions.assertThatThrownBy(builder::start)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("agent " + agent + " has no handlers");
    }

    /**
     * A setting given to the builder of a running service reached neither the service nor, for maxMessageBytes and
     * maxJsonTokens, consistently the messenger it shares (its responses read within the new bound, its queue guarded by
     * the old one): refused, naming itself. The builder still starts a service again, with the settings it had.
     */
    @Test
    void aSettingGivenAfterStartIsRefusedNamingItself() throws Exception {
        AgentService.Builder builder = AgentService.builder(connectionFactory, agent).handleOutput("echo", request -> Map.of("n", 1));
        clients.start(builder).close();

        Map<String, org.assertj.core.api.ThrowableAssert.ThrowingCallable> settings = new java.util.LinkedHashMap<>();
        settings.put("maxMessageBytes", () -> builder.maxMessageBytes(1024 * 1024));
        settings.put("maxJsonTokens", () -> builder.maxJsonTokens(2_000_000));
        settings.put("concurrency", () -> builder.concurrency(4));
        settings.put("shutdownTimeout", () -> builder.shutdownTimeout(Duration.ofSeconds(1)));
        settings.put("heartbeatEvery", () -> builder.heartbeatEvery(Duration.ofSeconds(1)));
        settings.put("handle", () -> builder.handle("other", request -> AgentReply.ok(Map.of())));
        settings.put("handleOutput", () -> builder.handleOutput("other", request -> Map.of()));
        settings.put("onMessage", () -> builder.onMessage("Q", message -> Map.of()));
        settings.forEach((option, setting) -> assertThatThrownBy(setting).as(option)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("AgentService.Builder." + option + " called after start() of agent " + agent));

        clients.start(builder);
        assertThat(coordinator.awaitReply(coordinator.send(agent, "echo", Map.of())).at("/output/n").asInt()).isEqualTo(1);
    }
}
