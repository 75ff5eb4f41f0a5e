package dev.agentcoordinator.engine;

import org.springframework.jms.JmsException;

/**
 * The send of a step's or compensation's request that the broker answered with a refusal (an address full whose policy
 * is FAIL, a user without the send permission), raised in its place so that Camel's "Failed delivery … caught:" line
 * names the broker's reason: the JMS producer raises Spring's UncategorizedJmsException, whose message ("Uncategorized
 * exception occurred during JMS processing") leaves it to the "Caused by" lines. A {@link JmsException} still, with
 * the original as its cause, so that what matched the failure before matches it as before.
 */
final class UnacceptedRequestException extends JmsException {
    UnacceptedRequestException(Throwable refusal) {
        super("the broker did not accept the request: " + RepeatedRefusals.brokersWords(refusal), refusal);
    }
}
