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

class DatabaseOutageBreakerTest {

    @Test
    void whatSpringAndThePoolMakeOfAnOutageCountsAsOne() {
        var translated = new DataAccessResourceFailureException("PreparedStatementCallback",
                new SQLException("the connection is gone"));
        assertThat(DatabaseOutageBreaker.unreachable(new RuntimeCamelException(translated))).isTrue();
        assertThat(DatabaseOutageBreaker.unreachable(new CannotGetJdbcConnectionException("Failed to obtain JDBC Connection",
                new SQLTransientConnectionException("coordinator-db - Connection is not available")))).isTrue();
    }

    @Test
    void anUntranslatedDriverErrorThatSaysTheConnectionIsGoneCountsAsAnOutage() {
        var brokenSocket = new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
        assertThat(DatabaseOutageBreaker.unreachable(new IllegalStateException("join gate", brokenSocket))).isTrue();
        assertThat(DatabaseOutageBreaker.unreachable(
                new PSQLException("refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT))).isTrue();
    }

    @Test
    void aServerShuttingDownOrStartingCountsAsAnOutage() {
        for (String state : new String[] {"57P01", "57P02", "57P03"}) {
            assertThat(DatabaseOutageBreaker.unreachable(new SQLException("terminating connection", state)))
                    .as(state).isTrue();
        }
    }

    @Test
    void errorsOfTheStatementItselfDoNot() {
        assertThat(DatabaseOutageBreaker.unreachable(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(DatabaseOutageBreaker.unreachable(new SQLException("statement timeout", "57014"))).isFalse();
        assertThat(DatabaseOutageBreaker.unreachable(new SQLException("no state"))).isFalse();
        assertThat(DatabaseOutageBreaker.unreachable(new IllegalArgumentException("not SQL"))).isFalse();
        assertThat(DatabaseOutageBreaker.unreachable(null)).isFalse();
    }
}
