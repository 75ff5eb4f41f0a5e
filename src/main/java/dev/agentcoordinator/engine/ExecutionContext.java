package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the database says about one execution at the moment a step is considered: its status,
 * trigger payload, shared memory and the latest row of every step. Built from load-context.sql.
 */
public final class ExecutionContext {

    /** The latest iteration of one step. */
    public record StepState(String rowId, String stepId, StepStatus status, String outputJson, int iteration) {
        public JsonNode output() {
            return Json.parse(outputJson);
        }
    }

    private final String executionStatus;
    private final String triggerJson;
    private final String sharedMemoryJson;
    private final String signalsJson;
    private final Map<String, StepState> steps;

    private ExecutionContext(String executionStatus, String triggerJson, String sharedMemoryJson, String signalsJson,
                             Map<String, StepState> steps) {
        this.executionStatus = executionStatus;
        this.triggerJson = triggerJson;
        this.sharedMemoryJson = sharedMemoryJson;
        this.signalsJson = signalsJson;
        this.steps = steps;
    }

    /** From the rows of load-context.sql; empty when the execution does not exist. */
    public static Optional<ExecutionContext> fromRows(List<Map<String, Object>> rows) {
        if (rows == null || rows.isEmpty()) {
            return Optional.empty();
        }
        Map<String, Object> first = rows.get(0);
        Map<String, StepState> steps = new HashMap<>();
        for (Map<String, Object> row : rows) {
            if (row.get("step_id") != null) {
                String stepId = (String) row.get("step_id");
                steps.put(stepId, new StepState((String) row.get("row_id"), stepId, StepStatus.of((String) row.get("status")),
                        (String) row.get("output"), ((Number) row.get("iteration")).intValue()));
            }
        }
        return Optional.of(new ExecutionContext((String) first.get("execution_status"), (String) first.get("trigger_payload"),
                (String) first.get("shared_memory"), (String) first.get("signals"), steps));
    }

    /** An execution that is being created: running, its trigger, nothing else yet. */
    public static ExecutionContext starting(String triggerJson) {
        return new ExecutionContext("running", triggerJson, "{}", null, Map.of());
    }

    /** A running execution with these steps, no shared memory and no signals ({@link DependentStarts}). */
    static ExecutionContext running(String triggerJson, Map<String, StepState> steps) {
        return new ExecutionContext("running", triggerJson, "{}", null, steps);
    }

    public boolean isRunning() {
        return "running".equals(executionStatus);
    }

    public JsonNode trigger() {
        return Json.parse(triggerJson);
    }

    public JsonNode sharedMemory() {
        return Json.parse(sharedMemoryJson);
    }

    /** Data of the latest signal of each type (only loaded for steps that map from_signal). */
    public JsonNode latestSignals() {
        return Json.parse(signalsJson);
    }

    public Optional<StepState> step(String stepId) {
        return Optional.ofNullable(steps.get(stepId));
    }
}
