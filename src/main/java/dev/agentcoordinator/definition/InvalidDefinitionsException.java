package dev.agentcoordinator.definition;

import java.util.List;

/**
 * Every problem found in a set of definition files; the message lists them all, one per line, and then the warnings
 * about the definitions that were read (look-alike agent names): a misspelt agent is worth telling beside the errors,
 * not only once they are mended.
 */
public class InvalidDefinitionsException extends Exception {
    private final List<String> errors;
    private final List<String> warnings;

    public InvalidDefinitionsException(List<String> errors) {
        this(errors, List.of());
    }

    public InvalidDefinitionsException(List<String> errors, List<String> warnings) {
        super(errors.size() + " problem(s) in workflow definitions:\n  - " + String.join("\n  - ", errors)
                + warnings.stream().map(warning -> "\n  warning: " + warning).reduce("", String::concat));
        this.errors = List.copyOf(errors);
        this.warnings = List.copyOf(warnings);
    }

    public List<String> errors() {
        return errors;
    }

    /** Warnings about the definitions read (each file that could be read on its own), beside the errors. */
    public List<String> warnings() {
        return warnings;
    }
}
