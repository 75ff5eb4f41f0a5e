package dev.agentcoordinator.definition;

import java.util.List;

/** Every problem found in a set of definition files; the message lists them all, one per line. */
public class InvalidDefinitionsException extends Exception {
    private final List<String> errors;

    public InvalidDefinitionsException(List<String> errors) {
        super(errors.size() + " problem(s) in workflow definitions:\n  - " + String.join("\n  - ", errors));
        this.errors = List.copyOf(errors);
    }

    public List<String> errors() {
        return errors;
    }
}
