package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.JsonMappingException;

import java.util.List;
import java.util.Set;

/**
 * Which rule problems of a step may follow from a value the read took out of it (of the wrong type, or a misspelt
 * field): those at the same place, which the rules see as missing. A step's config is one place per setting (the two
 * backoff settings are checked against each other: one place); any other field of the step is one place with all it
 * holds ({@code locks}, {@code loop}, {@code compensate}, ...). A problem of the whole step may follow from any of them.
 */
final class WrongFields {

    private WrongFields() {
    }

    /**
     * The place of a field taken out of a step ({@code steps[i].<field>…}), relative to the step, such as
     * {@code config.retry_count} or {@code locks[1]}; a misspelt field's last part is the field it may stand for
     * ({@code standsFor}), null for a value of the wrong type.
     */
    static String inTheStep(List<JsonMappingException.Reference> path, String standsFor) {
        StringBuilder field = new StringBuilder();
        for (int i = 2; i < path.size(); i++) {
            JsonMappingException.Reference part = path.get(i);
            String name = i == path.size() - 1 && standsFor != null ? standsFor : part.getFieldName();
            if (name != null) {
                field.append(field.length() == 0 ? "" : ".").append(name);
            } else {
                field.append('[').append(part.getIndex()).append(']');
            }
        }
        return field.toString();
    }

    /** Whether a rule problem at {@code problemField} (null: the whole step) may follow from the values taken out at {@code wrong}. */
    static boolean mayFollowFrom(String problemField, Set<String> wrong) {
        return !wrong.isEmpty() && (problemField == null || wrong.stream().anyMatch(field -> place(field).equals(place(problemField))));
    }

    private static String place(String field) {
        String[] parts = field.split("[.\\[]", 3);
        if (!"config".equals(parts[0]) || parts.length < 2) {
            return parts[0];
        }
        return parts[1].startsWith("retry_backoff") ? "config.retry_backoff" : "config." + parts[1];
    }
}
