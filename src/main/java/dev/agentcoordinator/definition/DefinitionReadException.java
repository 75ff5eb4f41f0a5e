package dev.agentcoordinator.definition;

import java.util.List;

/** A definition file that could not be read or parsed; {@link #errors()} say where and why. */
public class DefinitionReadException extends Exception {
    private final List<DefinitionError> errors;

    public DefinitionReadException(DefinitionError error, Throwable cause) {
        this(List.of(error), cause);
    }

    /** Several problems of one file (its unknown fields and wrong values, and one of another kind): the first is the message. */
    public DefinitionReadException(List<DefinitionError> errors, Throwable cause) {
        super(errors.get(0).toString(), cause);
        this.errors = List.copyOf(errors);
    }

    public DefinitionError error() {
        return errors.get(0);
    }

    public List<DefinitionError> errors() {
        return errors;
    }
}
