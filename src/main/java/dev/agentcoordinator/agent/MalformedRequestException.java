package dev.agentcoordinator.agent;

/** A request body that is not a step request (not JSON, or no action). Never retryable. */
final class MalformedRequestException extends Exception {

    MalformedRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
