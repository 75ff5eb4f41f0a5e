package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import dev.agentcoordinator.infra.BrokerManagement;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.api.core.management.ResourceNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Takes the requests of attempts that no longer count (timed out, their execution cancelled or timed
 * out, or answered over HTTP) off their agents' queues before an agent takes them, with Artemis' {@code removeMessages}
 * through the management address, so that an agent with a backlog does not work on them. Best effort:
 * a request an agent already holds stays (an agent that sends heartbeats is told to stop), and a broker
 * that refuses management (a user without the {@code manage} permission) withdraws nothing; either
 * way a late reply is recorded and ignored, as before. It runs on a thread of its own, so that neither
 * a cancel's answer nor a timeout sweep waits for the broker (a standalone broker may drop management
 * requests of a user without the permission unanswered); the methods return nothing, so that the
 * exchange that calls them keeps its body.
 */
public final class QueuedRequests {
    /** Its name in the Camel registry. */
    public static final String REGISTRY_NAME = "queuedRequests";
    private static final Logger LOG = LoggerFactory.getLogger(Endpoints.PROGRESS_LOG);
    private static final long TIMEOUT_MS = 2_000;
    /** Withdrawals waiting for the thread; beyond that they are dropped (best effort). */
    private static final int BACKLOG = 1_000;

    private final ConnectionFactory connectionFactory;
    private final WorkflowCatalog catalog;
    private final MeterRegistry meters;
    private final Map<String, Counter> withdrawnByQueue = new ConcurrentHashMap<>();
    /** One thread, started on demand and gone after 30 s idle. */
    private final ThreadPoolExecutor worker = new ThreadPoolExecutor(0, 1, 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(BACKLOG), runnable -> {
                Thread thread = new Thread(runnable, "coordinator-request-withdrawal");
                thread.setDaemon(true);
                return thread;
            }, (task, executor) -> notWithdrawn("a withdrawal", BACKLOG + " withdrawals wait already"));
    /** Withdrawals that failed, told in one WARN line at most every 30 s (a broker outage fails each one). */
    private final TellingThrottle failures = new TellingThrottle(30_000, TellingThrottle::monotonicMillis);

    public QueuedRequests(ConnectionFactory connectionFactory, WorkflowCatalog catalog, MeterRegistry meters) {
        this(connectionFactory, catalog, meters, RETRY_DELAYS_MS);
    }

    /** As above, trying a withdrawal that cannot reach the broker again after each of {@code retryDelaysMs} (tests). */
    QueuedRequests(ConnectionFactory connectionFactory, WorkflowCatalog catalog, MeterRegistry meters, long[] retryDelaysMs) {
        this.connectionFactory = connectionFactory;
        this.catalog = catalog;
        this.meters = meters;
        this.retryDelaysMs = retryDelaysMs.clone();
    }

    /**
     * Where the request taken back of an attempt a cancel cut off, whose step's compensation is held for it or whose
     * step kept its locks for it, is told (SupervisorRoutes): headers executionId, stepId, replyAttempt.
     */
    public static final String RELEASE_WITHDRAWN = "direct:coordinator.release-withdrawn-attempt";

    /** Sends to {@link #RELEASE_WITHDRAWN}; set once Camel runs (null before: nothing to release yet). */
    private volatile org.apache.camel.ProducerTemplate releases;

    /** The requests of one execution a cancel ended (the row of {@code cancel-execution}). */
    public void withdraw(Map<String, Object> row) {
        withdrawAll(List.of(row));
    }

    /** Where a cut-off attempt's request taken back is told from: the running Camel context. */
    public void releaseWithdrawnWith(org.apache.camel.CamelContext camel) {
        releases = camel.createProducerTemplate();
    }

    /**
     * The requests of the rows of a statement that ended attempts or executions, over one management
     * connection: {@code workflow_id}, {@code workflow_version}, {@code execution_id}, and either
     * {@code in_flight} (a JSON array of {@code {"step_id", "request"}}: an execution's attempts) or
     * {@code kind}, {@code step_id} and {@code request} (one attempt). A request is {@code <row>:<attempt>},
     * the start of its correlation id. Nothing is withdrawn for a workflow version this coordinator
     * does not run (it does not know its steps' agents); a compensation's request is taken off its own
     * agent's queue (the step's {@code compensate.agent}), or an agent that came later would undo the step
     * for the timed-out attempt beside the retry sent in its place; a retry sends a request of its own.
     */
    public void withdrawAll(List<Map<String, Object>> rows) {
        Map<String, List<String>> requestsByQueue = new LinkedHashMap<>();
        List<CutOffRequest> cutOff = new ArrayList<>();
        Set<Object> executions = new LinkedHashSet<>();
        for (Map<String, Object> row : rows) {
            WorkflowDefinition workflow = catalog.forVersion((String) row.get("workflow_id"), (Integer) row.get("workflow_version"))
                    .orElse(null);
            if (workflow == null) {
                continue;
            }
            if (row.get("in_flight") instanceof String attempts) {
                for (JsonNode attempt : Json.parse(attempts)) {
                    Optional<WorkflowStep> step = workflow.step(attempt.path("step_id").asText());
                    Optional<String> agent = step.map(WorkflowStep::agent);
                    // what waits for this attempt to end (its held compensation, its step's kept locks) is told
                    // when its own request is taken back
                    if (agent.isPresent() && (attempt.path("held").asBoolean() || !step.get().locks().isEmpty())) {
                        cutOff.add(new CutOffRequest((String) row.get("execution_id"), attempt.path("step_id").asText(),
                                Endpoints.agentQueue(agent.get()), attempt.path("request").asText()));
                    } else {
                        add(requestsByQueue, agent, attempt.path("request").asText());
                    }
                }
            } else if ("step".equals(row.get("kind"))) {
                add(requestsByQueue, workflow.step((String) row.get("step_id")).map(WorkflowStep::agent), (String) row.get("request"));
            } else if ("compensation".equals(row.get("kind"))) {
                add(requestsByQueue, workflow.step((String) row.get("step_id")).map(WorkflowStep::compensate).map(c -> c.agent()),
                        (String) row.get("request"));
            }
            executions.add(row.get("execution_id"));
        }
        String whose = executions.size() == 1 ? "execution " + executions.iterator().next() : executions.size() + " executions";
        remove(requestsByQueue, whose);
        if (!cutOff.isEmpty()) {
            worker.execute(() -> withdrawing(whose, () -> removeCutOffNow(cutOff, whose), 0));
        }
    }

    /**
     * A request of an attempt a cancel cut off whose step's compensation is held for it (V47) or whose step kept its
     * locks for it (V49): its execution, step, queue and {@code <row>:<attempt>}.
     */
    private record CutOffRequest(String executionId, String stepId, String queue, String request) {
        int attempt() {
            return Integer.parseInt(request.substring(request.lastIndexOf(':') + 1));
        }
    }

    /**
     * Each cut-off attempt's request on its own: one taken back was never taken by an agent, so nothing of it stands
     * and nobody works on its step's resources: its compensation need not wait for its deadline, nor its locks
     * (released at once, {@link #RELEASE_WITHDRAWN}).
     */
    private void removeCutOffNow(List<CutOffRequest> cutOff, String whose) throws Exception {
        try (BrokerManagement management = BrokerManagement.open(connectionFactory, TIMEOUT_MS)) {
            for (CutOffRequest request : cutOff) {
                Optional<BrokerManagement.Answer> answer = management.invoke(ResourceNames.QUEUE + request.queue(),
                        "removeMessages", filter(List.of(request.request())));
                if (answer.isPresent() && answer.get().succeeded() && answer.get().result() instanceof Number removed
                        && removed.intValue() > 0) {
                    LOG.info("{}: withdrew the request of step {} no agent had taken from {}", whose, request.stepId(), request.queue());
                    withdrawn(request.queue()).increment(removed.intValue());
                    // at once: a failure further on retries the whole withdrawal, which finds this request gone
                    release(request, whose);
                }
            }
        }
    }

    /** What waits for a cut-off attempt whose request was taken back: its held compensation, its kept locks. */
    private void release(CutOffRequest request, String whose) {
        org.apache.camel.ProducerTemplate template = releases;
        try {
            if (template != null) {
                template.sendBodyAndHeaders(RELEASE_WITHDRAWN, null, Map.of(Headers.EXECUTION_ID, request.executionId(),
                        Headers.STEP_ID, request.stepId(), "replyAttempt", request.attempt()));
            }
        } catch (Exception e) {
            // the hold and the locks end at the attempt's deadline instead (release-expired-holds.sql, lock_in_force)
            LOG.debug("{}: compensation and locks of step {} not released: {}", whose, request.stepId(), e.toString());
        }
    }

    private static void add(Map<String, List<String>> requestsByQueue, Optional<String> agent, String request) {
        agent.ifPresent(a -> requestsByQueue.computeIfAbsent(Endpoints.agentQueue(a), q -> new ArrayList<>()).add(request));
    }

    private void remove(Map<String, List<String>> requestsByQueue, String whose) {
        if (!requestsByQueue.isEmpty()) {
            worker.execute(() -> withdrawing(whose, () -> removeNow(requestsByQueue, whose), 0));
        }
    }

    private void removeNow(Map<String, List<String>> requestsByQueue, String whose) throws Exception {
        try (BrokerManagement management = BrokerManagement.open(connectionFactory, TIMEOUT_MS)) {
            for (Map.Entry<String, List<String>> queue : requestsByQueue.entrySet()) {
                Optional<BrokerManagement.Answer> answer = management.invoke(ResourceNames.QUEUE + queue.getKey(),
                        "removeMessages", filter(queue.getValue()));
                if (answer.isPresent() && answer.get().succeeded() && answer.get().result() instanceof Number removed) {
                    if (removed.intValue() > 0) {
                        LOG.info("{}: withdrew {} request(s) no agent had taken from {}", whose, removed, queue.getKey());
                        withdrawn(queue.getKey()).increment(removed.intValue());
                    }
                } else {
                    notWithdrawn(whose, queue.getKey() + ": " + answer.map(a -> String.valueOf(a.result()))
                            .orElse("no answer from the broker's management address"));
                }
            }
        }
    }

    /** A withdrawal, which fails as a whole when the broker's management address cannot be reached. */
    private interface Withdrawal {
        void run() throws Exception;
    }

    /** How long after each failure to reach the broker a withdrawal is tried again: about a minute in all. */
    private static final long[] RETRY_DELAYS_MS = {1_000, 2_000, 4_000, 8_000, 15_000, 30_000};
    private final long[] retryDelaysMs;

    /** Tries the withdrawals again later, off the worker's thread. */
    private final java.util.concurrent.ScheduledExecutorService later = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "coordinator-request-withdrawal-retry");
        thread.setDaemon(true);
        return thread;
    });

    /**
     * Runs a withdrawal; one that cannot reach the broker is tried again a few times over about a minute (a cancel in a
     * broker outage took back nothing, and agents received the cancelled execution's requests once the broker was back).
     */
    private void withdrawing(String whose, Withdrawal withdrawal, int tries) {
        try {
            withdrawal.run();
        } catch (Exception e) {
            if (tries < retryDelaysMs.length) {
                LOG.debug("{}: queued requests not withdrawn yet ({}): tried again in {} ms", whose, e, retryDelaysMs[tries]);
                try {
                    later.schedule(() -> worker.execute(() -> withdrawing(whose, withdrawal, tries + 1)), retryDelaysMs[tries],
                            TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException stopping) {
                    notWithdrawn(whose, e.toString());
                }
            } else {
                notWithdrawn(whose, e + "; tried " + (tries + 1) + " times");
            }
        }
    }

    /**
     * Requests that stay queued though their attempts no longer count: an agent that takes one does work whose reply is
     * ignored. At DEBUG only, an operator never learnt that withdrawals failed (no {@code manage} permission, the broker lost).
     */
    private void notWithdrawn(String whose, String why) {
        int untold = failures.tellOrCount("withdrawal");
        if (untold < 0) {
            LOG.debug("{}: queued requests not withdrawn: {}", whose, why);
            return;
        }
        LOG.warn("{}: requests no agent had taken were not withdrawn from their queue ({}){}: an agent that takes one works for an"
                + " attempt that no longer counts, and its reply is ignored", whose, why,
                untold > 0 ? "; " + untold + " more withdrawals failed since the last such line" : "");
    }

    private Counter withdrawn(String queue) {
        return withdrawnByQueue.computeIfAbsent(queue, q -> Counter.builder("coordinator_requests_withdrawn")
                .description("requests taken back off an agent's queue before an agent took them (attempt timed out,"
                        + " execution cancelled or timed out, step answered over HTTP)")
                .tag("queue", q).register(meters));
    }

    /** Messages whose correlation id is one of the requests' {@code <row>:<attempt>}, with or without its suffix. */
    static String filter(List<String> requests) {
        return requests.stream()
                .map(request -> request.replace("'", "''"))
                .map(request -> "JMSCorrelationID = '" + request + "' OR JMSCorrelationID LIKE '" + request + "@%'")
                .collect(Collectors.joining(" OR "));
    }
}
