package dev.agentcoordinator.definition;

import java.util.List;
import java.util.Optional;

/** A definition file that could not be read or parsed; {@link #errors()} say where and why. */
public class DefinitionReadException extends Exception {
    private final List<DefinitionError> errors;
    private final transient LoadedDefinition named;

    public DefinitionReadException(DefinitionError error, Throwable cause) {
        this(List.of(error), cause);
    }

    /** Several problems of one file (its unknown fields and wrong values, and one of another kind): the first is the message. */
    public DefinitionReadException(List<DefinitionError> errors, Throwable cause) {
        this(errors, cause, null);
    }

    /** As above, of a file read far enough to know its id, trigger and completion events ({@code named}). */
    public DefinitionReadException(List<DefinitionError> errors, Throwable cause, LoadedDefinition named) {
        super(errors.get(0).toString(), cause);
        this.errors = List.copyOf(errors);
        this.named = named;
    }

    public DefinitionError error() {
        return errors.get(0);
    }

    public List<DefinitionError> errors() {
        return errors;
    }

    /**
     * The definition as far as it was read, when its own rules cannot be checked (a misspelt {@code depends_on} leaves
     * its steps' graph unknown) but its names can: the checks across files (ids, triggers, chains) still count it.
     */
    public Optional<LoadedDefinition> named() {
        return Optional.ofNullable(named);
    }
}
