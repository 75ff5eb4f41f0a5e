package dev.agentcoordinator.engine;

import org.apache.camel.RuntimeCamelException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseUnreachableTest {

    @Test
    void whatSpringAndThePoolMakeOfAnOutageCountsAsOne() {
        var translated = new DataAccessResourceFailureException("PreparedStatementCallback",
                new SQLException("the connection is gone"));
        assertThat(DatabaseUnreachable.causes(new RuntimeCamelException(translated))).isTrue();
        assertThat(DatabaseUnreachable.causes(new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLTransientConnectionException("coordinator-db - Connection is not available")))).isTrue();
    }

    /**
     * A fan-in's join under a PostgreSQL restart: the insert failed as the server went, then the rollback failed on the
     * connection the pool had closed; Spring throws the rollback's failure and keeps the first as its application
     * exception (a chaos run logged an ERROR where the route should pause).
     */
    @Test
    void aTransactionWhoseRollbackFailedAfterTheServerWentCountsAsAnOutage() {
        var rollback = new org.springframework.transaction.TransactionSystemException("Could not roll back JDBC transaction",
                new SQLException("Connection is closed"));
        rollback.initApplicationException(new PSQLException("FATAL: terminating connection due to administrator command",
                PSQLState.valueOf("CONNECTION_FAILURE")));
        assertThat(DatabaseUnreachable.causes(new RuntimeCamelException("Error adding to repository step_joins", rollback))).isTrue();
        var ofTheMessage = new org.springframework.transaction.TransactionSystemException("Could not roll back JDBC transaction",
                new SQLException("Connection is closed"));
        ofTheMessage.initApplicationException(new IllegalArgumentException("not JSON"));
        assertThat(DatabaseUnreachable.causes(ofTheMessage)).isFalse();
    }

    @Test
    void aFullDiskIsAnOutageOutOfResources() {
        var full = new DataAccessResourceFailureException("PreparedStatementCallback",
                new SQLException("could not extend file \"base/16384/16402\": No space left on device", "53100"));
        assertThat(DatabaseUnreachable.causes(full)).isTrue();
        assertThat(DatabaseUnreachable.outOfResources(new RuntimeCamelException(full))).isTrue();
        assertThat(DatabaseUnreachable.outOfResources(new SQLException("the connection is gone", "08006"))).isFalse();
    }

    @Test
    void anUntranslatedDriverErrorThatSaysTheConnectionIsGoneCountsAsAnOutage() {
        var brokenSocket = new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
        assertThat(DatabaseUnreachable.causes(new IllegalStateException("join gate", brokenSocket))).isTrue();
        assertThat(DatabaseUnreachable.causes(
                new PSQLException("refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT))).isTrue();
    }

    @Test
    void aServerShuttingDownOrStartingCountsAsAnOutage() {
        for (String state : new String[] {"57P01", "57P02", "57P03"}) {
            assertThat(DatabaseUnreachable.causes(new SQLException("terminating connection", state)))
                    .as(state).isTrue();
        }
    }

    /** After a fail-over the pool may reach a standby: its writes are refused as read-only, which no message can help. */
    @Test
    void aWriteRefusedAsReadOnlyCountsAsAnOutage() {
        assertThat(DatabaseUnreachable.causes(new org.springframework.jdbc.UncategorizedSQLException("PreparedStatementCallback", "UPDATE …",
                new SQLException("cannot execute UPDATE in a read-only transaction", "25006")))).isTrue();
    }

    /** A standby answers reads: an outage of that kind does not refuse the API's (KnownDatabaseOutage). */
    @Test
    void aWriteRefusedAsReadOnlyIsToldFromAnUnreachableDatabase() {
        assertThat(DatabaseUnreachable.readOnly(new org.springframework.jdbc.UncategorizedSQLException("PreparedStatementCallback", "UPDATE …",
                new SQLException("cannot execute UPDATE in a read-only transaction", "25006")))).isTrue();
        assertThat(DatabaseUnreachable.readOnly(new PSQLException("Connection refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT))).isFalse();
    }

    @Test
    void errorsOfTheStatementItselfDoNot() {
        assertThat(DatabaseUnreachable.causes(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(DatabaseUnreachable.causes(new SQLException("statement timeout", "57014"))).isFalse();
        assertThat(DatabaseUnreachable.causes(new SQLException("no state"))).isFalse();
        assertThat(DatabaseUnreachable.causes(new IllegalArgumentException("not SQL"))).isFalse();
        assertThat(DatabaseUnreachable.causes(null)).isFalse();
    }
}
