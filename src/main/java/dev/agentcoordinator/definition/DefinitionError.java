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
        return visible(s.append(message));
    }

    /**
     * {@code text} with what cannot be seen (control characters but line breaks, zero-width and other format characters,
     * spaces other than ' ') written as {@code \\u200b}: an id with such a character read as "a" with a zero-width space after
     * it, {@code "a" is not a valid name}.
     */
    static String visible(CharSequence text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            int type = Character.getType(c);
            boolean unseen = c != '\n' && (Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || (type == Character.SPACE_SEPARATOR && c != ' '));
            if (unseen) {
                out.append(String.format(java.util.Locale.ROOT, "\\u%04x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
