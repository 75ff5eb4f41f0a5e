package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which undos a compensating execution sends next, and in which order. */
class CompensationPlannerTest {
    private static final List<String> STEPS = List.of("s01", "s02", "s03", "s04", "s05", "s06", "s07", "s08",
            "s09", "s10", "s11", "s12", "s13", "s14", "s15", "s16");

    private static WorkflowDefinition workflow() {
        StringBuilder yaml = new StringBuilder("id: undone\nname: undone\ntrigger: UNDONE\nsteps:\n");
        for (String step : STEPS) {
            yaml.append("  - { id: ").append(step).append(", agent: x, action: do, compensate: { agent: x, action: undo } }\n");
        }
        yaml.append("  - { id: last, agent: x, action: fail, depends_on: [").append(String.join(", ", STEPS)).append("] }\n");
        try {
            return new DefinitionReader().read("undone.yaml", yaml.toString()).definition();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> pendingUndo(String step) {
        Map<String, Object> row = new HashMap<>();
        row.put("execution_status", "compensating");
        row.put("row_id", "undo-" + step);
        row.put("step_id", step);
        row.put("status", "pending");
        row.put("step_input", "{}");
        row.put("step_output", "{}");
        return row;
    }

    /** Undos ready together go in the order load-compensations.sql reads them (by step id), not in a hash's order. */
    @Test
    void undosReadyTogetherAreSentInTheOrderOfTheirRows() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String step : STEPS) {
            rows.add(pendingUndo(step));
        }
        CompensationPlanner.Plan plan = new CompensationPlanner(workflow()).plan(rows, ExecutionContext.starting("{}"));

        assertThat(plan.settle()).isFalse();
        assertThat(plan.dispatches()).extracting(CompensationPlanner.Dispatch::stepId).containsExactlyElementsOf(STEPS);
    }
}
