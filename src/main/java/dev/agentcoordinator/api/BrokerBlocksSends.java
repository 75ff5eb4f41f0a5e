package dev.agentcoordinator.api;

/**
 * A send the broker held back (it grants the producer no credits: its disk past {@code max-disk-usage}, or the address
 * full under {@code address-full-policy} BLOCK) and that the API stopped waiting for: answered 503 with this message.
 */
final class BrokerBlocksSends extends RuntimeException {
    /** Whether the message was provably not sent; false when it may still reach the queue. */
    private final boolean notSent;

    BrokerBlocksSends(String message, boolean notSent) {
        super(message, null, false, false);
        this.notSent = notSent;
    }

    boolean notSent() {
        return notSent;
    }
}
