package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.CompensationSpec.CompensationInput;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides which compensations of a compensating execution can run now: a step is compensated only
 * after every step that depended on it (directly or not) was, so the saga unwinds in reverse
 * dependency order. When nothing is left to run or wait for, the execution can settle.
 */
public final class CompensationPlanner {

    /**
     * A compensation to dispatch: its row and the input its mapping builds; or one running already, whose request
     * is sent again ({@code running}: its row as load-compensations.sql read it, else null).
     */
    public record Dispatch(String rowId, String stepId, String inputJson, Map<String, Object> running) {
        public Dispatch(String rowId, String stepId, String inputJson) {
            this(rowId, stepId, inputJson, null);
        }
    }

    /** Either settle the execution, or dispatch these (possibly none: others are still in flight). */
    public record Plan(boolean settle, List<Dispatch> dispatches) {
    }

    /** A row of load-compensations.sql: {@code read} is the row as read (the step undone's input and output, a running one's attempt). */
    private record Row(String rowId, String stepId, StepStatus status, Map<String, Object> read) {
        String stepInput() {
            return (String) read.get("step_input");
        }

        String stepOutput() {
            return (String) read.get("step_output");
        }
    }

    private final WorkflowDefinition workflow;

    public CompensationPlanner(WorkflowDefinition workflow) {
        this.workflow = workflow;
    }

    public Plan plan(List<Map<String, Object>> compensationRows, ExecutionContext context) {
        return plan(compensationRows, context, null);
    }

    /**
     * As {@link #plan(List, ExecutionContext)}, for the message {@code causeMessageId}: a compensation it started
     * (dispatched_by) that still runs is sent again, as a step's is (AgentStepMapper.resendApplies): its earlier
     * delivery's rollback took that request away.
     */
    public Plan plan(List<Map<String, Object>> compensationRows, ExecutionContext context, String causeMessageId) {
        Map<String, Row> rows = new LinkedHashMap<>();   // the rows' order: ready undos go in it
        for (Map<String, Object> r : compensationRows) {
            if (!"compensating".equals(r.get("execution_status"))) {
                return new Plan(false, List.of());
            }
            String stepId = (String) r.get("step_id");
            rows.put(stepId, new Row((String) r.get("row_id"), stepId, StepStatus.of((String) r.get("status")), r));
        }
        if (rows.values().stream().allMatch(r -> r.status().isSettled())) {
            return new Plan(true, List.of());
        }
        List<Dispatch> ready = new ArrayList<>();
        for (Row row : rows.values()) {
            if (row.status() == StepStatus.RUNNING && causeMessageId != null && causeMessageId.equals(row.read().get("dispatched_by"))) {
                ready.add(new Dispatch(row.rowId(), row.stepId(), null, row.read()));
                continue;
            }
            if (row.status() != StepStatus.PENDING) {
                continue;
            }
            boolean dependentsUndone = workflow.descendantsOf(row.stepId()).stream()
                    .map(rows::get).allMatch(d -> d == null || d.status().isSettled());
            if (dependentsUndone) {
                WorkflowStep step = workflow.step(row.stepId()).orElseThrow();
                ready.add(new Dispatch(row.rowId(), row.stepId(), Json.write(input(step, row, context))));
            }
        }
        return new Plan(false, ready);
    }

    private static ObjectNode input(WorkflowStep step, Row row, ExecutionContext context) {
        ObjectNode input = Json.object();
        Map<String, CompensationInput> mapping = step.compensate().inputMapping();
        if (mapping == null) {
            return input;
        }
        for (Map.Entry<String, CompensationInput> entry : mapping.entrySet()) {
            CompensationInput source = entry.getValue();
            JsonNode value;
            if (source.fromInput() != null) {
                value = Json.at(Json.parse(row.stepInput()), source.fromInput());
            } else if (source.fromOutput() != null) {
                value = Json.at(Json.parse(row.stepOutput()), source.fromOutput());
            } else if (source.fromTrigger() != null) {
                value = Json.at(context.trigger(), source.fromTrigger());
            } else if (source.fromStep() != null) {
                value = context.step(source.fromStep()).filter(s -> s.status() == StepStatus.COMPLETED)
                        .map(s -> Json.at(s.output(), source.outputKey())).orElse(null);
            } else {
                value = source.value();
            }
            if (value != null && !value.isMissingNode()) {
                input.set(entry.getKey(), value);
            }
        }
        return input;
    }
}
