package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class DatabaseOutageBreakerTest {

    @Test
    void anUntranslatedDriverErrorThatSaysTheConnectionIsGoneCountsAsAnOutage() {
        var brokenSocket = new PSQLException("An I/O error occurred while sending to the backend.", PSQLState.CONNECTION_FAILURE);
        assertThat(DatabaseOutageBreaker.lostTheDatabase(new IllegalStateException("join gate", brokenSocket))).isTrue();
        assertThat(DatabaseOutageBreaker.lostTheDatabase(
                new PSQLException("refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT))).isTrue();
    }

    @Test
    void aServerShuttingDownOrStartingCountsAsAnOutage() {
        for (String state : new String[] {"57P01", "57P02", "57P03"}) {
            assertThat(DatabaseOutageBreaker.lostTheDatabase(new SQLException("terminating connection", state)))
                    .as(state).isTrue();
        }
    }

    @Test
    void errorsOfTheStatementItselfDoNot() {
        assertThat(DatabaseOutageBreaker.lostTheDatabase(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(DatabaseOutageBreaker.lostTheDatabase(new SQLException("statement timeout", "57014"))).isFalse();
        assertThat(DatabaseOutageBreaker.lostTheDatabase(new SQLException("no state"))).isFalse();
        assertThat(DatabaseOutageBreaker.lostTheDatabase(new IllegalArgumentException("not SQL"))).isFalse();
        assertThat(DatabaseOutageBreaker.lostTheDatabase(null)).isFalse();
    }
}
