package dev.agentcoordinator.engine;

/** An event that cannot be decoded; it goes to the dead-letter queue with this message as the reason. */
public class InvalidEventException extends RuntimeException {
    public InvalidEventException(String message) {
        super(message);
    }

    public InvalidEventException(String message, Throwable cause) {
        super(message, cause);
    }
}
