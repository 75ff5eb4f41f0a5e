package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

import static dev.agentcoordinator.engine.Headers.*;
import static org.apache.camel.builder.Builder.body;
import static org.apache.camel.builder.Builder.constant;
import static org.apache.camel.builder.Builder.header;
import static org.apache.camel.builder.Builder.simple;

/**
 * Iterative refinement (spec pattern 4): like an agent step, but a reply whose output does not yet
 * satisfy {@code loop.until} completes that iteration and dispatches the next one, until the bound.
 * Each iteration is a row of its own. The iterations are a cycle of messages, not Camel's loop EIP,
 * because that EIP would hold a thread for the whole refinement. A loop over several steps
 * ({@code loop.repeat_from}) dispatches its next iteration's first step, to that step's agent; the
 * other steps of the iteration follow through their own routes as their dependencies complete.
 */
public class LoopStepMapper extends AgentStepMapper {
    public LoopStepMapper(String replyQueue, ExecutionFactsCache facts) {
        super(replyQueue, facts);
    }

    @Override
    public boolean handles(WorkflowStep step) {
        return step.isLoop();
    }

    /**
     * Besides the step's routes, the one a redelivered reply of a settled iteration takes (see
     * ReplyRoutes): when that reply's message started the next iteration and it still runs, the
     * earlier delivery's rollback took its request away, so the retry sweep sends it again (its lease made due,
     * {@link #leaveResendToRetrySweep}); anything else goes on
     * as after any settled step.
     */
    @Override
    public void addRoutes(RouteBuilder routes, WorkflowDefinition workflow, WorkflowStep step) {
        super.addRoutes(routes, workflow, step);
        WorkflowStep first = firstOfIteration(workflow, step);
        ChoiceDefinition onNext = routes.from(Endpoints.iterationResend(workflow.id(), step.id()))
                .routeId(Endpoints.routeId(workflow.id(), step.id() + ".iteration-resend"))
                .routeDescription("a redelivered reply of an iteration: re-sends the next iteration it started")
                .setBody(constant(null))
                .setHeader(REPEAT_FROM, constant(first.id()))
                .to(Sql.row("find-next-iteration")).id(nodeId(workflow, step, "find-next-iteration"))
                .choice();
        leaveResendToRetrySweep(onNext.when(Sql.returnedRow())
                        .setHeader(ROW_ID, simple("${body[row_id]}"))
                        .setHeader(STEP_ID, constant(first.id()))
                        .process(exchange -> prepareResend(exchange, first)),
                workflow, first, "(iteration ${header.iteration}, redelivery)", ".iteration-resend");
        var none = onNext.endChoice()
                .otherwise();
        if (first != step && !first.locks().isEmpty()) {
            // complete-and-iterate-steps created that step pending, for its route to take its locks in a transaction of
            // its own: when the earlier delivery died before that start, its step route starts it now (it was left
            // pending until the stalled-execution sweep took it up, and only once nothing else of the execution ran).
            // Not on to the loop's done route then, as after the first delivery's start: the loop goes on, and a request
            // sent leaves no headers (the done route failed without the execution id, the delivery rolled back)
            none.setBody(constant(null))
                    .to(Sql.row("find-unstarted-iteration")).id(nodeId(workflow, step, "find-unstarted-iteration"))
                    .choice()
                        .when(Sql.returnedRow())
                            .setBody(constant(null))
                            .to(Endpoints.step(workflow.id(), first.id())).id(nodeId(workflow, step, "start-unstarted-iteration"))
                        .endChoice()
                        .otherwise()
                            .to(Endpoints.done(workflow.id(), step.id()))
                        .endChoice()
                    .end()
                .end();
            return;
        }
        none.to(Endpoints.done(workflow.id(), step.id()))
                .end();
    }

    /** The step each iteration after the first starts at: the loop's own, or its repeat_from. */
    static WorkflowStep firstOfIteration(WorkflowDefinition workflow, WorkflowStep step) {
        String from = step.loop().repeatFrom();
        return from == null ? step : workflow.step(from).orElse(step);
    }

    @Override
    protected void addIterationBranch(ChoiceDefinition onOutcome, WorkflowDefinition workflow, WorkflowStep step) {
        WorkflowStep first = firstOfIteration(workflow, step);
        if (first != step) {
            addIterationOverSteps(onOutcome, workflow, step, first);
            return;
        }
        var next = onOutcome.when(transitionIs(StepOutcome.Transition.ITERATE))
                .setHeader(LOCK_COUNT, constant(step.locks().size()))
                .setHeader(REPEAT_FROM, constant(step.id()))
                .to(Sql.row("complete-and-iterate")).id(nodeId(workflow, step, "next-iteration"))
                .filter(Sql.returnedRow())
                    .setProperty(ReplyRoutes.TRANSITION_APPLIED, org.apache.camel.builder.Builder.constant(true))
                .end()
                .choice()
                    .when(org.apache.camel.builder.PredicateBuilder.and(Sql.returnedRow(), simple("${body[status]} == 'pending'"),
                            simple("${body[waiting_for]} == null")))
                        // nothing is dispatched past the execution's deadline: its timeout skips the iteration (V39)
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} iteration ${body[iteration]}"
                                + " not started: its execution's deadline passed [execution ${header.executionId}]")
                    .endChoice()
                    .when(org.apache.camel.builder.PredicateBuilder.and(Sql.returnedRow(), simple("${body[status]} == 'pending'")))
                        // it lost a lock during the iteration: the lock sweep starts the next one once it has them again
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "step ${header.stepId} iteration ${body[iteration]} waits: "
                                + "the step no longer holds all its locks [execution ${header.executionId}]")
                    .endChoice()
                    .when(Sql.returnedRow())
                        .setHeader(INPUT, header(NEXT_INPUT))
                        .setHeader(ROW_ID, header(NEXT_ROW_ID));
        var dispatching = withContextAsItIsNow(next, workflow, step, step)
                        .process(exchange -> prepareDispatch(exchange, step));
        // as a step's request: a refusal by the broker is noted on the iteration's attempt and named in the failure
        sendRequest(dispatching, workflow, step, org.apache.camel.LoggingLevel.INFO, "iteration ${header.iteration} dispatched to",
                "(until not met: ${header." + LOOP_VERDICT + "})", ".again");
        dispatching
                    .endChoice()
                .end()
            .endChoice();
    }

    /**
     * The next iteration of a loop over several steps: one statement completes this iteration and creates the
     * next one's rows, its first step running; that step's request goes to its own agent.
     */
    private void addIterationOverSteps(ChoiceDefinition onOutcome, WorkflowDefinition workflow, WorkflowStep step, WorkflowStep first) {
        boolean firstTakesLocks = !first.locks().isEmpty();
        var started = onOutcome.when(transitionIs(StepOutcome.Transition.ITERATE))
                .setHeader(REPEAT_FROM, constant(first.id()))
                .setHeader(ITERATION_STEPS, constant(Json.write(workflow.iterationSteps(step))))
                .setHeader(FIRST_TAKES_LOCKS, constant(firstTakesLocks))
                .to(Sql.row("complete-and-iterate-steps")).id(nodeId(workflow, step, "next-iteration"))
                .filter(Sql.returnedRow())
                    .setProperty(ReplyRoutes.TRANSITION_APPLIED, constant(true))
                    .setHeader(ROW_ID, header(NEXT_ROW_ID))
                    .setHeader(STEP_ID, constant(first.id()));
        if (firstTakesLocks) {
            // created pending with its input: its step route takes its locks (or waits for them) and sends its request
            started.log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "loop of step " + step.id() + ": iteration ${body[iteration]}"
                            + " starts again at step ${header.stepId}, which takes its locks (until not met: ${header." + LOOP_VERDICT
                            + "}) [execution ${header.executionId}]")
                    .setBody(constant(null))
                    .to(Endpoints.step(workflow.id(), first.id())).id(nodeId(workflow, step, "next-iteration-locks"))
                .end()
            .endChoice();
            return;
        }
        var running = started.choice()
                .when(simple("${body[status]} != 'running'"))
                    // nothing is dispatched past the execution's deadline: its timeout skips the iteration (V39)
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "loop of step " + step.id() + ": iteration ${body[iteration]}"
                            + " not started: its execution's deadline passed [execution ${header.executionId}]")
                .otherwise();
        var dispatching = withContextAsItIsNow(running, workflow, step, first).process(exchange -> prepareDispatch(exchange, first));
        sendRequest(dispatching, workflow, step, first.agent(), org.apache.camel.LoggingLevel.INFO, "loop of step " + step.id()
                + ": iteration ${header.iteration} starts again at step ${header.stepId}, dispatched to agent." + first.agent()
                + " (until not met: ${header." + LOOP_VERDICT + "})", ".again");
        dispatching
                .end()
                .end()
            .endChoice();
    }

    /**
     * When the step an iteration starts at asks for the execution's context (config.include_context): the statement
     * that started it copied the context of its previous iteration, so its request carries the context as it is now
     * (the outputs and shared memory of the iteration that just completed), which is kept with the row, so that a
     * retry or a re-sent request carries the same. {@code at}'s body is the started row, and stays so.
     */
    private static <T extends org.apache.camel.model.ProcessorDefinition<T>> T withContextAsItIsNow(
            T at, WorkflowDefinition workflow, WorkflowStep step, WorkflowStep first) {
        if (!first.config().includesContext()) {
            return at;
        }
        return at.setProperty(ITERATION_ROW, body())
                .setHeader(WITH_SIGNALS, constant(true))
                .setHeader(WITH_SIGNAL_LIST, constant(true))
                .to(Sql.rows("load-context")).id(nodeId(workflow, step, "next-iteration-context"))
                .process(LoopStepMapper::takeIterationContext)
                .to(Sql.update("keep-iteration-context")).id(nodeId(workflow, step, "keep-iteration-context"))
                .setBody(org.apache.camel.builder.Builder.exchangeProperty(ITERATION_ROW))
                .removeProperty(ITERATION_ROW);
    }

    /** The exchange property that keeps the next iteration's row while its context is read and stored. */
    private static final String ITERATION_ROW = "loopIterationRow";

    /** The context read after the iteration completed: the request's, and the row's (a retry or a re-send carries it). */
    @SuppressWarnings("unchecked")
    private static void takeIterationContext(org.apache.camel.Exchange exchange) {
        org.apache.camel.Message in = exchange.getMessage();
        String context = RequestContexts.render(in.getBody(java.util.List.class));
        java.util.Map<String, Object> row = new java.util.HashMap<>(exchange.getProperty(ITERATION_ROW, java.util.Map.class));
        row.put("context", context);
        exchange.setProperty(ITERATION_ROW, row);
        in.setHeader(REQUEST_CONTEXT, context);
        in.setBody(null);
    }
}
