package dev.agentcoordinator.definition;

/** A definition file that could not be read or parsed; {@link #error()} says where and why. */
public class DefinitionReadException extends Exception {
    private final DefinitionError error;

    public DefinitionReadException(DefinitionError error, Throwable cause) {
        super(error.toString(), cause);
        this.error = error;
    }

    public DefinitionError error() {
        return error;
    }
}
