package dev.agentcoordinator.definition;

/**
 * One problem in a workflow definition file. {@code stepId} is null for workflow-level problems
 * (and for parse errors, whose {@code field} is the JSON path instead, e.g. {@code steps[2].config}).
 * {@code field} may be null when the problem concerns the whole file.
 */
public record DefinitionError(String file, String stepId, String field, String message) {

    public static DefinitionError ofWorkflow(String file, String field, String message) {
        return new DefinitionError(file, null, field, message);
    }

    public static DefinitionError ofStep(String file, String stepId, String field, String message) {
        return new DefinitionError(file, stepId, field, message);
    }

    /** {@code interview_completed.yaml: step "adjust_roadmap": condition.step: "x" is not a step of this workflow}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(file).append(": ");
        if (stepId != null) {
            s.append("step \"").append(stepId).append("\": ");
        }
        if (field != null && !field.isEmpty()) {
            s.append(field).append(": ");
        }
        return s.append(message).toString();
    }
}
