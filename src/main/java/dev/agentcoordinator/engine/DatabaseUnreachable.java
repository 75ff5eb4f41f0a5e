package dev.agentcoordinator.engine;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.List;

/**
 * Tells a failure because PostgreSQL cannot be reached (an outage: retry later, nothing is wrong with
 * the message) from any other. The outage breakers pause on it, the routes log it in one line, the
 * HTTP API answers 503 for it.
 */
public final class DatabaseUnreachable {
    /** What Spring, the pool and the JDBC driver throw when PostgreSQL cannot be reached. */
    private static final List<Class<?>> TYPES = List.of(DataAccessResourceFailureException.class,
            TransientDataAccessResourceException.class, SQLTransientConnectionException.class,
            SQLNonTransientConnectionException.class);

    /** SQL state read_only_sql_transaction: a write on a standby, or in a read-only transaction. */
    public static final String READ_ONLY = "25006";

    private DatabaseUnreachable() {
    }

    /**
     * Whether the failure is a write refused as read-only (25006, see {@link #causes}): the database answers, to reads
     * too, as a standby does.
     */
    public static boolean readOnly(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && READ_ONLY.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the failure is PostgreSQL out of a resource (SQL state class 53: 53100 disk full, {@code could not extend
     * file}; 53200 out of memory): Spring reports it as the database unreachable, though a full disk still answers reads.
     */
    public static boolean outOfResources(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // a transaction whose rollback failed after the database went (a connection the pool closed): Spring throws
            // the rollback's failure, which says nothing, and keeps the one that does as its application exception
            if (t instanceof org.springframework.transaction.TransactionSystemException rollback
                    && rollback.getApplicationException() != null && rollback.getApplicationException() != failure
                    && causes(rollback.getApplicationException())) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("53")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The cause that says what the database did in the driver's own words: the innermost SQLException ("Connection to
     * host:port refused. Check that …"), else the innermost cause. Spring's and Flyway's wrappers say neither.
     */
    public static Throwable inTheDriversWords(Throwable failure) {
        Throwable told = failure;
        for (Throwable cause = failure; cause != null && cause.getCause() != cause; cause = cause.getCause()) {
            if (cause instanceof java.sql.SQLException || !(told instanceof java.sql.SQLException)) {
                told = cause;
            }
        }
        return told;
    }

    /**
     * Whether the failure or one of its causes is one of {@link #TYPES}, or a JDBC error that code on a
     * raw connection let through untranslated whose SQL state is of class 08 (connection exception) or
     * 57P01 to 57P03 (admin shutdown, crash shutdown, cannot connect now), which is what pgjdbc reports
     * when PostgreSQL stops under a connection, or 25006 (a write refused as read-only: after a fail-over the
     * pool may reach a standby; nothing is wrong with the message either).
     */
    public static boolean causes(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            for (Class<?> type : TYPES) {
                if (type.isInstance(t)) {
                    return true;
                }
            }
            // a transaction whose rollback failed after the database went (a connection the pool closed): Spring throws
            // the rollback's failure, which says nothing, and keeps the one that does as its application exception
            if (t instanceof org.springframework.transaction.TransactionSystemException rollback
                    && rollback.getApplicationException() != null && rollback.getApplicationException() != failure
                    && causes(rollback.getApplicationException())) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().matches("57P0[123]")
                        || sql.getSQLState().equals(READ_ONLY))) {
                return true;
            }
        }
        return false;
    }
}
