package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import org.apache.camel.Exchange;

import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The fan-ins a completing step is a dependency of, whose partial join its own statement records
 * when it is the first arrival (complete-and-start.sql, V12): the join is inserted in the same
 * transaction as the completion, instead of reaching the aggregator after the commit and costing
 * three more round trips (read the join, ask whether every dependency settled, insert it). The
 * statement inserts only when some dependency of the fan-in has not settled and no join exists; any
 * other arrival, and every arrival of a fan-in it did not record, goes to the aggregator as before.
 */
final class FirstJoinArrivals {
    /** Exchange property: the fan-ins (step ids) whose join the completion's statement recorded. */
    static final String RECORDED = "joinArrivalsRecorded";

    private final List<WorkflowStep> fanIns;

    FirstJoinArrivals(WorkflowDefinition workflow, WorkflowStep completing) {
        this.fanIns = completing.isLoop() ? List.of()
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
     * ids), each with the join the aggregator would store for this arrival; null when there are none.
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

    /** The fan-ins whose join the completion of {@code completingStep} recorded. */
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
