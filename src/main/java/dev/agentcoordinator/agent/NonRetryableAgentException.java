package dev.agentcoordinator.agent;

/**
 * Thrown by a handler when trying again cannot help (bad input, missing entity): the coordinator
 * gets an error reply with {@code "retryable": false} and does not retry the step.
 */
public class NonRetryableAgentException extends RuntimeException {

    public NonRetryableAgentException(String message) {
        super(message);
    }

    public NonRetryableAgentException(String message, Throwable cause) {
        super(message, cause);
    }
}
