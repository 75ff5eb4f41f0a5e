package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.StepConfig;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import dev.agentcoordinator.locks.LockPriorities;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.AggregationStrategies;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * The routes of one workflow, so that the workflow's shape is visible in Hawtio:
 * <ul>
 *   <li>{@code wf.<id>~start}: records the execution, sends the requests of the roots that start with
 *       it and hands the other roots to their routes;</li>
 *   <li>{@code wf.<id>.<step>} / {@code .result}: from its {@link StepRouteMapper};</li>
 *   <li>{@code wf.<id>.<step>.done}: multicasts to the steps that depend on it (fan-out);</li>
 *   <li>{@code wf.<id>.<step>.join}: aggregator with a JDBC repository for a step with several
 *       dependencies (fan-in);</li>
 *   <li>{@code wf.<id>~finish}: ends the execution once every step has settled.</li>
 * </ul>
 */
public class WorkflowRoutes extends RouteBuilder {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Endpoints.PROGRESS_LOG);
    private final WorkflowDefinition workflow;
    /** The versions of workflows executions run on: a repeated event's may be another than this one. */
    private final WorkflowCatalog versions;
    private final List<StepRouteMapper> mappers;
    /** This JVM's facts of its recent executions (see {@link DependentStarts}): filled at the start, dropped at the end. */
    private final ExecutionFactsCache facts;
    private final String replyQueue;
    private final String stepPlanJson;
    private final String toleratedFailuresJson;
    private final List<WorkflowStep> startedRoots;
    private final List<String> rootsThroughTheirRoutes;
    private final List<String> allRoots;
    private static final String STARTED_ROWS = "startedRows";
    private static final String ROOTS_TO_VISIT = "rootsToVisit";
    private static final String STARTED_AGENT = "startedAgent";
    private final org.apache.camel.Processor identity;
    /** The agents' lock priorities: steps that start together and declare locks are tried highest first. */
    private final LockPriorities priorities;

    public WorkflowRoutes(WorkflowDefinition workflow, WorkflowCatalog versions, List<StepRouteMapper> mappers, String replyQueue,
                          ExecutionFactsCache facts, LockPriorities priorities) {
        this.workflow = workflow;
        this.priorities = priorities;
        this.versions = versions;
        this.identity = identity(workflow);
        this.facts = facts;
        this.mappers = mappers;
        this.replyQueue = replyQueue;
        this.stepPlanJson = Json.write(workflow.steps().stream().map(step -> stepPlan(workflow, step)).toList());
        this.toleratedFailuresJson = toleratedFailuresJson(workflow);
        this.startedRoots = workflow.rootSteps().stream().filter(WorkflowRoutes::startsWithExecution).toList();
        this.rootsThroughTheirRoutes = lockersByPriority(workflow.rootSteps(), priorities).stream()
                .filter(step -> !startedRoots.contains(step)).map(step -> Endpoints.step(workflow.id(), step.id())).toList();
        this.allRoots = rootRoutes(workflow, priorities);
    }

    /**
     * Steps that start together (an execution's roots, a step's dependents) go through their routes one after the other,
     * in this order: those that declare locks highest priority first, each in the place of one of them, the others where
     * they are. A lower one tried first took a lock its sibling of higher priority needs too, had its request sent, and
     * was preempted by that sibling a moment later, both agents then working on the resource (a lock chaos run: 41 of 239
     * executions whose lower root step was written first).
     */
    static List<WorkflowStep> lockersByPriority(List<WorkflowStep> steps, LockPriorities priorities) {
        return lockersByPriority(steps, step -> !step.locks().isEmpty(), step -> priorities.of(step.agent()));
    }

    /** {@code items} with those that {@code lock} reordered among their own places, highest {@code priority} first (stable). */
    static <T> List<T> lockersByPriority(List<T> items, Predicate<T> lock, ToIntFunction<T> priority) {
        Iterator<T> lockers = items.stream().filter(lock).sorted(Comparator.comparingInt(priority).reversed()).iterator();
        List<T> ordered = new ArrayList<>(items.size());
        for (T item : items) {
            ordered.add(lock.test(item) ? lockers.next() : item);
        }
        return ordered;
    }

    /** The routes of a workflow version's root steps, in the order they are tried. */
    private static List<String> rootRoutes(WorkflowDefinition workflow, LockPriorities priorities) {
        return lockersByPriority(workflow.rootSteps(), priorities).stream().map(step -> Endpoints.step(workflow.id(), step.id())).toList();
    }

    /**
     * Sets which workflow version a message belongs to: its id and version (what the database and the
     * requests name) and its route key (which routes run it; see {@link Headers#ROUTE_KEY}).
     */
    static org.apache.camel.Processor identity(WorkflowDefinition workflow) {
        String workflowId = WorkflowCatalog.workflowIdOf(workflow.id());
        int version = workflow.versionOrDefault();
        String routeKey = workflow.id();
        return exchange -> {
            Message in = exchange.getMessage();
            in.setHeader(WORKFLOW_ID, workflowId);
            in.setHeader(WORKFLOW_VERSION, version);
            in.setHeader(ROUTE_KEY, routeKey);
        };
    }

    /** The steps whose failure the execution tolerates (finish_execution's p_tolerated), as a JSON list. */
    static String toleratedFailuresJson(WorkflowDefinition workflow) {
        return Json.write(workflow.steps().stream().filter(WorkflowStep::allowsFailure).map(WorkflowStep::id).toList());
    }

    /** What start-execution.sql records for a step: its agent, attempts, timeouts and compensation. */
    private static Map<String, Object> stepPlan(WorkflowDefinition workflow, WorkflowStep step) {
        Map<String, Object> plan = new java.util.LinkedHashMap<>();
        plan.put("step_id", step.id());
        plan.put("agent", step.agent());
        plan.put("action", step.action());
        plan.put("max_attempts", workflow.maxAttempts(step));
        plan.put("timeout_ms", workflow.attemptTimeoutMs(step));
        plan.put("backoff_ms", step.config().backoffBeforeAttempt(2));
        // a retry policy beyond doubling (V48): only when the step sets one, so the plan of most steps stays as it was
        if (step.config().retryBackoffMaxMs() != null || step.config().jitters()) {
            plan.put("backoff_max_ms", step.config().retryBackoffMaxMs());
            plan.put("backoff_jitter", step.config().jitters());
        }
        if (step.compensate() != null) {
            StepConfig config = step.compensate().config() == null ? StepConfig.DEFAULTS : step.compensate().config();
            Map<String, Object> compensation = new java.util.LinkedHashMap<>(Map.of(
                    "agent", step.compensate().agent(), "action", step.compensate().action(),
                    "max_attempts", workflow.compensationAttempts(step), "timeout_ms", workflow.compensationTimeoutMs(step),
                    "backoff_ms", config.backoffBeforeAttempt(2)));
            if (config.retryBackoffMaxMs() != null || config.jitters()) {
                compensation.put("backoff_max_ms", config.retryBackoffMaxMs());
                compensation.put("backoff_jitter", config.jitters());
            }
            plan.put("compensation", compensation);
        }
        return plan;
    }

    @Override
    public void configure() {
        String wf = workflow.id();
        addStartRoute(wf);
        for (WorkflowStep step : workflow.steps()) {
            mapperFor(step).addRoutes(this, workflow, step);
            addDoneRoute(wf, step);
            if (step.dependsOn().size() > 1) {
                addJoinRoute(wf, step);
            }
        }
        addFinishRoute(wf);
        if (workflow.hasCompensations()) {
            new CompensationRoutes(workflow, replyQueue, priorities).addRoutes(this);
        }
    }

    private StepRouteMapper mapperFor(WorkflowStep step) {
        return mappers.stream().filter(m -> m.handles(step)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no mapper for step " + step.id() + " of " + workflow.id()));
    }

    /**
     * Stores the event and creates the execution with a row per step in one statement; the roots that need nothing but the
     * trigger start running in that statement and their requests leave at once ({@link #startedRoots}).
     * The other roots go through their own routes. A repeated event finds the execution it already
     * started and pushes every root step again, which is harmless: each step starts only from pending,
     * and a redelivered event re-sends the request of a root found running. That is what recovers an
     * event whose first delivery died half-way.
     */
    private void addStartRoute(String wf) {
        ChoiceDefinition created = from(Endpoints.start(wf))
                .routeId(Endpoints.startRouteId(wf))
                .routeDescription((workflow.name() == null ? wf : workflow.name())
                        // a version on routes of its own: kept for the executions that started on it, or loaded by a reload
                        + (wf.equals(WorkflowCatalog.workflowIdOf(wf)) ? "" : " (version " + workflow.versionOrDefault() + ")"))
                .process(this::prepareStart)
                .to(Sql.rows("start-execution")).id(wf + "~start.create-execution")
                .choice()
                    .when(header(SQL_ROW_COUNT).isGreaterThan(0))
                        .process(this::rememberFacts)
                        .process(WorkflowRoutes::keepStartedRootRows)
                        .setBody(constant(null))
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of " + WorkflowCatalog.describeRouteKey(wf)
                                + " started by event ${header." + EVENT_KEY + "}");   // a client's event_id, followed into the log
        if (!startedRoots.isEmpty()) {
            addStartedRootsDispatch(wf, created);
        }
        created
                        .setHeader(ROOTS_TO_VISIT, constant(rootsThroughTheirRoutes))
                    .endChoice()
                    .otherwise()
                        .setBody(constant(null))
                        .to(Sql.row("find-event")).id(wf + "~start.find-existing-execution")
                        .process(ReusedEventKeys::noteReuse)
                        .setHeader(ROOTS_TO_VISIT, constant(allRoots))
                        .choice()
                            .when(ReusedEventKeys::noted)
                                // its key is another event's: refused by the events route, nothing to re-check
                                .setHeader(ROOTS_TO_VISIT, constant(List.of()))
                            .endChoice()
                            .when(simple("${body[workflow_id]} == '" + WorkflowCatalog.workflowIdOf(wf) + "' && ${body[workflow_version]} == "
                                    + workflow.versionOrDefault()))
                                .setHeader(EXECUTION_ID, simple("${body[id]}"))
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "event ${header.eventKey} already started execution ${header.executionId}: re-checking its root steps")
                            .endChoice()
                            .when(simple("${body[workflow_id]} == '" + WorkflowCatalog.workflowIdOf(wf) + "'"))
                                // started on another version: this version's roots (their input, locks, agents) are
                                // not that execution's; its own are re-checked on its version's routes
                                .process(this::toRootsOfItsVersion)
                            .endChoice()
                            .otherwise()
                                // none, or one of another workflow (this type triggered it on another version of
                                // the definitions): nothing of this workflow's to re-check
                                .setHeader(ROOTS_TO_VISIT, constant(List.of()))
                        .end()
                    .endChoice()
                .end()
                .setBody(constant(null))
                .removeProperty(STARTED_ROWS)
                .process(SentRequests::shareAcrossBranches)
                // the roots still to decide: a list known per branch, hence a recipient list. Stopped at the first root
                // that fails, as a completion's fan-out is: the event rolls back, and a root started after that failure
                // would commit its attempt (its deadline running) while its request went with the rollback
                .recipientList(header(ROOTS_TO_VISIT)).stopOnException().id(wf + "~start.fan-out-roots");
    }

    /**
     * A repeated event whose execution started on another version of this workflow (a rolling
     * deployment: the first delivery died on a coordinator running that version, after the execution
     * was stored): its roots are re-checked on the routes of that version, read back if need be, as
     * they would be on a coordinator that runs it. A version no record holds is left alone.
     */
    private void toRootsOfItsVersion(Exchange exchange) throws Exception {
        Message in = exchange.getMessage();
        Map<?, ?> execution = in.getBody(Map.class);
        int version = ((Number) execution.get("workflow_version")).intValue();
        String workflowId = WorkflowCatalog.workflowIdOf(workflow.id());
        in.setHeader(ROOTS_TO_VISIT, List.of());
        if (!"running".equals(execution.get("status"))) {   // its roots have nothing left to do: no version to read back
            LOG.info("event {} already started execution {} on version {} of {}, which is {}: nothing to re-check",
                    in.getHeader(EVENT_KEY), execution.get("id"), version, workflowId, execution.get("status"));
            return;
        }
        Optional<WorkflowDefinition> itsVersion;
        try {
            itsVersion = versions.forVersion(workflowId, version);
        } catch (RuntimeException unreadable) {
            // a version this build cannot read or run: its own coordinators re-check the roots; the event stays stored
            LOG.warn("event {} already started execution {} on version {} of {}, which this coordinator cannot run ({}):"
                    + " its root steps are left to the coordinators that run that version",
                    in.getHeader(EVENT_KEY), execution.get("id"), version, workflowId, unreadable.getMessage());
            return;
        }
        if (itsVersion.isEmpty()) {
            LOG.info("event {} already started execution {} on version {} of {}, which no record holds: nothing to re-check",
                    in.getHeader(EVENT_KEY), execution.get("id"), version, workflowId);
            return;
        }
        WorkflowDefinition runsOn = itsVersion.get();
        identity(runsOn).process(exchange);
        in.setHeader(EXECUTION_ID, execution.get("id"));
        in.setHeader(ROOTS_TO_VISIT, rootRoutes(runsOn, priorities));
        LOG.info("event {} already started execution {} on version {} of {}: re-checking its root steps on routes {}",
                in.getHeader(EVENT_KEY), execution.get("id"), version, workflowId, Endpoints.routeId(runsOn.id(), "*"));
    }

    /**
     * Sends the requests of the roots that started with the execution, each to its agent's queue. One
     * static endpoint per agent, chosen by a choice, rather than a dynamic one: resolving an endpoint
     * URI with options on every send (toD) was about 1 % of the coordinator's CPU.
     */
    private void addStartedRootsDispatch(String wf, ChoiceDefinition created) {
        ChoiceDefinition byAgent = created
                .split(exchangeProperty(STARTED_ROWS)).id(wf + "~start.dispatch-started-roots")
                    .process(exchange -> AgentStepMapper.prepareStartedRoot(exchange))
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} dispatched to agent.${header.agent} (attempt ${header.attempt}) [execution ${header.executionId}]")
                    // the request keeps only JMS headers: the agent travels as a property
                    .setProperty(STARTED_AGENT, header(AGENT))
                    .process(exchange -> {
                        RequestLeases.rememberMessageStarted(exchange);
                        StepRequests.build(exchange, replyQueue);
                    })
                    .choice();
        for (String agent : startedRoots.stream().map(WorkflowStep::agent).distinct().toList()) {
            // no lease (the event's redelivery sends it again); a refusal is noted for the attempt's timeout and named
            RequestLeases.send(byAgent.when(exchangeProperty(STARTED_AGENT).isEqualTo(agent)),
                    sending -> sending.to(AgentStepMapper.agentEndpoint(Endpoints.agentQueue(agent))).id(wf + "~start.send-to." + agent),
                    wf + "~start.request-unsent." + agent);
        }
        byAgent.end()
                .end();
    }

    /** The new execution's trigger and step rows, for deciding its steps' dependents ahead ({@link DependentStarts}). */
    @SuppressWarnings("unchecked")
    private void rememberFacts(Exchange exchange) {
        Message in = exchange.getMessage();
        facts.remember(ExecutionFacts.ofStartedRows(in.getHeader(EXECUTION_ID, String.class),
                in.getHeader("triggerPayload", String.class), in.getBody(List.class)));
    }

    /**
     * The rows of the roots that started running with the execution, for the split that sends their
     * requests: the statement returns every step's row, and the split copies the exchange per element.
     */
    private static void keepStartedRootRows(Exchange exchange) {
        List<?> rows = exchange.getMessage().getBody(List.class);
        exchange.setProperty(STARTED_ROWS, rows.stream()
                .filter(row -> row instanceof Map<?, ?> map && "running".equals(map.get("status")))
                .toList());
    }

    /**
     * Headers of a new execution, and the inputs of the roots that start with it: a root whose input
     * comes only from the trigger (or literals), without locks, loop or request context, cannot wait or
     * be skipped, so it needs no decision against the database.
     */
    private void prepareStart(Exchange exchange) throws Exception {
        Message in = exchange.getMessage();
        in.setHeader(EXECUTION_ID, UUID.randomUUID().toString());
        identity.process(exchange);
        in.setHeader("timeoutMs", workflow.config().timeoutMsOrDefault());
        in.setHeader("stepPlan", stepPlanJson);
        String trigger = in.getHeader("eventPayload", "{}", String.class);
        in.setHeader("triggerPayload", trigger);
        presentEvenIfNull(in, CAUSE_MESSAGE_ID);
        if (in.getHeader(ChainDepthGuard.CHAIN_DEPTH) == null) {
            in.setHeader(ChainDepthGuard.CHAIN_DEPTH, 0);   // not an outcome event: a chain starts here
        }
        com.fasterxml.jackson.databind.node.ObjectNode rootStarts = Json.object();
        if (!startedRoots.isEmpty()) {
            ExecutionContext context = ExecutionContext.starting(trigger);
            for (WorkflowStep root : startedRoots) {
                rootStarts.set(root.id(), InputResolver.resolve(root.inputMapping(), context));
            }
        }
        in.setHeader("rootStarts", Json.write(rootStarts));
    }

    /** Roots that start in the statement creating the execution (see {@link #prepareStart}). */
    private static boolean startsWithExecution(WorkflowStep step) {
        return step.dependsOn().isEmpty() && !step.isLoop() && step.locks().isEmpty() && !step.config().includesContext()
                && step.inputMapping().values().stream().allMatch(m -> m.fromTrigger() != null || m.value() != null);
    }

    /** Fan-out from a settled step to every step that depends on it, then the end-of-execution check. */
    private void addDoneRoute(String wf, WorkflowStep step) {
        List<String> next = new ArrayList<>();
        for (WorkflowStep dependent : lockersByPriority(workflow.dependentsOf(step.id()), priorities)) {
            next.add(dependent.dependsOn().size() > 1 ? Endpoints.join(wf, dependent.id()) : Endpoints.step(wf, dependent.id()));
        }
        var route = from(Endpoints.done(wf, step.id()))
                .routeId(Endpoints.routeId(wf, step.id() + ".done"))
                .routeDescription("after " + step.id() + ": " + (next.isEmpty() ? "end of branch" : "fan-out to "
                        + String.join(", ", workflow.dependentsOf(step.id()).stream().map(WorkflowStep::id).toList())))
                .setHeader(STEP_ID, constant(step.id()))
                .setBody(constant(null));
        if (next.isEmpty()) {
            route.to(Endpoints.finish(wf));
        } else {
            // The execution cannot be over while a dependent of this step has not settled, and every
            // dependent that settles checks for the end itself; only a replay (the first
            // delivery may have died after settling the last step) checks here.
            // a multicast only where there is something to fan out to: its exchange copies cost CPU on every step
            // stopped at the first branch that fails: the message rolls back, and a branch started after that failure
            // would commit its attempt (its deadline running) while its request went with the rollback (a chaos run:
            // the next branches waited out a PostgreSQL restart for a connection, started, and timed out unsent)
            var fannedOut = next.size() == 1 ? route.to(next.get(0))
                    : route.process(SentRequests::shareAcrossBranches).multicast(AggregationStrategies.useOriginal()).stopOnException()
                        .id(wf + "." + step.id() + ".fan-out").to(next.toArray(String[]::new)).end();
            fannedOut.filter(AgentStepMapper::replayed)
                        .to(Endpoints.finish(wf))
                    .end();
        }
    }

    /** Fan-in: hands the arrival to the shared aggregator of {@link FanInRoutes}. */
    private void addJoinRoute(String wf, WorkflowStep step) {
        from(Endpoints.join(wf, step.id()))
                .routeId(Endpoints.routeId(wf, step.id() + ".join"))
                .routeDescription("fan-in of " + String.join(", ", step.dependsOn()) + " into " + step.id())
                // the completion recorded this arrival in its own statement already (complete-and-start.sql)
                .filter(exchange -> !JoinArrivalsInCompletion.recorded(exchange, step.id())).id(wf + "." + step.id() + ".unless-recorded")
                    .setHeader(FanInRoutes.JOIN_STEP, constant(step.id()))
                    .to(FanInRoutes.FAN_IN)
                .end();
    }

    private void addFinishRoute(String wf) {
        from(Endpoints.finish(wf))
                .routeId(Endpoints.finishRouteId(wf))
                .routeDescription("ends an execution of " + wf + " once every step has settled")
                .setHeader(PARTIAL_SUCCESS, constant(workflow.config().partialSuccessAllowed()))
                .setHeader(TOLERATED_FAILURES, constant(toleratedFailuresJson))
                .choice()
                    // the last step's completion ended the execution in its own statement (complete-and-start.sql)
                    .when(exchangeProperty(CompletionStarts.FINISHED_EXECUTION).isNotNull())
                        .setBody(exchangeProperty(CompletionStarts.FINISHED_EXECUTION))
                        .setHeader(SQL_ROW_COUNT, constant(1))
                        .removeProperty(CompletionStarts.FINISHED_EXECUTION)
                    .endChoice()
                    .otherwise()
                        .to(Sql.row("finish-execution")).id(wf + "~finish.settle-execution")
                    .endChoice()
                .end()
                .choice()
                    .when(Sql.returnedRow())
                        .process(WorkflowRoutes::outcomeHeaders)
                        .process(exchange -> facts.forget(exchange.getMessage().getHeader(EXECUTION_ID, String.class)))
                        .choice()
                            // a WARN, as each attempt that timed out or failed on its way there is: an alert on levels sees it
                            .when(header(STATUS).isEqualTo("failed"))
                                // with why: the steps that failed and their errors (an operator read "failed" and nothing more)
                                .process(exchange -> exchange.setProperty("whyFailed", whyFailed(exchange.getMessage().getHeader("failures", String.class))))
                                .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of " + WorkflowCatalog.describeRouteKey(wf) + " ${header.status}${exchangeProperty.whyFailed}")
                            .endChoice()
                            // one that compensates says so where its compensation starts (after-settled), as a cancelled one does
                            .when(header(STATUS).isNotEqualTo("compensating"))
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "execution ${header.executionId} of " + WorkflowCatalog.describeRouteKey(wf) + " ${header.status}")
                            .endChoice()
                        .end()
                        .to(Endpoints.AFTER_SETTLED)
                    .endChoice()
                    // a replayed message may find the execution settled by a delivery that died
                    // before its outcome event left: publish it again (its event_id makes that harmless);
                    // or compensating: the compensations that delivery started are sent again
                    .when(AgentStepMapper::replayed)
                        .to(Sql.row("find-settled-execution")).id(wf + "~finish.find-settled-execution")
                        .filter(Sql.returnedRow())
                            .process(WorkflowRoutes::outcomeHeaders)
                            .to(Endpoints.AFTER_SETTLED)
                        .end()
                    .endChoice()
                .end();
    }

    @SuppressWarnings("unchecked")
    /** ": step a: its error; step b: …" from an outcome's failures (JSON text), each error cut to 300 characters; "" when none. */
    static String whyFailed(String failures) {
        if (failures == null) {
            return "";
        }
        java.util.List<String> steps = new java.util.ArrayList<>();
        for (com.fasterxml.jackson.databind.JsonNode failure : Json.parse(failures)) {
            String error = failure.path("error").asText("");
            steps.add("step " + failure.path("step_id").asText()
                    + (error.isEmpty() ? "" : ": " + (error.length() > 300 ? error.substring(0, 300) + "…" : error)));
        }
        return steps.isEmpty() ? "" : ": " + String.join("; ", steps);
    }

    private static void outcomeHeaders(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        in.setHeader(STATUS, row.get("status"));
        in.setHeader("results", row.get("results"));
        in.setHeader("failures", row.get("failures"));
    }
}
