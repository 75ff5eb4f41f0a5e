package dev.agentcoordinator.infra;

/**
 * Whether a thread is in the Artemis client's wait for producer credits (ClientProducerCreditsImpl#acquireCredits): the
 * client acquires them before it writes a byte, so a send interrupted there sent nothing. The client offers no other
 * signal of that wait; a broker that blocks producers (an address full under BLOCK, its disk past max-disk-usage) keeps
 * a sender in it without end.
 */
public final class ProducerCreditWait {
    private ProducerCreditWait() {
    }

    /** Whether these frames (a thread's stack, or a throwable's) are in that wait. */
    public static boolean in(StackTraceElement[] frames) {
        for (StackTraceElement frame : frames) {
            if (frame.getClassName().startsWith("org.apache.activemq.artemis.core.client.impl.")
                    && frame.getClassName().contains("ProducerCredits") && frame.getMethodName().equals("acquireCredits")) {
                return true;
            }
        }
        return false;
    }
}
