package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

import static dev.agentcoordinator.engine.Headers.*;
import static org.apache.camel.builder.Builder.constant;
import static org.apache.camel.builder.Builder.header;
import static org.apache.camel.builder.Builder.simple;

/**
 * Iterative refinement (spec pattern 4): like an agent step, but a reply whose output does not yet
 * satisfy {@code loop.until} completes that iteration and dispatches the next one, until the bound.
 * Each iteration is a row of its own. The iterations are a cycle of messages, not Camel's loop EIP,
 * because that EIP would hold a thread for the whole refinement.
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
     * earlier delivery's rollback took its request away, so it is sent again; anything else goes on
     * as after any settled step.
     */
    @Override
    public void addRoutes(RouteBuilder routes, WorkflowDefinition workflow, WorkflowStep step) {
        super.addRoutes(routes, workflow, step);
        ChoiceDefinition onNext = routes.from(Endpoints.iterationResend(workflow.id(), step.id()))
                .routeId(Endpoints.routeId(workflow.id(), step.id() + ".iteration-resend"))
                .routeDescription("a redelivered reply of an iteration: re-sends the next iteration it started")
                .setBody(constant(null))
                .to(Sql.row("find-next-iteration")).id(nodeId(workflow, step, "find-next-iteration"))
                .choice();
        sendRequest(onNext.when(Sql.returnedRow())
                        .setHeader(ROW_ID, simple("${body[row_id]}"))
                        .process(exchange -> prepareResend(exchange, step)),
                workflow, step, org.apache.camel.LoggingLevel.WARN, "request re-sent to",
                "(iteration ${header.iteration}, redelivery)", ".iteration-resend");
        onNext.endChoice()
                .otherwise()
                    .to(Endpoints.done(workflow.id(), step.id()))
                .end();
    }

    @Override
    protected void addIterationBranch(ChoiceDefinition onOutcome, WorkflowDefinition workflow, WorkflowStep step) {
        onOutcome.when(transitionIs(StepOutcome.Transition.ITERATE))
                .setHeader(LOCK_COUNT, constant(step.locks().size()))
                .to(Sql.row("complete-and-iterate")).id(nodeId(workflow, step, "next-iteration"))
                .filter(Sql.returnedRow())
                    .setProperty(ReplyRoutes.TRANSITION_APPLIED, org.apache.camel.builder.Builder.constant(true))
                .end()
                .choice()
                    .when(org.apache.camel.builder.PredicateBuilder.and(Sql.returnedRow(), simple("${body[status]} == 'pending'")))
                        // it lost a lock during the iteration: the lock sweep starts the next one once it has them again
                        .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "step ${header.stepId} iteration ${body[iteration]} waits: "
                                + "the step no longer holds all its locks [execution ${header.executionId}]")
                    .endChoice()
                    .when(Sql.returnedRow())
                        .setHeader(INPUT, header(NEXT_INPUT))
                        .setHeader(ROW_ID, header(NEXT_ROW_ID))
                        .process(exchange -> prepareDispatch(exchange, step))
                        .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} iteration ${header.iteration} dispatched to agent." + step.agent()
                                + " [execution ${header.executionId}]")
                        .process(exchange -> StepRequests.build(exchange, replyQueue))
                        .to(agentEndpoint(Endpoints.agentQueue(step.agent()))).id(nodeId(workflow, step, "agent." + step.agent() + ".again"))
                    .endChoice()
                .end()
            .endChoice();
    }
}
