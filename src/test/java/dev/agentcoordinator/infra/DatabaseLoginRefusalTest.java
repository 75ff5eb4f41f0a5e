package dev.agentcoordinator.infra;

import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which failures of the first connection are a refused login, which stops the start at once naming coordinator.db.user
 * and coordinator.db.password, rather than a database not up yet, tried again for coordinator.db.start-wait-ms.
 */
class DatabaseLoginRefusalTest {

    @Test
    void aPasswordTheServerAsksForAndNoneWasGivenIsARefusedLogin() {
        // pgjdbc's words and state when the server asks for a password (scram-sha-256, md5) and the settings give none:
        // it was tried again for a minute, its message naming no setting
        assertThat(Infrastructure.loginRefused(new PSQLException(
                "The server requested SCRAM-based authentication, but no password was provided.", PSQLState.CONNECTION_REJECTED))).isTrue();
        assertThat(Infrastructure.loginRefused(new PSQLException(
                "The server requested password-based authentication, but no password was provided.", PSQLState.CONNECTION_REJECTED))).isTrue();
        assertThat(Infrastructure.loginRefused(new PSQLException("password authentication failed for user \"c\"",
                PSQLState.INVALID_PASSWORD))).isTrue();
    }

    @Test
    void aDatabaseNotUpYetIsNoRefusedLogin() {
        assertThat(Infrastructure.loginRefused(new PSQLException("Connection to 127.0.0.1:5 refused.", PSQLState.CONNECTION_UNABLE_TO_CONNECT)))
                .isFalse();
        assertThat(Infrastructure.loginRefused(new PSQLException("FATAL: the database system is starting up", PSQLState.CONNECTION_REJECTED)))
                .isFalse();
        assertThat(Infrastructure.loginRefused(new RuntimeException("no SQL state"))).isFalse();
    }
}
