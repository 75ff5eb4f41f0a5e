package dev.agentcoordinator.engine;

import java.sql.SQLException;

/**
 * A failure because PostgreSQL aborted the transaction to let a concurrent one through: a deadlock ({@code 40P01}, two
 * transitions that locked rows in different orders) or a serialization failure ({@code 40001}). Nothing is wrong with
 * the coordinator or the data: the message that ran it is delivered again, a sweep runs again at its next period, an
 * HTTP caller is answered its error. {@link DatabaseOutageErrors} logs it as one WARN line instead of Camel's ERROR with
 * a stack trace.
 */
public final class TransactionConflict {
    private TransactionConflict() {
    }

    /** Whether {@code failure} or one of its causes is such an abort. */
    public static boolean causes(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof org.springframework.dao.PessimisticLockingFailureException) {
                return true;
            }
            if (cause instanceof SQLException sql && ("40P01".equals(sql.getSQLState()) || "40001".equals(sql.getSQLState()))) {
                return true;
            }
        }
        return false;
    }
}
