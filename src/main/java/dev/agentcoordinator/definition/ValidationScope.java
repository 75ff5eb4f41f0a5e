package dev.agentcoordinator.definition;

import java.util.List;

/**
 * Where a rule reports: one file, and optionally one step of it. A step without an id is named by
 * its position ({@code steps[3].agent}) so its problems still point somewhere.
 */
final class ValidationScope {
    private final String file;
    private final String stepId;
    private final String fieldPrefix;
    private final List<DefinitionError> errors;

    private ValidationScope(String file, String stepId, String fieldPrefix, List<DefinitionError> errors) {
        this.file = file;
        this.stepId = stepId;
        this.fieldPrefix = fieldPrefix;
        this.errors = errors;
    }

    static ValidationScope ofWorkflow(String file, List<DefinitionError> errors) {
        return new ValidationScope(file, null, "", errors);
    }

    ValidationScope forStep(int index, WorkflowStep step) {
        String id = step == null ? null : blankToNull(step.id());
        return new ValidationScope(file, id, id == null ? "steps[" + index + "]." : "", errors);
    }

    /** The step's id, or null for a step that has none. */
    String stepId() {
        return stepId;
    }

    String file() {
        return file;
    }

    void error(String field, String message) {
        String fullField = field == null ? blankToNull(stripDot(fieldPrefix)) : fieldPrefix + field;
        errors.add(new DefinitionError(file, stepId, fullField, message));
    }

    private static String stripDot(String prefix) {
        return prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
