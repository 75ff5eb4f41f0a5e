package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.model.ChoiceDefinition;

import static dev.agentcoordinator.engine.Headers.*;
import static org.apache.camel.builder.Builder.header;

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

    @Override
    protected void addIterationBranch(ChoiceDefinition onOutcome, WorkflowDefinition workflow, WorkflowStep step) {
        onOutcome.when(transitionIs(StepOutcome.Transition.ITERATE))
                .to(Sql.row("complete-and-iterate")).id(nodeId(workflow, step, "next-iteration"))
                .filter(Sql.returnedRow())
                    .setProperty(ReplyRoutes.TRANSITION_APPLIED, org.apache.camel.builder.Builder.constant(true))
                    .setHeader(INPUT, header(NEXT_INPUT))
                    .setHeader(ROW_ID, header(NEXT_ROW_ID))
                    .process(exchange -> prepareDispatch(exchange, step))
                    .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "step ${header.stepId} iteration ${header.iteration} dispatched to agent." + step.agent()
                            + " [execution ${header.executionId}]")
                    .process(exchange -> StepRequests.build(exchange, replyQueue))
                    .to(agentEndpoint(Endpoints.agentQueue(step.agent()))).id(nodeId(workflow, step, "agent." + step.agent() + ".again"))
                .end()
            .endChoice();
    }
}
