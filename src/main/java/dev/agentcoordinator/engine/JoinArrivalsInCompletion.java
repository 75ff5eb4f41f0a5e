package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.Exchange;

import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The fan-ins a completing step is a dependency of and does not start: its own statement records its
 * arrival there (complete-and-start.sql, V12) instead of the aggregator after the commit, which cost
 * three more round trips (read the join, ask whether every dependency settled, insert or update it).
 * The statement stores the join (as the aggregator would for a first arrival) or takes the existing
 * one's row lock, then counts the settled dependencies; when some has not settled, the arrival is
 * recorded and ends here. The arrival that finds every dependency settled, and every arrival that is
 * not a completion (a failed or skipped dependency), goes to the aggregator as before.
 */
final class JoinArrivalsInCompletion {
    /** Exchange property: the fan-ins (step ids) at which the completion's statement recorded its arrival. */
    static final String RECORDED = "joinArrivalsRecorded";

    private final List<WorkflowStep> fanIns;

    JoinArrivalsInCompletion(WorkflowDefinition workflow, WorkflowStep completing) {
        this.fanIns = workflow.repeatedSteps().contains(completing.id()) ? List.of()
                : workflow.dependentsOf(completing.id()).stream().filter(dependent -> dependent.dependsOn().size() > 1).toList();
    }

    boolean any() {
        return !fanIns.isEmpty();
    }

    /** The fan-ins among them that the completion does not start ({@code started}: step ids). */
    int notStarted(Collection<String> started) {
        int count = 0;
        for (WorkflowStep fanIn : fanIns) {
            if (!started.contains(fanIn.id())) {
                count++;
            }
        }
        return count;
    }

    /**
     * The statement's {@code arrivals} for the fan-ins the completion does not start ({@code started}: step
     * ids), each with the join the aggregator would store for a first arrival; null when there are none.
     */
    String json(Exchange completion, String executionId, Collection<String> started) {
        StringBuilder json = null;
        for (WorkflowStep fanIn : fanIns) {
            if (started.contains(fanIn.id())) {
                continue;
            }
            json = json == null ? new StringBuilder("[") : json.append(',');
            json.append("{\"join_key\":").append(Json.write(FanInRoutes.joinKey(executionId, fanIn.id())))
                    .append(",\"step_id\":").append(Json.write(fanIn.id()))
                    .append(",\"depends_on\":").append(Json.write(fanIn.dependsOn()))
                    .append(",\"exchange\":\"")
                    .append(Base64.getEncoder().encodeToString(FanInRoutes.firstArrivalJoin(completion, executionId, fanIn.id())))
                    .append("\"}");
        }
        return json == null ? null : json.append(']').toString();
    }

    /** The fan-ins at which the completion of {@code completingStep} recorded its arrival. */
    private record Recorded(String completingStep, Set<String> fanIns) {
    }

    /** Takes the statement's {@code arrived} column (comma-separated step ids, or null). */
    static void take(Exchange exchange, String completingStep, Object arrived) {
        if (arrived != null) {
            exchange.setProperty(RECORDED, new Recorded(completingStep, Set.of(((String) arrived).split(","))));
        }
    }

    /**
     * Whether the completion of the step whose done route this exchange walks ({@link Headers#STEP_ID})
     * recorded its arrival at the fan-in {@code joinStep} already. Only that step's: the exchange walks on
     * through the routes of the dependents that did not wait (a skipped one reaches its own fan-ins).
     */
    static boolean recorded(Exchange exchange, String joinStep) {
        return exchange.getProperty(RECORDED) instanceof Recorded recorded
                && recorded.fanIns().contains(joinStep)
                && recorded.completingStep().equals(exchange.getMessage().getHeader(Headers.STEP_ID));
    }
}
