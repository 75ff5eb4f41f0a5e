package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which failures are PostgreSQL letting a concurrent transaction through (one WARN line), not a fault (an ERROR). */
class TransactionConflictTest {

    @Test
    void aDeadlockOrSerializationFailureAnywhereInTheCausesIsAConflict() {
        SQLException deadlock = new PSQLException("ERROR: deadlock detected", PSQLState.DEADLOCK_DETECTED);
        assertThat(TransactionConflict.causes(new org.apache.camel.CamelExecutionException("route failed", null,
                new org.springframework.jdbc.UncategorizedSQLException("find-stalled-executions", "SELECT …", deadlock)))).isTrue();
        assertThat(TransactionConflict.causes(new PSQLException("could not serialize access", PSQLState.SERIALIZATION_FAILURE))).isTrue();
        assertThat(TransactionConflict.causes(new org.springframework.dao.CannotAcquireLockException("lock not available"))).isTrue();

        assertThat(TransactionConflict.causes(new PSQLException("duplicate key", PSQLState.UNIQUE_VIOLATION))).isFalse();
        assertThat(TransactionConflict.causes(new IllegalStateException("no cause"))).isFalse();
        assertThat(TransactionConflict.causes(null)).isFalse();
    }

    /**
     * A sweep that lost a deadlock to a cancel (the SQL reviewer's cancel against the stalled-execution sweep): one WARN
     * line naming the route, not Camel's ERROR with the stack; the failure stays, so a message is delivered again.
     */
    @Test
    void aRouteWhoseTransactionLostADeadlockSaysSoInOneWarnLine() throws Exception {
        try (org.apache.camel.CamelContext camel = new org.apache.camel.impl.DefaultCamelContext();
             CapturedLog database = CapturedLog.of(DatabaseOutageErrors.LOG_NAME);
             CapturedLog camelErrors = CapturedLog.of("org.apache.camel")) {
            camel.addRoutes(new DatabaseOutageErrors());
            camel.addRoutes(new org.apache.camel.builder.RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:sweep").routeId("coordinator.stalled-executions").process(exchange -> {
                        throw new org.springframework.dao.CannotAcquireLockException("deadlock detected",
                                new PSQLException("ERROR: deadlock detected", PSQLState.DEADLOCK_DETECTED));
                    });
                }
            });
            camel.start();
            org.apache.camel.Exchange failed = camel.createProducerTemplate().send("direct:sweep", exchange -> { });
            assertThat(failed.getException()).isNotNull();
            assertThat(database.lines()).singleElement().asString().startsWith("WARN route coordinator.stalled-executions: PostgreSQL"
                    + " aborted its transaction in a conflict with a concurrent one");
            assertThat(camelErrors.atLeast(org.apache.logging.log4j.Level.ERROR)).isEmpty();
        }
    }
}
