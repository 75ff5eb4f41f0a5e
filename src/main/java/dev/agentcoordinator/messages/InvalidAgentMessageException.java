package dev.agentcoordinator.messages;

/** An agent message that cannot be accepted: says which field is wrong. (An IllegalArgumentException: the HTTP API answers 400.) */
public class InvalidAgentMessageException extends IllegalArgumentException {
    public InvalidAgentMessageException(String message) {
        super(message);
    }
}
